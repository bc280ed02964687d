//! [`History`]: what the composite needs of a history store, as a trait so the same
//! composite runs over ScyllaDB ([`ScyllaHistory`]) and, in tests without a cluster,
//! over [`super::memory::MemoryHistory`] (which can also fail writes on purpose).

use async_trait::async_trait;
use futures_util::future::join_all;
use protocol::{ChannelId, MessageId, UserId};

use crate::backend::scylla::{ScyllaHistory, StoredMessage};
use crate::error::Result;
use crate::ops::messages::{Edit, Page};

/// Messages, edits and reactions, with the semantics of [`ScyllaHistory`]'s methods of
/// the same names (see there); every write carries its event's reserved offset.
#[async_trait]
pub trait History: std::fmt::Debug + Send + Sync {
    /// Whether the store answers.
    async fn ping(&self) -> Result<()>;
    /// The channel of a message ever written.
    async fn channel_of(&self, id: MessageId) -> Result<Option<ChannelId>>;
    /// One message of a known channel, deleted or not, with its reaction counts.
    async fn message_in(&self, channel: ChannelId, id: MessageId) -> Result<Option<StoredMessage>>;
    /// The message that took `nonce` for `author` in `channel`.
    async fn nonce_owner(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
    ) -> Result<Option<MessageId>>;
    /// A page of undeleted messages, newest first.
    async fn messages(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<StoredMessage>>;
    /// Previous versions, oldest first.
    async fn edits(&self, id: MessageId) -> Result<Vec<Edit>>;
    /// Every `(emoji, user)` reaction of a message.
    async fn reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<Vec<(String, UserId)>>;
    /// Writes a new message.
    async fn write_message(&self, message: &StoredMessage) -> Result<()>;
    /// Replaces the content of `current`, keeping the old one in the audit trail.
    async fn write_edit(
        &self,
        current: &StoredMessage,
        content: &str,
        edited_at: u64,
        offset: u64,
    ) -> Result<StoredMessage>;
    /// Soft-deletes a message.
    async fn write_delete(
        &self,
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        offset: u64,
    ) -> Result<()>;
    /// Adds a reaction.
    async fn write_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()>;
    /// Removes a reaction.
    async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()>;
    /// Deletes a channel's history, shadowing everything up to `final_offset`.
    async fn delete_channel(&self, channel: ChannelId, final_offset: u64) -> Result<()>;

    /// One message by id, deleted or not.
    async fn message(&self, id: MessageId) -> Result<Option<StoredMessage>> {
        match self.channel_of(id).await? {
            Some(channel) => self.message_in(channel, id).await,
            None => Ok(None),
        }
    }

    /// Several messages by `(channel, id)`, read concurrently, in the same order
    /// (`None` for one that is absent).
    async fn messages_by_id(
        &self,
        ids: &[(ChannelId, MessageId)],
    ) -> Result<Vec<Option<StoredMessage>>> {
        join_all(
            ids.iter()
                .map(|&(channel, id)| self.message_in(channel, id)),
        )
        .await
        .into_iter()
        .collect()
    }
}

#[async_trait]
impl History for ScyllaHistory {
    async fn ping(&self) -> Result<()> {
        ScyllaHistory::ping(self).await
    }
    async fn channel_of(&self, id: MessageId) -> Result<Option<ChannelId>> {
        ScyllaHistory::channel_of(self, id).await
    }
    async fn message_in(&self, channel: ChannelId, id: MessageId) -> Result<Option<StoredMessage>> {
        ScyllaHistory::message_in(self, channel, id).await
    }
    async fn nonce_owner(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
    ) -> Result<Option<MessageId>> {
        ScyllaHistory::nonce_owner(self, channel, author, nonce).await
    }
    async fn messages(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        ScyllaHistory::messages(self, channel, page, limit).await
    }
    async fn edits(&self, id: MessageId) -> Result<Vec<Edit>> {
        ScyllaHistory::edits(self, id).await
    }
    async fn reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<Vec<(String, UserId)>> {
        ScyllaHistory::reactions(self, channel, message).await
    }
    async fn write_message(&self, message: &StoredMessage) -> Result<()> {
        ScyllaHistory::write_message(self, message).await
    }
    async fn write_edit(
        &self,
        current: &StoredMessage,
        content: &str,
        edited_at: u64,
        offset: u64,
    ) -> Result<StoredMessage> {
        ScyllaHistory::write_edit(self, current, content, edited_at, offset).await
    }
    async fn write_delete(
        &self,
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        offset: u64,
    ) -> Result<()> {
        ScyllaHistory::write_delete(self, channel, id, deleted_at, offset).await
    }
    async fn write_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()> {
        ScyllaHistory::write_reaction(self, channel, message, user, emoji, offset).await
    }
    async fn remove_reaction(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()> {
        ScyllaHistory::remove_reaction(self, channel, message, user, emoji, offset).await
    }
    async fn delete_channel(&self, channel: ChannelId, final_offset: u64) -> Result<()> {
        ScyllaHistory::delete_channel(self, channel, final_offset).await
    }
}
