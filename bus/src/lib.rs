//! The bus: how an event made by the API or by a gateway session reaches every
//! gateway session that must deliver it.
//!
//! Writers (the `service` layer) call [`Bus::lock_channel`], store a channel event
//! (storage assigns its offset in the same transaction), [`Bus::publish`] it, then
//! drop the lock: one writer per channel at a time, so events are published in offset
//! order. Gateways [`Bus::subscribe`] and fan publications out to their sessions.
//!
//! [`local::LocalBus`] is the single-process implementation (`layer4 dev`, and a
//! single node). The Redis implementation (cluster mode: offsets from a Lua script,
//! pub/sub across nodes) comes with the cluster issue behind this same trait.
//! The bus never encodes: the gateway encodes each event once for all its recipients.

pub mod local;

use std::sync::Arc;

use async_trait::async_trait;
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};

pub use local::LocalBus;

/// Who receives a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every session of every member of the channel, but those of `except`.
    Channel {
        /// The channel.
        channel: ChannelId,
        /// Users left out (typing: the typist and those who blocked them). Always
        /// empty for channel events, which every member receives.
        except: Vec<UserId>,
    },
    /// Every session of these users.
    Users(Vec<UserId>),
}

/// One event on its way to the gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Who receives it.
    pub target: Target,
    /// The channel offset, for channel events (stamped as `s`).
    pub offset: Option<u64>,
    /// The event.
    pub event: ServerEvent,
}

impl Publication {
    /// A channel event with its offset: every member receives it.
    pub fn channel_event(channel: ChannelId, offset: u64, event: ServerEvent) -> Self {
        Self {
            target: Target::Channel {
                channel,
                except: Vec::new(),
            },
            offset: Some(offset),
            event,
        }
    }

    /// An ephemeral event to the channel's members but `except`.
    pub fn ephemeral(channel: ChannelId, except: Vec<UserId>, event: ServerEvent) -> Self {
        Self {
            target: Target::Channel { channel, except },
            offset: None,
            event,
        }
    }

    /// An event to these users' sessions.
    pub fn to_users(users: Vec<UserId>, event: ServerEvent) -> Self {
        Self {
            target: Target::Users(users),
            offset: None,
            event,
        }
    }
}

/// Proof that the caller is the channel's only writer right now; drop it after
/// publishing.
pub struct ChannelLock {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// A stream of publications for one subscriber (a gateway).
pub type Subscription = tokio::sync::mpsc::UnboundedReceiver<Arc<Publication>>;

/// The bus every event crosses.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Serializes channel-event writers: hold the lock across store and publish.
    async fn lock_channel(&self, channel: ChannelId) -> ChannelLock;
    /// Sends a publication to every subscriber.
    fn publish(&self, publication: Publication);
    /// A new subscriber that receives every publication from now on.
    fn subscribe(&self) -> Subscription;
    /// Whether the bus answers (for `/readyz`).
    async fn ping(&self) -> bool;
}

/// A shared handle to a bus.
pub type DynBus = Arc<dyn Bus>;
