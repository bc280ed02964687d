//! The chat operations, one file per aggregate, each an `impl Chat` block.
//!
//! Every operation that changes state follows one shape: validate the input, check
//! the caller's permission, take the channel lock (for channel events), store, publish
//! on the bus, answer. This is the only place those writes happen, so the API and the
//! gateway cannot disagree on a rule or forget an event.

pub mod attachments;
pub mod blocks;
pub mod channels;
pub mod dms;
pub mod members;
pub mod messages;
pub mod mutes;
pub mod reactions;
pub mod receipts;
pub mod search;
pub mod session;
pub mod threads;
pub mod typing;
pub mod users;
