//! What a gateway session starts from: the user, their channels and whom they blocked,
//! read together. Not an aggregate of its own: one read over three, so that a
//! reconnect storm pays one trip to storage per IDENTIFY instead of three (the trips,
//! not the queries, were most of identify's cost on SQLite: a thread hand-off each).

use async_trait::async_trait;
use protocol::{Channel, User, UserId};

use crate::error::Result;
use crate::ops::blocks::BlockStore;
use crate::ops::channels::ChannelStore;
use crate::ops::users::UserStore;

/// READY's data.
#[derive(Debug, Clone)]
pub struct SessionStart {
    /// The user (`status` left `None`).
    pub user: User,
    /// Their channels as they see them ([`ChannelStore::channels_for_user`]).
    pub channels: Vec<Channel>,
    /// The ids they blocked ([`BlockStore::blocked_ids`]).
    pub blocked: Vec<UserId>,
}

/// Reads a [`SessionStart`].
#[async_trait]
pub trait SessionStore: UserStore + ChannelStore + BlockStore {
    /// The user's [`SessionStart`]; `None` when the user does not exist. By default
    /// three reads; a backend that can answers in one.
    async fn session_start(&self, user: UserId) -> Result<Option<SessionStart>> {
        let Some(found) = self.user(user).await? else {
            return Ok(None);
        };
        let channels = self.channels_for_user(user).await?;
        let blocked = self.blocked_ids(user).await?;
        Ok(Some(SessionStart {
            user: found,
            channels,
            blocked,
        }))
    }
}
