//! Fanout, per shard: from a bus batch to the queues of the local sessions that must
//! see it. Owned by the shard thread, so nothing here locks.
//!
//! - [`index`]: channel -> local sessions (with the offset delivered so far), user ->
//!   local sessions.
//! - [`encoded`]: each publication framed once per encoding; every recipient gets a
//!   clone of the same `Bytes`.
//!
//! The shard (`crate::shard::deliver`) walks a batch, pushes frames on each
//! recipient's queue, marks it dirty, and flushes every dirty connection once per
//! batch with one vectored write.

pub mod encoded;
pub mod index;
