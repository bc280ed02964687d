//! Channel mutes, per user.

use async_trait::async_trait;
use protocol::{ChannelId, UserId};

use crate::error::Result;

/// Mutes, in CRUD order.
#[async_trait]
pub trait MuteStore: Send + Sync {
    /// Mutes `channel` for `user` until `until` (ms), or until unmuted (`None`).
    async fn mute(&self, channel: ChannelId, user: UserId, until: Option<u64>) -> Result<()>;
    /// Removes the mute (idempotent).
    async fn unmute(&self, channel: ChannelId, user: UserId) -> Result<()>;
}
