//! [`ReactionStore`] for PostgreSQL.
//!
//! A reaction that changes something moves its message's channel offset in the same
//! transaction; a repeat add or an absent remove changes nothing. The distinct-emoji cap
//! is checked after the channel row is locked (callers lock it: a batch up front, the
//! one-item method with [`lock_channel`]), so two racing new emoji cannot both slip in.
//!
//! The writes ([`insert_reaction`], [`delete_reaction`]) are shared with batches
//! (`events.rs`); the one-item methods only add their own lookup of the message.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use protocol::{MessageId, UserId};

use super::codec::{count, get, id};
use super::error::PgResultExt;
use super::rows::{bump_offset, execute, message_channel, query_one};
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::reactions::ReactionStore;

/// Locks a channel row until the transaction ends (the writers of one channel queue
/// here, as they do on the offset update).
pub(super) async fn lock_channel<C: GenericClient + Sync>(c: &C, channel: i64) -> Result<()> {
    execute(
        c,
        "SELECT 1 FROM channels WHERE id = $1 FOR NO KEY UPDATE",
        &[&channel],
    )
    .await?;
    Ok(())
}

/// Adds `user`'s `emoji` to `message` of `channel` (the caller checked that the message
/// is there and undeleted, and locked the channel): `Some(offset)`, or `None` for a
/// repeat. `Invalid` naming `emoji` when it would be a new emoji beyond `max_distinct`.
pub(super) async fn insert_reaction<C: GenericClient + Sync>(
    c: &C,
    message: i64,
    channel: i64,
    user: UserId,
    emoji: &str,
    max_distinct: usize,
) -> Result<Option<u64>> {
    let row = query_one(
        c,
        "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id = $1 AND emoji = $2), \
         (SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message_id = $1)",
        &[&message, &emoji],
    )
    .await?;
    let (present, distinct): (bool, i64) = (get(&row, 0)?, get(&row, 1)?);
    if !present && distinct >= count(max_distinct) {
        return Err(StoreError::Invalid(format!(
            "emoji: a message has at most {max_distinct} distinct emoji"
        )));
    }
    let added = execute(
        c,
        "INSERT INTO reactions (message_id, emoji, user_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[&message, &emoji, &id(user)],
    )
    .await?;
    if added == 0 {
        return Ok(None);
    }
    bump_offset(c, channel).await.map(Some)
}

/// Removes `user`'s `emoji` from `message` of `channel`: `Some(offset)`, or `None` when
/// there was none.
pub(super) async fn delete_reaction<C: GenericClient + Sync>(
    c: &C,
    message: i64,
    channel: i64,
    user: UserId,
    emoji: &str,
) -> Result<Option<u64>> {
    let removed = execute(
        c,
        "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3",
        &[&message, &emoji, &id(user)],
    )
    .await?;
    if removed == 0 {
        return Ok(None);
    }
    bump_offset(c, channel).await.map(Some)
}

#[async_trait]
impl ReactionStore for PostgresStore {
    async fn add_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
        max_distinct: u32,
    ) -> Result<Option<u64>> {
        let max_distinct = usize::try_from(max_distinct).unwrap_or(usize::MAX);
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let message = id(message);
        let Some((channel, None)) = message_channel(&tx, message).await? else {
            return Err(StoreError::Invalid("message_id: no such message".into()));
        };
        lock_channel(&tx, id(channel)).await?;
        // Deleted while we waited for the lock: as if it had been deleted before.
        let Some((_, None)) = message_channel(&tx, message).await? else {
            return Err(StoreError::Invalid("message_id: no such message".into()));
        };
        let offset = insert_reaction(&tx, message, id(channel), user, emoji, max_distinct).await?;
        tx.commit().await.pg()?;
        Ok(offset)
    }

    async fn remove_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<Option<u64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let message = id(message);
        let Some((channel, _)) = message_channel(&tx, message).await? else {
            return Ok(None);
        };
        let offset = delete_reaction(&tx, message, id(channel), user, emoji).await?;
        tx.commit().await.pg()?;
        Ok(offset)
    }
}
