//! [`ReactionStore`]: batches of one through [`super::events`], their outcomes mapped
//! onto the one-item contracts.

use async_trait::async_trait;
use protocol::{MessageId, UserId};

use super::PgScyllaStore;
use crate::error::{Result, StoreError};
use crate::ops::events::EventWrite;
use crate::ops::reactions::ReactionStore;

/// The one-item answer for a message that is absent or deleted.
fn no_message() -> StoreError {
    StoreError::Invalid("message_id: no such message".into())
}

#[async_trait]
impl ReactionStore for PgScyllaStore {
    async fn add_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
        max_distinct: u32,
    ) -> Result<Option<u64>> {
        let Some(channel) = self.history.channel_of(message).await? else {
            return Err(no_message());
        };
        let item = EventWrite::AddReaction {
            channel,
            message,
            user,
            emoji: emoji.to_owned(),
            max_distinct: usize::try_from(max_distinct).unwrap_or(usize::MAX),
        };
        match self.one(item).await {
            Ok(outcome) => Ok(outcome.offset()),
            Err(StoreError::NotFound(_)) => Err(no_message()),
            Err(err) => Err(err),
        }
    }

    /// A reaction on a deleted message stays (as a batch's `RemoveReaction` answers,
    /// the message is not found): `None`.
    async fn remove_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<Option<u64>> {
        let Some(channel) = self.history.channel_of(message).await? else {
            return Ok(None);
        };
        let item = EventWrite::RemoveReaction {
            channel,
            message,
            user,
            emoji: emoji.to_owned(),
        };
        match self.one(item).await {
            Ok(outcome) => Ok(outcome.offset()),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}
