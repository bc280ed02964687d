//! Reactions: one per user, message and emoji.

use async_trait::async_trait;
use protocol::{MessageId, UserId};

use crate::error::Result;

/// Reactions, in CRUD order.
#[async_trait]
pub trait ReactionStore: Send + Sync {
    /// Adds a reaction. `Some(offset)` of the `REACTION_ADDED` event, `None` for a
    /// repeat (no event). `StoreError::Invalid` naming `emoji` when the message already
    /// has `max_distinct` distinct emoji and this one is new, or naming `message_id` when
    /// the message is absent or deleted.
    async fn add_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
        max_distinct: u32,
    ) -> Result<Option<u64>>;
    /// Removes a reaction. `Some(offset)` of the `REACTION_REMOVED` event, `None` when
    /// there was none.
    async fn remove_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<Option<u64>>;
}
