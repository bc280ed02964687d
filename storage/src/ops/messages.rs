//! Messages, their edit audit trail and soft deletes.
//!
//! Every write here is a channel event: it moves the channel offset by one in the same
//! transaction and returns the new offset, so offsets never go back after a restart.

use async_trait::async_trait;
use protocol::{AttachmentId, ChannelId, Message, MessageId, UserId};

use crate::error::Result;

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// A fresh Snowflake.
    pub id: MessageId,
    /// Target channel.
    pub channel_id: ChannelId,
    /// The sender.
    pub author_id: UserId,
    /// Validated content.
    pub content: String,
    /// ms since the epoch.
    pub created_at: u64,
    /// A message of the same channel.
    pub reply_to: Option<MessageId>,
    /// Idempotency key.
    pub nonce: Option<String>,
    /// Attachments uploaded by the author and not yet attached; otherwise
    /// `StoreError::Invalid` naming `attachment_ids` and nothing is stored.
    pub attachment_ids: Vec<AttachmentId>,
}

/// A stored message with its delete mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The message, with attachments and reaction counts.
    pub message: Message,
    /// When it was soft-deleted, if it was.
    pub deleted_at: Option<u64>,
}

/// Which page of history (PROTOCOL.md section 6): at most one cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest `limit`.
    Latest,
    /// The `limit` just before the id.
    Before(MessageId),
    /// The `limit` just after the id.
    After(MessageId),
    /// Up to `limit` centred on the id, itself included.
    Around(MessageId),
}

impl From<protocol::limits::Cursor> for Page {
    fn from(cursor: protocol::limits::Cursor) -> Self {
        use protocol::limits::Cursor;
        match cursor {
            Cursor::Latest => Self::Latest,
            Cursor::Before(id) => Self::Before(id),
            Cursor::After(id) => Self::After(id),
            Cursor::Around(id) => Self::Around(id),
        }
    }
}

/// A previous version of an edited message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The text before the edit.
    pub content: String,
    /// When that text was replaced, ms since the epoch.
    pub edited_at: u64,
}

/// Messages, in CRUD order.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message, attaches its attachments, sets the channel's last message,
    /// and returns it with the offset of its `MESSAGE_RECEIVED` event.
    ///
    /// A `(channel, author, nonce)` that is already stored (deleted or not, however old)
    /// is `StoreError::Conflict` naming `nonce`, and nothing is written: the caller
    /// looks the first message up with [`MessageStore::message_by_nonce`] beforehand,
    /// and this one-item path must not publish an old event again.
    /// [`crate::EventStore::append_events`] answers `Outcome::Duplicate` instead.
    /// `StoreError::NotFound` when the channel does not exist.
    async fn create_message(&self, new: NewMessage) -> Result<(Message, u64)>;
    /// One message, deleted or not.
    async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>>;
    /// The undeleted message `author` sent to `channel` with `nonce` at or after `since`.
    async fn message_by_nonce(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        since: u64,
    ) -> Result<Option<Message>>;
    /// A page of undeleted messages, newest first, at most `limit`.
    async fn messages(&self, channel: ChannelId, page: Page, limit: u32) -> Result<Vec<Message>>;
    /// The previous versions of a message, oldest first.
    async fn edits(&self, id: MessageId) -> Result<Vec<Edit>>;
    /// Replaces the content, keeps the old one in the audit trail, sets `edited_at`.
    /// `None` when the message is absent or deleted.
    async fn edit_message(
        &self,
        id: MessageId,
        content: &str,
        edited_at: u64,
    ) -> Result<Option<(Message, u64)>>;
    /// Soft-deletes; `Some(offset)` of the `MESSAGE_DELETED` event, `None` when absent
    /// or already deleted. Fixes the channel's last message.
    async fn delete_message(&self, id: MessageId, deleted_at: u64) -> Result<Option<u64>>;
}
