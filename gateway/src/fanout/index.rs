//! Which local sessions belong to which user and which channel.
//!
//! Maintained from READY (a session's channels) and from the membership events that
//! flow through fanout (`USER_JOINED`, `USER_LEFT`, `CHANNEL_CREATED`,
//! `CHANNEL_DELETED`), so a user who joins through the API starts receiving the
//! channel's events on every connected session at the exact offset of their join.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use protocol::codec::Encoding;
use protocol::{ChannelId, UserId};

use crate::fanout::outbox::Outbox;

/// A session's id within this gateway process.
pub type SessionId = u64;

/// What fanout needs to reach one session.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    /// The identified user.
    pub user: UserId,
    /// The encoding of its frames.
    pub encoding: Encoding,
    /// Its outbound queue.
    pub outbox: Arc<Outbox>,
}

/// Sessions by id, user and channel.
#[derive(Debug, Default)]
pub struct Index {
    sessions: HashMap<SessionId, SessionEntry>,
    by_user: HashMap<UserId, HashSet<SessionId>>,
    by_channel: HashMap<ChannelId, HashSet<SessionId>>,
    channels_of: HashMap<SessionId, HashSet<ChannelId>>,
}

impl Index {
    /// Adds a session subscribed to `channels`.
    pub fn add_session(&mut self, id: SessionId, entry: SessionEntry, channels: &[ChannelId]) {
        self.by_user.entry(entry.user).or_default().insert(id);
        self.sessions.insert(id, entry);
        for &channel in channels {
            self.subscribe(id, channel);
        }
    }

    /// Removes a session from everything.
    pub fn remove_session(&mut self, id: SessionId) {
        let Some(entry) = self.sessions.remove(&id) else {
            return;
        };
        remove_from(&mut self.by_user, entry.user, id);
        for channel in self.channels_of.remove(&id).unwrap_or_default() {
            remove_from(&mut self.by_channel, channel, id);
        }
    }

    /// Subscribes every session of `user` to `channel`.
    pub fn subscribe_user(&mut self, user: UserId, channel: ChannelId) {
        for id in self.by_user.get(&user).cloned().unwrap_or_default() {
            self.subscribe(id, channel);
        }
    }

    /// Unsubscribes every session of `user` from `channel`.
    pub fn unsubscribe_user(&mut self, user: UserId, channel: ChannelId) {
        for id in self.by_user.get(&user).cloned().unwrap_or_default() {
            remove_from(&mut self.by_channel, channel, id);
            if let Some(set) = self.channels_of.get_mut(&id) {
                set.remove(&channel);
            }
        }
    }

    /// Forgets a deleted channel.
    pub fn drop_channel(&mut self, channel: ChannelId) {
        for id in self.by_channel.remove(&channel).unwrap_or_default() {
            if let Some(set) = self.channels_of.get_mut(&id) {
                set.remove(&channel);
            }
        }
    }

    /// The sessions subscribed to `channel`.
    pub fn channel_sessions(&self, channel: ChannelId) -> impl Iterator<Item = &SessionEntry> + '_ {
        self.by_channel
            .get(&channel)
            .into_iter()
            .flatten()
            .filter_map(|id| self.sessions.get(id))
    }

    /// The sessions of `user`.
    pub fn user_sessions(&self, user: UserId) -> impl Iterator<Item = &SessionEntry> + '_ {
        self.by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.sessions.get(id))
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are no sessions.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn subscribe(&mut self, id: SessionId, channel: ChannelId) {
        self.by_channel.entry(channel).or_default().insert(id);
        self.channels_of.entry(id).or_default().insert(channel);
    }
}

fn remove_from<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, HashSet<SessionId>>,
    key: K,
    id: SessionId,
) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: u64) -> SessionEntry {
        SessionEntry {
            user: UserId::new(user),
            encoding: Encoding::MsgPack,
            outbox: Arc::new(Outbox::new(1 << 20)),
        }
    }

    #[test]
    fn membership_follows_users_across_their_sessions() {
        let mut index = Index::default();
        let (c1, c2) = (ChannelId::new(1), ChannelId::new(2));
        index.add_session(10, entry(1), &[c1]);
        index.add_session(11, entry(1), &[c1]);
        index.add_session(20, entry(2), &[c1]);
        assert_eq!(index.channel_sessions(c1).count(), 3);

        index.subscribe_user(UserId::new(1), c2);
        assert_eq!(index.channel_sessions(c2).count(), 2);
        index.unsubscribe_user(UserId::new(1), c1);
        assert_eq!(index.channel_sessions(c1).count(), 1);

        index.remove_session(10);
        assert_eq!(index.channel_sessions(c2).count(), 1);
        assert_eq!(index.user_sessions(UserId::new(1)).count(), 1);
        index.drop_channel(c2);
        assert_eq!(index.channel_sessions(c2).count(), 0);
        index.remove_session(11);
        index.remove_session(20);
        assert!(index.is_empty());
        assert!(index.by_channel.is_empty() && index.by_user.is_empty());
    }
}
