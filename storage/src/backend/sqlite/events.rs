//! `EventStore` for SQLite (provisional: item by item; the group-commit version with one
//! transaction per batch lands with the storage batching work).

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};
use crate::ops::members::MemberStore;
use crate::ops::messages::MessageStore;
use crate::ops::reactions::ReactionStore;

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>> {
        let mut out = Vec::with_capacity(batch.len());
        for write in batch {
            out.push(self.append_one(write).await);
        }
        Ok(out)
    }
}

impl SqliteStore {
    async fn append_one(&self, write: EventWrite) -> Result<Outcome> {
        let event = |offset: Option<u64>| match offset {
            Some(offset) => Outcome::Event {
                offset,
                message: None,
            },
            None => Outcome::Unchanged,
        };
        match write {
            EventWrite::CreateMessage(new) => {
                if let Some(nonce) = &new.nonce {
                    if let Some(first) = self
                        .message_by_nonce(new.channel_id, new.author_id, nonce, 0)
                        .await?
                    {
                        return Ok(Outcome::Duplicate(first));
                    }
                }
                let (message, offset) = self.create_message(new).await?;
                Ok(Outcome::Event {
                    offset,
                    message: Some(message),
                })
            }
            EventWrite::EditMessage {
                id,
                content,
                edited_at,
                ..
            } => match self.edit_message(id, &content, edited_at).await? {
                Some((message, offset)) => Ok(Outcome::Event {
                    offset,
                    message: Some(message),
                }),
                None => Err(StoreError::NotFound("message".into())),
            },
            EventWrite::DeleteMessage { id, deleted_at, .. } => {
                match self.delete_message(id, deleted_at).await? {
                    Some(offset) => Ok(event(Some(offset))),
                    None => Err(StoreError::NotFound("message".into())),
                }
            }
            EventWrite::AddReaction {
                message,
                user,
                emoji,
                max_distinct,
                ..
            } => {
                let max = u32::try_from(max_distinct).unwrap_or(u32::MAX);
                Ok(event(self.add_reaction(message, user, &emoji, max).await?))
            }
            EventWrite::RemoveReaction {
                message,
                user,
                emoji,
                ..
            } => Ok(event(self.remove_reaction(message, user, &emoji).await?)),
            EventWrite::AddMember {
                channel,
                user,
                role,
            } => Ok(event(self.add_member(channel, user, role).await?)),
            EventWrite::RemoveMember { channel, user } => {
                Ok(event(self.remove_member(channel, user).await?))
            }
        }
    }
}
