//! [`MessageStore`] for SQLite.
//!
//! Creating, editing and deleting a message each move the channel offset in the same
//! transaction as the row. Attachments are checked (exist, the author's, not yet
//! attached, listed once) before anything is written, so a bad list stores nothing.
//! Pages use the `(channel_id, id, ...)` index; `around` is two range reads.
//!
//! The writes themselves are plain functions on a connection ([`insert_message`], which
//! appends through [`super::append`], [`update_content`], [`soft_delete`]) so that the
//! one-item methods here and a batch (`events.rs`) run the same code; only the lookups
//! in front of them differ.

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId, UserId};
use rusqlite::{params, Connection};

use super::append::Appender;
pub(super) use super::append::Inserted;
use super::codec::{id, int, to_u64};
use super::error::SqlResultExt;
use super::rows::{bump_offset, load_message, message_channel, message_select, query_messages};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::messages::{Edit, MessageRecord, MessageStore, NewMessage, Page};

/// Stores one new message through an [`Appender`] of its own (the one-item
/// `create_message`): the same write as a batch's, its channel's counters written at once.
pub(super) fn insert_message(conn: &Connection, new: NewMessage) -> Result<Inserted> {
    let mut appender = Appender::default();
    let inserted = appender.insert(conn, new)??;
    appender.flush(conn)?;
    Ok(inserted)
}

