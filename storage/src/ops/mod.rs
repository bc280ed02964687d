//! One trait per aggregate, methods in CRUD order. Every backend mirrors this layout
//! file for file (`backend/<name>/<aggregate>.rs`).
//!
//! [`events`] is the one trait that is not an aggregate: the batched write of channel
//! events (group commit), built on the same writes as the per-aggregate methods;
//! [`session`] is one read over three aggregates (what IDENTIFY needs).

pub mod attachments;
pub mod blocks;
pub mod channels;
pub mod events;
pub mod members;
pub mod messages;
pub mod mutes;
pub mod reactions;
pub mod receipts;
pub mod search;
pub mod session;
pub mod users;
