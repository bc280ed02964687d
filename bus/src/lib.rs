//! The bus: how committed events and ephemeral events cross from the code that makes
//! them (the service's sequencers, presence, typing) to the gateway shards whose
//! sessions deliver them, within a process or across a cluster.
//!
//! ```text
//!  sequencer (after commit) ──publish(batch)──► Bus ──► Subscription of each shard
//!                                               │       whose topics the batch touches
//!                                               └─ replay ring per channel (recent events)
//! ```
//!
//! - A [`Publication`] carries its event already encoded as the MessagePack envelope
//!   (`{t, d, s?}`), so a receiving node frames the same bytes without encoding again.
//! - Publishers send a batch in order; a channel's committed events are published by
//!   its one sequencer in offset order, so every subscriber sees them in offset order.
//! - Subscribers (one per gateway shard) name the [`Topic`]s they need (a channel, a
//!   user) and receive every batch that touches one of them, whole.
//! - [`Bus::replay`] returns a channel's recent committed events after an offset: a
//!   reconnecting client's replay, and a shard's catch-up after it subscribes.
//!
//! It is not storage: offsets come from the store's commit, the bus only carries and
//! caches. [`local::LocalBus`] serves one process; the Redis implementation (cluster
//! mode) implements the same trait.

// This crate's own tests exercise the raw calls that clippy.toml bans elsewhere.
#![cfg_attr(test, allow(clippy::disallowed_methods))]

pub mod local;
pub mod publication;
pub mod redis;
pub mod ring;

use std::sync::Arc;

use async_trait::async_trait;
use protocol::{ChannelId, UserId};

pub use local::LocalBus;
pub use publication::{Batch, Publication, Target};
pub use redis::{RedisBus, RedisConfig};
pub use ring::{Replay, ReplayRing};

/// What a subscriber listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Every event of a channel (channel events and the channel's ephemeral events).
    Channel(ChannelId),
    /// Events addressed to a user (channel list changes, presence, own receipts).
    User(UserId),
}

/// A subscriber's id on its bus.
pub type SubscriberId = u64;

/// A bus failure.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusError {
    /// The bus is gone (process shutting down) or unreachable: backend fault.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
}

/// A stream of batches for one subscriber, and its id for [`Bus::subscribe`].
#[derive(Debug)]
pub struct Subscription {
    /// The subscriber's id.
    pub id: SubscriberId,
    /// Batches that touch one of its topics, in publication order.
    pub rx: tokio::sync::mpsc::Receiver<Batch>,
    /// Channels whose events may not all reach this subscriber (a cluster node lost
    /// its Redis connection and cannot show it missed nothing): the subscriber makes
    /// the channel's sessions resume.
    pub lost: tokio::sync::mpsc::UnboundedReceiver<ChannelId>,
}

/// The bus every event crosses.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Publishes `batch` in order to every subscriber of a topic it touches, and keeps
    /// its channel events for [`Bus::replay`]. Waits while a subscriber's queue is full
    /// (backpressure on the publisher, never a dropped event).
    async fn publish(&self, batch: Vec<Publication>) -> Result<(), BusError>;
    /// A new subscriber with no topics yet.
    fn subscriber(&self) -> Subscription;
    /// Adds a topic to a subscriber: from this call on it receives the topic's batches.
    fn subscribe(&self, subscriber: SubscriberId, topic: Topic);
    /// Subscribes to a channel whose events the subscriber has up to offset `after`
    /// (the offset it follows from): a cluster node then knows where the channel's
    /// order starts, before any event of it arrives.
    fn subscribe_channel(&self, subscriber: SubscriberId, channel: ChannelId, after: u64) {
        let _ = after;
        self.subscribe(subscriber, Topic::Channel(channel));
    }
    /// Removes a topic from a subscriber.
    fn unsubscribe(&self, subscriber: SubscriberId, topic: Topic);
    /// Forgets a subscriber and its topics.
    fn remove_subscriber(&self, subscriber: SubscriberId);
    /// The channel's committed events after offset `after`, as far as they are kept.
    fn replay(&self, channel: ChannelId, after: u64) -> Replay<Arc<Publication>>;
    /// Makes [`Bus::replay`] answer for `channels` (a session about to register with
    /// them): a cluster node loads their recent events from Redis. In one process the
    /// rings are already there.
    async fn prepare(&self, channels: &[ChannelId]) {
        let _ = channels;
    }
    /// Whether the bus answers (for `/readyz`).
    async fn ping(&self) -> bool;
}

/// A shared handle to a bus.
pub type DynBus = Arc<dyn Bus>;
