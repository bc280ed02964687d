//! [`MessageStore`] for SQLite.
//!
//! Creating, editing and deleting a message each move the channel offset in the same
//! transaction as the row. Attachments are checked (exist, the author's, not yet
//! attached, listed once) before anything is written, so a bad list stores nothing.
//! Pages use the `(channel_id, id, ...)` index; `around` is two range reads.
//!
//! The writes themselves are plain functions on a connection ([`insert_message`],
//! [`update_content`], [`soft_delete`]) so that the one-item methods here and a batch
//! (`events.rs`) run the same code; only the lookups in front of them differ.

use std::collections::HashSet;

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId, UserId};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{id, int, new_id, to_u64};
use super::error::SqlResultExt;
use super::rows::{
    bump_offset, load_message, load_user, message_channel, message_select, query_messages,
};
use super::view::no_channel;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::messages::{Edit, MessageRecord, MessageStore, NewMessage, Page};

/// The attachments of a new message, checked, in the order the sender listed them.
fn claim_attachments(conn: &Connection, new: &NewMessage) -> Result<Vec<protocol::Attachment>> {
    if new.attachment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(new.attachment_ids.len());
    let mut stmt = conn
        .prepare_cached(
            "SELECT uploader_id, message_id, id, filename, content_type, size, url, width, height, \
             thumbnail_url FROM attachments WHERE id = ?1",
        )
        .store()?;
    for &attachment in &new.attachment_ids {
        if !seen.insert(attachment) {
            return Err(StoreError::Invalid(format!(
                "attachment_ids: {attachment} is listed twice"
            )));
        }
        let row = stmt
            .query_row([id(attachment)], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<i64>>(1)?,
                    super::rows::attachment_from(row, 2)?,
                ))
            })
            .optional()
            .store()?;
        out.push(crate::backend::claimable(
            attachment,
            row,
            id(new.author_id),
        )?);
    }
    Ok(out)
}

/// What [`insert_message`] did.
pub(super) enum Inserted {
    /// Stored, with the offset of its `MESSAGE_RECEIVED` event.
    New(Message, u64),
    /// Its `(channel, author, nonce)` was already stored: that message, unchanged.
    Duplicate(Message),
}

/// Stores a new message (the one write behind `create_message` and a batch's
/// `CreateMessage`): the nonce check, attachments, the channel's offset and last
/// message, the row.
pub(super) fn insert_message(conn: &Connection, new: NewMessage) -> Result<Inserted> {
    let message = new_id(new.id, "id")?;
    let channel = id(new.channel_id);
    if let Some(nonce) = &new.nonce {
        // Checked first, in the same transaction; the unique index is the backstop.
        let first = conn
            .prepare_cached(
                "SELECT id FROM messages WHERE channel_id = ?1 AND author_id = ?2 AND nonce = ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![channel, id(new.author_id), nonce], |row| {
                    row.get::<_, i64>(0)
                })
                .optional()
            })
            .store()?;
        if let Some(first) = first {
            let (stored, _) = load_message(conn, first)?.ok_or_else(|| {
                StoreError::Internal("message vanished inside its transaction".into())
            })?;
            return Ok(Inserted::Duplicate(stored));
        }
    }
    let attachments = claim_attachments(conn, &new)?;
    let author = load_user(conn, id(new.author_id))?
        .ok_or_else(|| StoreError::Invalid("author_id: no such user".into()))?;
    let (offset, count) = conn
        .prepare_cached(
            "UPDATE channels SET event_offset = event_offset + 1, \
             last_message_id = MAX(COALESCE(last_message_id, 0), ?2), \
             message_count = message_count + 1 \
             WHERE id = ?1 RETURNING event_offset, message_count",
        )
        .and_then(|mut stmt| {
            stmt.query_row([channel, message], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })
            .optional()
        })
        .store()?
        .ok_or_else(no_channel)?;
    let offset = to_u64(offset);
    let (ordinal, author_ordinal) =
        next_ordinals(conn, channel, id(new.author_id), message, count)?;
    conn.prepare_cached(
        "INSERT INTO messages (id, channel_id, author_id, content, created_at, reply_to, \
         nonce, event_offset, ordinal, author_ordinal) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            message,
            channel,
            id(new.author_id),
            new.content,
            int(new.created_at),
            new.reply_to.map(id),
            new.nonce,
            int(offset),
            ordinal,
            author_ordinal,
        ])
    })
    .store()?;
    if !attachments.is_empty() {
        let mut stmt = conn
            .prepare_cached("UPDATE attachments SET message_id = ?2, position = ?3 WHERE id = ?1")
            .store()?;
        for (position, attachment) in attachments.iter().enumerate() {
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            stmt.execute([id(attachment.id), message, position])
                .store()?;
        }
    }
    Ok(Inserted::New(
        Message {
            id: new.id,
            channel_id: new.channel_id,
            author,
            content: new.content,
            created_at: new.created_at,
            edited_at: None,
            reply_to: new.reply_to,
            attachments,
            reactions: Vec::new(),
            nonce: new.nonce,
        },
        offset,
    ))
}

/// The ordinals of a new `message` of `channel` by `author` (migration 0004): its 1-based
/// position by id among all the channel's messages, deleted or not, and among the
/// author's; `count` is the channel's message count with it included. Normally the
/// newest id, so two index seeks: the predecessors' ordinals + 1 (the first being
/// `count`). An id older than the channel's newest moves the messages after it up by
/// one, so ordinals stay dense and in id order.
fn next_ordinals(
    conn: &Connection,
    channel: i64,
    author: i64,
    message: i64,
    count: i64,
) -> Result<(i64, i64)> {
    let ordinal = 1 + conn
        .prepare_cached(
            "SELECT ordinal FROM messages WHERE channel_id = ?1 AND id < ?2 \
             ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([channel, message], |row| row.get::<_, i64>(0))
                .optional()
        })
        .store()?
        .unwrap_or(0);
    let author_ordinal = 1 + conn
        .prepare_cached(
            "SELECT author_ordinal FROM messages WHERE channel_id = ?1 AND author_id = ?2 \
             AND id < ?3 ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([channel, author, message], |row| row.get::<_, i64>(0))
                .optional()
        })
        .store()?
        .unwrap_or(0);
    if ordinal < count {
        conn.prepare_cached(
            "UPDATE messages SET ordinal = ordinal + 1, \
             author_ordinal = author_ordinal + (author_id = ?2) \
             WHERE channel_id = ?1 AND id > ?3",
        )
        .and_then(|mut stmt| stmt.execute([channel, author, message]))
        .store()?;
    }
    Ok((ordinal, author_ordinal))
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
/// does it once, after its savepoints).
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
