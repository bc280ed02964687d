//! `message_index` (PostgreSQL migration 0002), the composite's rows for search,
//! unread counts and a channel's last message: written with a new message's offset,
//! undone when its history write failed, put back when a retry finds the message in
//! history after all.

use deadpool_postgres::{Object, Transaction};
use protocol::{Attachment, ChannelId, MessageId, UserId};

use crate::backend::postgres::codec::{id, int};
use crate::backend::postgres::error::PgResultExt;
use crate::backend::postgres::messages::fix_last_message;
use crate::backend::postgres::rows::execute;
use crate::backend::scylla::StoredMessage;
use crate::error::Result;
use crate::ops::messages::NewMessage;

/// A `message_index` row (search, unread counts, last message).
pub(crate) struct IndexRow<'a> {
    id: MessageId,
    channel: ChannelId,
    author: UserId,
    created_at: u64,
    deleted_at: Option<u64>,
    has_attachment: bool,
    offset: u64,
    content: &'a str,
}

impl<'a> IndexRow<'a> {
    /// The row of a new message with its claimed attachments and reserved offset.
    pub(crate) fn new(new: &'a NewMessage, attachments: &[Attachment], offset: u64) -> Self {
        Self {
            id: new.id,
            channel: new.channel_id,
            author: new.author_id,
            created_at: new.created_at,
            deleted_at: None,
            has_attachment: !attachments.is_empty(),
            offset,
            content: &new.content,
        }
    }

    /// The row of a message as history holds it.
    pub(crate) fn stored(message: &'a StoredMessage) -> Self {
        Self {
            id: message.id,
            channel: message.channel_id,
            author: message.author_id,
            created_at: message.created_at,
            deleted_at: message.deleted_at,
            has_attachment: !message.attachments.is_empty(),
            offset: message.offset,
            content: &message.content,
        }
    }

    /// Inserts it; a taken id is `Conflict`, or nothing at all when `heal` (the row
    /// of a message history already has).
    pub(crate) async fn insert(&self, tx: &Transaction<'_>, heal: bool) -> Result<u64> {
        let sql = if heal {
            "INSERT INTO message_index (id, channel_id, author_id, created_at, deleted_at, \
             has_attachment, event_offset, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, to_tsvector('simple', $8)) \
             ON CONFLICT (id) DO NOTHING"
        } else {
            "INSERT INTO message_index (id, channel_id, author_id, created_at, deleted_at, \
             has_attachment, event_offset, search) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, to_tsvector('simple', $8))"
        };
        execute(
            tx,
            sql,
            &[
                &id(self.id),
                &id(self.channel),
                &id(self.author),
                &int(self.created_at),
                &self.deleted_at.map(int),
                &self.has_attachment,
                &int(self.offset),
                &self.content,
            ],
        )
        .await
    }
}

/// Undoes in PostgreSQL what unwritten new messages did there: the index row, the
/// attachments' claim, the channel's last message. `(message, newest offset)`: the
/// newest offset of the batch's events on it (they all failed with it); a row a later
/// event touched is left alone (then the message is in history after all: only a
/// write that reached it makes a later event possible).
pub(crate) async fn undo_creates(
    client: &mut Object,
    messages: &[(&StoredMessage, u64)],
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let tx = client.transaction().await.pg()?;
    for &(message, newest) in messages {
        let (channel, row) = (id(message.channel_id), id(message.id));
        let ours = execute(
            &tx,
            "SELECT 1 FROM message_index WHERE id = $1 AND event_offset <= $2 FOR UPDATE",
            &[&row, &int(newest)],
        )
        .await?;
        if ours == 0 {
            continue;
        }
        // Before the row goes: deleting it deletes its attachments (migration 0002).
        execute(
            &tx,
            "UPDATE attachments SET message_id = NULL, position = 0 WHERE message_id = $1",
            &[&row],
        )
        .await?;
        execute(&tx, "DELETE FROM message_index WHERE id = $1", &[&row]).await?;
        fix_last_message(&tx, channel, row).await?;
    }
    tx.commit().await.pg()
}

/// Puts back what PostgreSQL lacks of a message history has: after a write reported
/// as failed that had in fact landed (a timeout), its create was undone here while the
/// row stayed there. A retry with its nonce finds it (a duplicate) and calls this:
/// the index row, the claim of its attachments and the channel's last message come
/// back. Changes nothing in the usual case (the row is there).
pub(crate) async fn heal_index(tx: &Transaction<'_>, stored: &StoredMessage) -> Result<()> {
    if IndexRow::stored(stored).insert(tx, true).await? == 0 {
        return Ok(());
    }
    let ids: Vec<i64> = stored.attachments.iter().map(|a| id(a.id)).collect();
    execute(
        tx,
        "UPDATE attachments a SET message_id = $2, position = p.position - 1 \
         FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, position) \
         WHERE a.id = p.id AND a.message_id IS NULL",
        &[&ids, &id(stored.id)],
    )
    .await?;
    if stored.deleted_at.is_none() {
        execute(
            tx,
            "UPDATE channels SET last_message_id = GREATEST(COALESCE(last_message_id, 0), $2) \
             WHERE id = $1",
            &[&id(stored.channel_id), &id(stored.id)],
        )
        .await?;
    }
    tracing::info!(message = %stored.id, "index row put back for a message found in history");
    Ok(())
}
