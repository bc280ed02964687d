//! [`ReactionStore`] for SQLite.
//!
//! A reaction that changes something moves its message's channel offset in the same
//! transaction; a repeat add or an absent remove changes nothing. The distinct-emoji cap
//! is checked inside the write transaction, so two racing new emoji cannot both slip in.
//!
//! The writes ([`insert_reaction`], [`delete_reaction`]) are shared with batches
//! (`events.rs`); the one-item methods only add their own lookup of the message.

use async_trait::async_trait;
use protocol::{MessageId, UserId};
use rusqlite::{params, Connection};

use super::codec::id;
use super::error::SqlResultExt;
use super::rows::{bump_offset, message_channel};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::reactions::ReactionStore;

/// Adds `user`'s `emoji` to `message` of `channel` (the caller checked that the message
/// is there and undeleted): `Some(offset)`, or `None` for a repeat. `Invalid` naming
/// `emoji` when it would be a new emoji beyond `max_distinct`.
pub(super) fn insert_reaction(
    conn: &Connection,
    message: i64,
    channel: i64,
    user: UserId,
    emoji: &str,
    max_distinct: usize,
) -> Result<Option<u64>> {
    let (present, distinct): (bool, i64) = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND emoji = ?2), \
             (SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message_id = ?1)",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![message, emoji], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
        })
        .store()?;
    if !present && distinct >= i64::try_from(max_distinct).unwrap_or(i64::MAX) {
        return Err(StoreError::Invalid(format!(
            "emoji: a message has at most {max_distinct} distinct emoji"
        )));
    }
    let added = conn
        .prepare_cached(
            "INSERT INTO reactions (message_id, emoji, user_id) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .and_then(|mut stmt| stmt.execute(params![message, emoji, id(user)]))
        .store()?;
    if added == 0 {
        return Ok(None);
    }
    bump_offset(conn, channel).map(Some)
}

/// Removes `user`'s `emoji` from `message` of `channel`: `Some(offset)`, or `None` when
/// there was none.
pub(super) fn delete_reaction(
    conn: &Connection,
    message: i64,
    channel: i64,
    user: UserId,
    emoji: &str,
) -> Result<Option<u64>> {
    let removed = conn
        .prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
        )
        .and_then(|mut stmt| stmt.execute(params![message, emoji, id(user)]))
        .store()?;
    if removed == 0 {
        return Ok(None);
    }
    bump_offset(conn, channel).map(Some)
}

#[async_trait]
impl ReactionStore for SqliteStore {
    async fn add_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
        max_distinct: u32,
    ) -> Result<Option<u64>> {
        let emoji = emoji.to_owned();
        let max_distinct = usize::try_from(max_distinct).unwrap_or(usize::MAX);
        self.write(move |conn| {
            let message = id(message);
            let Some((channel, None)) = message_channel(conn, message)? else {
                return Err(StoreError::Invalid("message_id: no such message".into()));
            };
            insert_reaction(conn, message, id(channel), user, &emoji, max_distinct)
        })
        .await
    }

    async fn remove_reaction(
        &self,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<Option<u64>> {
        let emoji = emoji.to_owned();
        self.write(move |conn| {
            let message = id(message);
            let Some((channel, _)) = message_channel(conn, message)? else {
                return Ok(None);
            };
            delete_reaction(conn, message, id(channel), user, &emoji)
        })
        .await
    }
}
