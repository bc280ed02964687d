//! Which local sessions follow which channel, and which belong to which user; the
//! offset up to which the shard has delivered each followed channel.
//!
//! Owned by one shard thread (no lock). Maintained from READY and from the membership
//! events fanout delivers (`USER_JOINED`, `USER_LEFT`, `CHANNEL_CREATED`,
//! `CHANNEL_DELETED`). A channel is followed while at least one local session follows
//! it; the shard subscribes its bus topic for exactly that long.

use std::collections::HashMap;

use indexmap::IndexSet;
use protocol::{ChannelId, UserId};

/// A connection's key in its shard's connection table.
pub type ConnKey = usize;

/// One followed channel.
#[derive(Debug, Default)]
pub struct Followed {
    /// The offset of the last channel event delivered (or skipped as already known).
    pub last: u64,
    /// Its local sessions (a set with dense iteration: fanout walks it per event).
    pub sessions: IndexSet<ConnKey>,
}

/// Sessions by channel and by user.
#[derive(Debug, Default)]
pub struct Index {
    channels: HashMap<ChannelId, Followed>,
    users: HashMap<UserId, Vec<ConnKey>>,
}

impl Index {
    /// Adds a session of `user`; `true` when it is the user's first here.
    pub fn add_user(&mut self, user: UserId, key: ConnKey) -> bool {
        let sessions = self.users.entry(user).or_default();
        sessions.push(key);
        sessions.len() == 1
    }

    /// Removes a session of `user`; `true` when it was the user's last here.
    pub fn remove_user(&mut self, user: UserId, key: ConnKey) -> bool {
        let Some(sessions) = self.users.get_mut(&user) else {
            return false;
        };
        sessions.retain(|k| *k != key);
        if sessions.is_empty() {
            self.users.remove(&user);
            return true;
        }
        false
    }

    /// The sessions of `user`.
    pub fn user_sessions(&self, user: UserId) -> &[ConnKey] {
        self.users.get(&user).map_or(&[], Vec::as_slice)
    }

    /// The followed channel, if any local session follows it.
    pub fn channel(&self, channel: ChannelId) -> Option<&Followed> {
        self.channels.get(&channel)
    }

    /// The followed channel, mutably.
    pub fn channel_mut(&mut self, channel: ChannelId) -> Option<&mut Followed> {
        self.channels.get_mut(&channel)
    }

    /// Starts following `channel` at `offset` if no local session did; `true` when it
    /// is new (subscribe its topic).
    pub fn follow_channel(&mut self, channel: ChannelId, offset: u64) -> bool {
        let mut new = false;
        self.channels.entry(channel).or_insert_with(|| {
            new = true;
            Followed {
                last: offset,
                sessions: IndexSet::new(),
            }
        });
        new
    }

    /// Adds a session to a followed channel (call [`Self::follow_channel`] first).
    pub fn add_session(&mut self, channel: ChannelId, key: ConnKey) {
        if let Some(followed) = self.channels.get_mut(&channel) {
            followed.sessions.insert(key);
        }
    }

    /// Removes a session from a channel; `true` when nobody here follows it any more
    /// (unsubscribe its topic).
    pub fn remove_session(&mut self, channel: ChannelId, key: ConnKey) -> bool {
        let Some(followed) = self.channels.get_mut(&channel) else {
            return false;
        };
        followed.sessions.swap_remove(&key);
        if followed.sessions.is_empty() {
            self.channels.remove(&channel);
            return true;
        }
        false
    }

    /// Whether a session follows a channel.
    pub fn follows(&self, channel: ChannelId, key: ConnKey) -> bool {
        self.channels
            .get(&channel)
            .is_some_and(|f| f.sessions.contains(&key))
    }

    /// Number of followed channels.
    pub fn channels_len(&self) -> usize {
        self.channels.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_followed_while_a_session_follows_them() {
        let mut index = Index::default();
        let c = ChannelId::new(1);
        assert!(index.follow_channel(c, 5));
        assert!(!index.follow_channel(c, 9), "already followed: offset kept");
        index.add_session(c, 10);
        index.add_session(c, 11);
        assert_eq!(index.channel(c).map(|f| f.last), Some(5));
        assert!(index.follows(c, 10));
        assert!(!index.remove_session(c, 10));
        assert!(index.remove_session(c, 11), "last one: unfollow");
        assert!(index.channel(c).is_none());
        assert!(!index.remove_session(c, 11));
    }

    #[test]
    fn users_know_their_first_and_last_session() {
        let mut index = Index::default();
        let u = UserId::new(1);
        assert!(index.add_user(u, 1));
        assert!(!index.add_user(u, 2));
        assert_eq!(index.user_sessions(u), [1, 2]);
        assert!(!index.remove_user(u, 1));
        assert!(index.remove_user(u, 2));
        assert!(index.user_sessions(u).is_empty());
    }
}
