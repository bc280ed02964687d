//! Channels: DMs, groups and threads.
//!
//! Two views: [`ChannelRecord`] is the channel itself; [`protocol::Channel`] is the
//! channel as one user sees it (DM name, unread count, mute, read position).

use async_trait::async_trait;
use protocol::{Channel, ChannelId, ChannelKind, MessageId, UserId, Visibility};

use crate::error::Result;

/// The channel itself, the same for every viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// Id.
    pub id: ChannelId,
    /// DM, group or thread.
    pub kind: ChannelKind,
    /// Group or thread name; empty for a DM.
    pub name: String,
    /// Public or private.
    pub visibility: Visibility,
    /// A thread's parent channel.
    pub parent_id: Option<ChannelId>,
    /// The message a thread was started from.
    pub root_message_id: Option<MessageId>,
    /// Who created it.
    pub owner_id: UserId,
    /// Current member count.
    pub member_count: u32,
    /// Newest undeleted message.
    pub last_message_id: Option<MessageId>,
    /// Current channel offset: the offset of the newest channel event (0 for none).
    pub offset: u64,
    /// ms since the epoch.
    pub created_at: u64,
}

/// A group or thread to create.
#[derive(Debug, Clone)]
pub struct NewChannel {
    /// A fresh Snowflake.
    pub id: ChannelId,
    /// `Group` or `Thread` (DMs go through [`ChannelStore::create_dm`]).
    pub kind: ChannelKind,
    /// Name, validated.
    pub name: String,
    /// Visibility.
    pub visibility: Visibility,
    /// Parent channel of a thread.
    pub parent_id: Option<ChannelId>,
    /// Root message of a thread.
    pub root_message_id: Option<MessageId>,
    /// The creator, who becomes its owner.
    pub owner_id: UserId,
    /// Further initial members (role member); the owner and duplicates are skipped.
    pub member_ids: Vec<UserId>,
    /// ms since the epoch.
    pub created_at: u64,
}

/// Channels, in CRUD order.
#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Creates a group or thread with its owner and initial members, in one
    /// transaction, at offset 0 (joining at creation is no channel event).
    /// `StoreError::Invalid` when a member id names no user.
    async fn create_channel(&self, new: NewChannel) -> Result<ChannelRecord>;
    /// The DM between `a` and `b`: created with `id` when there is none (then `true`),
    /// else the existing one (`false`). Atomic: two racing calls get the same DM.
    async fn create_dm(
        &self,
        id: ChannelId,
        a: UserId,
        b: UserId,
        created_at: u64,
    ) -> Result<(ChannelRecord, bool)>;
    /// The channel record.
    async fn channel(&self, id: ChannelId) -> Result<Option<ChannelRecord>>;
    /// The channel as `viewer` sees it (works for non-members too: unread 0, not muted).
    async fn channel_for(&self, id: ChannelId, viewer: UserId) -> Result<Option<Channel>>;
    /// The channel as each of its members sees it, by member id, in one read (what a
    /// change of the channel sends to each member, without one read per member).
    async fn member_views(&self, id: ChannelId) -> Result<Vec<(UserId, Channel)>>;
    /// The ids of the threads of `parent`, by id.
    async fn thread_ids(&self, parent: ChannelId) -> Result<Vec<ChannelId>>;
    /// Every channel `user` is a member of, as they see them, newest activity first.
    async fn channels_for_user(&self, user: UserId) -> Result<Vec<Channel>>;
    /// Public groups whose name contains `query` (case-insensitive; empty matches all),
    /// as `viewer` sees them, at most `limit`, by name.
    async fn public_channels(
        &self,
        viewer: UserId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Channel>>;
    /// Renames and/or changes visibility; `None` when the channel does not exist.
    async fn update_channel(
        &self,
        id: ChannelId,
        name: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Option<ChannelRecord>>;
    /// Deletes a channel with its members, messages and threads; `false` if absent.
    async fn delete_channel(&self, id: ChannelId) -> Result<bool>;
}
