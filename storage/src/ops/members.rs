//! Channel members and their roles.
//!
//! Joining and leaving are channel events: each one that changes membership moves the
//! channel offset by one, in the same transaction, and returns the new offset.

use async_trait::async_trait;
use protocol::{ChannelId, Member, Role, UserId};

use crate::error::Result;

/// Members, in CRUD order.
#[async_trait]
pub trait MemberStore: Send + Sync {
    /// Adds `user` with `role`. `Some(offset)` of the `USER_JOINED` event, or `None`
    /// when they were already a member (no event).
    async fn add_member(&self, channel: ChannelId, user: UserId, role: Role)
        -> Result<Option<u64>>;
    /// The member's role, `None` for a non-member.
    async fn member_role(&self, channel: ChannelId, user: UserId) -> Result<Option<Role>>;
    /// Members with ids after `after`, by user id, at most `limit`.
    async fn members(
        &self,
        channel: ChannelId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Member>>;
    /// Every member's id (fanout, presence).
    async fn member_ids(&self, channel: ChannelId) -> Result<Vec<UserId>>;
    /// Users who share with `user` a DM, or a channel of at most `max_members`
    /// members (presence audience), without `user`.
    async fn contacts(&self, user: UserId, max_members: u32) -> Result<Vec<UserId>>;
    /// Removes `user`. `Some(offset)` of the `USER_LEFT` event, or `None` when they
    /// were not a member.
    async fn remove_member(&self, channel: ChannelId, user: UserId) -> Result<Option<u64>>;
}
