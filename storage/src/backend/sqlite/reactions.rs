//! [`ReactionStore`] for SQLite.
//!
//! A reaction that changes something moves its message's channel offset in the same
//! transaction; a repeat add or an absent remove changes nothing. The distinct-emoji cap
//! is checked inside the write transaction, so two racing new emoji cannot both slip in.

use async_trait::async_trait;
use protocol::{MessageId, UserId};
use rusqlite::params;

use super::codec::id;
use super::error::SqlResultExt;
use super::rows::{bump_offset, message_channel};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::reactions::ReactionStore;

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
        self.write(move |conn| {
            let message = id(message);
            let Some((channel, None)) = message_channel(conn, message)? else {
                return Err(StoreError::Invalid("message_id: no such message".into()));
            };
            let (present, distinct): (bool, i64) = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM reactions WHERE message_id = ?1 AND emoji = ?2), \
                     (SELECT COUNT(DISTINCT emoji) FROM reactions WHERE message_id = ?1)",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![message, emoji], |row| Ok((row.get(0)?, row.get(1)?)))
                })
                .store()?;
            if !present && distinct >= i64::from(max_distinct) {
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
            bump_offset(conn, id(channel)).map(Some)
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
            let removed = conn
                .prepare_cached(
                    "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
                )
                .and_then(|mut stmt| stmt.execute(params![message, emoji, id(user)]))
                .store()?;
            if removed == 0 {
                return Ok(None);
            }
            bump_offset(conn, id(channel)).map(Some)
        })
        .await
    }
}
