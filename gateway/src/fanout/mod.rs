//! Fanout: from a bus publication to the outboxes of the local sessions that must see it.
//!
//! [`Router::deliver`] encodes each event once per encoding ([`encoded`]), records
//! channel events in their channel's replay buffer ([`channel`]), keeps the session
//! index current with membership events ([`index`]), and queues the same frame bytes
//! on every recipient's [`outbox`]. [`Router::register`] adds a session and queues its
//! replay under the same lock, so replayed and live events meet with no gap and no
//! duplicate.
//!
//! The state sits behind one mutex while the gateway runs one dispatcher; the sharding
//! issue gives each shard its own router and removes the lock from the hot path.

pub mod channel;
pub mod encoded;
pub mod index;
pub mod outbox;

use std::collections::BTreeMap;
use std::sync::Arc;

use bus::{Publication, Target};
use parking_lot::Mutex;
use protocol::events::ServerEvent;
use protocol::ChannelId;

use crate::fanout::channel::Channels;
use crate::fanout::encoded::EncodedEvent;
use crate::fanout::index::{Index, SessionEntry, SessionId};
use crate::fanout::outbox::Pushed;

#[derive(Debug)]
struct State {
    index: Index,
    channels: Channels,
}

/// The fanout state of this gateway.
#[derive(Debug)]
pub struct Router {
    state: Mutex<State>,
}

/// A user already has as many sessions as allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManySessions;

/// The result of registering a session.
#[derive(Debug, Default)]
pub struct Registered {
    /// Channels from `positions` that could not be replayed.
    pub resync: Vec<ChannelId>,
    /// Number of replayed events queued.
    pub replayed: usize,
}

impl Router {
    /// A router whose channels keep their last `replay_capacity` events.
    pub fn new(replay_capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                index: Index::default(),
                channels: Channels::new(replay_capacity),
            }),
        }
    }

    /// Adds an identified session subscribed to `channels` (id with the offset READY
    /// announces), and queues on its outbox what it missed after `positions` (channels
    /// it is not a member of are ignored). The caller sends READY with the returned
    /// `resync` before it forwards anything from the outbox.
    ///
    /// Refused when the user already has `max_sessions` sessions here.
    pub fn register(
        &self,
        id: SessionId,
        entry: SessionEntry,
        channels: &[(ChannelId, u64)],
        positions: &BTreeMap<ChannelId, u64>,
        max_sessions: usize,
    ) -> Result<Registered, TooManySessions> {
        let mut state = self.state.lock();
        if state.index.user_sessions(entry.user).count() >= max_sessions {
            return Err(TooManySessions);
        }
        let mut registered = Registered::default();
        // A channel without a position starts at the offset READY announced, so an
        // event published between loading READY and this call is replayed, not lost.
        for &(channel, current) in channels {
            let position = positions.get(&channel).copied().unwrap_or(current);
            match state.channels.replay(channel, position, current) {
                Some(events) => {
                    for event in events {
                        registered.replayed += 1;
                        if entry
                            .outbox
                            .push(event.frame(entry.encoding), event.priority())
                            == Pushed::Overflowed
                        {
                            break;
                        }
                    }
                }
                None => registered.resync.push(channel),
            }
        }
        let ids: Vec<ChannelId> = channels.iter().map(|(c, _)| *c).collect();
        state.index.add_session(id, entry, &ids);
        Ok(registered)
    }

    /// Removes a session.
    pub fn unregister(&self, id: SessionId) {
        self.state.lock().index.remove_session(id);
    }

    /// Number of registered sessions.
    pub fn sessions(&self) -> usize {
        self.state.lock().index.len()
    }

    /// Delivers one publication to every local recipient.
    pub fn deliver(&self, publication: Arc<Publication>) {
        let event = Arc::new(EncodedEvent::new(publication));
        let publication = event.publication();
        let priority = event.priority();
        let mut state = self.state.lock();
        let State { index, channels } = &mut *state;
        let push = |entry: &SessionEntry| {
            if entry.outbox.push(event.frame(entry.encoding), priority) == Pushed::Overflowed {
                metrics::counter!("gateway_slow_consumers_total").increment(1);
            }
        };
        match &publication.target {
            Target::Channel { channel, except } => {
                let channel = *channel;
                if let Some(offset) = publication.offset {
                    channels.record(channel, offset, event.clone());
                }
                if let ServerEvent::UserJoined(joined) = &publication.event {
                    index.subscribe_user(joined.user.id, channel);
                }
                for entry in index.channel_sessions(channel) {
                    if !except.contains(&entry.user) {
                        push(entry);
                    }
                }
                match &publication.event {
                    ServerEvent::UserLeft(left) => index.unsubscribe_user(left.user_id, channel),
                    ServerEvent::ChannelDeleted(_) => {
                        index.drop_channel(channel);
                        channels.forget(channel);
                    }
                    _ => {}
                }
            }
            Target::Users(users) => {
                if let ServerEvent::ChannelCreated(created) = &publication.event {
                    for &user in users {
                        index.subscribe_user(user, created.channel.id);
                    }
                }
                for &user in users {
                    index.user_sessions(user).for_each(push);
                }
                if let ServerEvent::ChannelDeleted(deleted) = &publication.event {
                    for &user in users {
                        index.unsubscribe_user(user, deleted.channel_id);
                    }
                    channels.forget(deleted.channel_id);
                }
            }
        }
    }
}
