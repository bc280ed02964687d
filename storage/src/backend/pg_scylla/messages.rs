//! [`MessageStore`]: reads from ScyllaDB (authors resolved in PostgreSQL); writes are
//! batches of one through [`super::events`], their outcomes mapped onto the one-item
//! contracts.

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId, UserId};

use super::PgScyllaStore;
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};
use crate::ops::messages::{Edit, MessageRecord, MessageStore, NewMessage, Page};

impl PgScyllaStore {
    /// Runs one event as a batch of one: its outcome.
    pub(crate) async fn one(&self, item: EventWrite) -> Result<Outcome> {
        // The one-item methods are this store's own writes, the same path as a batch.
        #[allow(clippy::disallowed_methods)]
        self.append_events(vec![item])
            .await?
            .pop()
            .unwrap_or_else(|| {
                Err(StoreError::Internal(
                    "a batch of one answered nothing".into(),
                ))
            })
    }
}

/// `Some((message, offset))` of an event, `None` otherwise.
fn message_event(outcome: Outcome) -> Result<Option<(Message, u64)>> {
    match outcome {
        Outcome::Event {
            offset,
            message: Some(message),
        } => Ok(Some((message, offset))),
        Outcome::Event { message: None, .. } => Err(StoreError::Internal(
            "a message event without its message".into(),
        )),
        Outcome::Unchanged | Outcome::Duplicate(_) => Ok(None),
    }
}

#[async_trait]
impl MessageStore for PgScyllaStore {
    async fn create_message(&self, new: NewMessage) -> Result<(Message, u64)> {
        match self.one(EventWrite::CreateMessage(new)).await? {
            Outcome::Duplicate(first) => Err(StoreError::Conflict(format!(
                "nonce: already used for message {}",
                first.id
            ))),
            outcome => message_event(outcome)?
                .ok_or_else(|| StoreError::Internal("a new message changed nothing".into())),
        }
    }

    async fn message(&self, id: MessageId) -> Result<Option<MessageRecord>> {
        let Some(stored) = self.history.message(id).await? else {
            return Ok(None);
        };
        let deleted_at = stored.deleted_at;
        let message = self.with_authors(vec![stored]).await?.pop();
        Ok(message.map(|message| MessageRecord {
            message,
            deleted_at,
        }))
    }

    async fn message_by_nonce(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        since: u64,
    ) -> Result<Option<Message>> {
        let Some(first) = self.history.nonce_owner(channel, author, nonce).await? else {
            return Ok(None);
        };
        let found =
            self.history.message_in(channel, first).await?.filter(|m| {
                m.deleted_at.is_none() && m.created_at >= since && m.author_id == author
            });
        Ok(self.with_authors(found.into_iter().collect()).await?.pop())
    }

    async fn messages(&self, channel: ChannelId, page: Page, limit: u32) -> Result<Vec<Message>> {
        let stored = self.history.messages(channel, page, limit).await?;
        self.with_authors(stored).await
    }

    async fn edits(&self, id: MessageId) -> Result<Vec<Edit>> {
        self.history.edits(id).await
    }

    async fn edit_message(
        &self,
        id: MessageId,
        content: &str,
        edited_at: u64,
    ) -> Result<Option<(Message, u64)>> {
        let Some(channel) = self.history.channel_of(id).await? else {
            return Ok(None);
        };
        let item = EventWrite::EditMessage {
            channel,
            id,
            content: content.to_owned(),
            edited_at,
        };
        match self.one(item).await {
            Ok(outcome) => message_event(outcome),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn delete_message(&self, id: MessageId, deleted_at: u64) -> Result<Option<u64>> {
        let Some(channel) = self.history.channel_of(id).await? else {
            return Ok(None);
        };
        let item = EventWrite::DeleteMessage {
            channel,
            id,
            deleted_at,
        };
        match self.one(item).await {
            Ok(outcome) => Ok(outcome.offset()),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}