/// Replaces the content of the undeleted `message` of `channel` (the caller checked
/// both), keeps the old text in the audit trail, moves the offset; the message as
/// stored and the offset.
pub(super) fn update_content(
    conn: &Connection,
    message: i64,
    channel: i64,
    content: &str,
    edited_at: u64,
) -> Result<(Message, u64)> {
    conn.prepare_cached(
        "INSERT INTO message_edits (message_id, content, edited_at) \
         SELECT id, content, ?2 FROM messages WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute([message, int(edited_at)]))
    .store()?;
    conn.prepare_cached("UPDATE messages SET content = ?2, edited_at = ?3 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![message, content, int(edited_at)]))
        .store()?;
    let offset = bump_offset(conn, channel)?;
    let (edited, _) = load_message(conn, message)?
        .ok_or_else(|| StoreError::Internal("message vanished inside its transaction".into()))?;
    Ok((edited, offset))
}

/// Soft-deletes the undeleted `message` of `channel` (the caller checked both), fixes
/// the channel's last message, moves the offset; the offset.
pub(super) fn soft_delete(
    conn: &Connection,
    message: i64,
    channel: i64,
    deleted_at: u64,
) -> Result<u64> {
    conn.prepare_cached("UPDATE messages SET deleted_at = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([message, int(deleted_at)]))
        .store()?;
    conn.prepare_cached(
        "UPDATE channels SET last_message_id = \
         (SELECT MAX(id) FROM messages WHERE channel_id = ?1 AND deleted_at IS NULL) \
         WHERE id = ?1 AND last_message_id = ?2",
    )
    .and_then(|mut stmt| stmt.execute([channel, message]))
    .store()?;
    bump_offset(conn, channel)
}

/// Adds new messages to the full-text index (migration 0005: not a trigger, so a batch
/// does it once, after its items).
pub(crate) fn index_for_search(conn: &Connection, messages: &[(MessageId, &str)]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached("INSERT INTO messages_fts (rowid, content) VALUES (?1, ?2)")
        .store()?;
    for (message, content) in messages {
        stmt.execute(params![id(*message), content]).store()?;
    }
    Ok(())
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_message(&self, new: NewMessage) -> Result<(Message, u64)> {
        self.write(move |conn| match insert_message(conn, new)? {
            Inserted::New(message, offset) => {
                index_for_search(conn, &[(message.id, message.content.as_str())])?;
                Ok((message, offset))
            }
            Inserted::Duplicate(first) => Err(StoreError::Conflict(format!(
                "nonce: already used for message {}",
                first.id
            ))),
        })
        .await
    }

    async fn message(&self, message: MessageId) -> Result<Option<MessageRecord>> {
        self.read(move |conn| {
            Ok(
                load_message(conn, id(message))?.map(|(message, deleted_at)| MessageRecord {
                    message,
                    deleted_at,
                }),
            )
        })
        .await
    }

    async fn message_by_nonce(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        since: u64,
    ) -> Result<Option<Message>> {
        let nonce = nonce.to_owned();
        self.read(move |conn| {
            let mut found = query_messages(
                conn,
                concat!(
                    message_select!(),
                    "WHERE m.channel_id = ?1 AND m.author_id = ?2 AND m.nonce = ?3 \
                     AND m.created_at >= ?4 AND m.deleted_at IS NULL ORDER BY m.id DESC LIMIT 1"
                ),
                params![id(channel), id(author), nonce, int(since)],
            )?;
            Ok(found.pop())
        })
        .await
    }

    async fn messages(&self, channel: ChannelId, page: Page, limit: u32) -> Result<Vec<Message>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let channel = id(channel);
        self.read(move |conn| match page {
            Page::Latest => query_messages(
                conn,
                concat!(
                    message_select!(),
                    "WHERE m.channel_id = ?1 AND m.deleted_at IS NULL \
                     ORDER BY m.id DESC LIMIT ?2"
                ),
                params![channel, limit],
            ),
            Page::Before(cursor) => before(conn, channel, id(cursor), false, limit),
            Page::After(cursor) => after(conn, channel, id(cursor), limit),
            Page::Around(cursor) => {
                // The newer half first (strictly after), then the older half with the
                // cursor itself; together newest first.
                let newer = (limit - 1) / 2;
                let mut page = after(conn, channel, id(cursor), newer)?;
                page.extend(before(conn, channel, id(cursor), true, limit - newer)?);
                Ok(page)
            }
        })
        .await
    }

    async fn edits(&self, message: MessageId) -> Result<Vec<Edit>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT content, edited_at FROM message_edits WHERE message_id = ?1 ORDER BY id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([id(message)], |row| {
                    Ok(Edit {
                        content: row.get(0)?,
                        edited_at: to_u64(row.get(1)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn edit_message(
        &self,
        message: MessageId,
        content: &str,
        edited_at: u64,
    ) -> Result<Option<(Message, u64)>> {
        let content = content.to_owned();
        self.write(move |conn| {
            let message = id(message);
            let Some((channel, None)) = message_channel(conn, message)? else {
                return Ok(None);
            };
            update_content(conn, message, id(channel), &content, edited_at).map(Some)
        })
        .await
    }

    async fn delete_message(&self, message: MessageId, deleted_at: u64) -> Result<Option<u64>> {
        self.write(move |conn| {
            let message = id(message);
            let Some((channel, None)) = message_channel(conn, message)? else {
                return Ok(None);
            };
            soft_delete(conn, message, id(channel), deleted_at).map(Some)
        })
        .await
    }
}

/// Up to `limit` undeleted messages before `cursor` (or at it, when `inclusive`),
/// newest first.
fn before(
    conn: &Connection,
    channel: i64,
    cursor: i64,
    inclusive: bool,
    limit: u32,
) -> Result<Vec<Message>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let bound = if inclusive {
        cursor.saturating_add(1)
    } else {
        cursor
    };
    query_messages(
        conn,
        concat!(
            message_select!(),
            "WHERE m.channel_id = ?1 AND m.id < ?2 AND m.deleted_at IS NULL \
             ORDER BY m.id DESC LIMIT ?3"
        ),
        params![channel, bound, limit],
    )
}

/// Up to `limit` undeleted messages just after `cursor`, newest first.
fn after(conn: &Connection, channel: i64, cursor: i64, limit: u32) -> Result<Vec<Message>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut page = query_messages(
        conn,
        concat!(
            message_select!(),
            "WHERE m.channel_id = ?1 AND m.id > ?2 AND m.deleted_at IS NULL \
             ORDER BY m.id ASC LIMIT ?3"
        ),
        params![channel, cursor, limit],
    )?;
    page.reverse();
    Ok(page)
}
