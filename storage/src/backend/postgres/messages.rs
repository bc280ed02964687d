//! [`MessageStore`] for PostgreSQL.
//!
//! Creating, editing and deleting a message each move the channel offset in the same
//! transaction as the row. Attachments are checked (exist, the author's, not yet
//! attached, listed once) before anything is written, so a bad list stores nothing.
//! Pages use `messages_channel (channel_id, id)`; `around` is two range reads. The
//! search vector is a generated column, so every write keeps it current.
//!
//! The writes are plain functions on a transaction ([`insert_message`],
//! [`update_content`], [`soft_delete`]) so that the one-item methods here and a batch
//! (`events.rs`) run the same code; only the lookups in front of them differ. A new
//! message is two steps, [`prepare_message`] (checks, no write) then [`reserve`] (the
//! channel's offset) and [`write_message`] (the rows), so that the rows could be
//! written to another store than the offsets.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use protocol::{Attachment, ChannelId, Message, MessageId, User, UserId};

use super::codec::{get, id, int, new_id, to_u64};
use super::error::PgResultExt;
use super::rows::{
    attachment_from, bump_offset, execute, load_message, load_user, message_channel,
    message_select, query, query_messages, query_opt,
};
use super::view::no_channel;
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::messages::{Edit, MessageRecord, MessageStore, NewMessage, Page};

/// The attachments of a new message, checked, in the order the sender listed them.
pub(crate) async fn claim_attachments<C: GenericClient + Sync>(
    c: &C,
    new: &NewMessage,
) -> Result<Vec<Attachment>> {
    if new.attachment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    for &attachment in &new.attachment_ids {
        if !seen.insert(attachment) {
            return Err(StoreError::Invalid(format!(
                "attachment_ids: {attachment} is listed twice"
            )));
        }
    }
    let ids: Vec<i64> = new.attachment_ids.iter().map(|&a| id(a)).collect();
    let mut found = HashMap::new();
    for row in query(
        c,
        "SELECT uploader_id, message_id, id, filename, content_type, size, url, width, height, \
         thumbnail_url FROM attachments WHERE id = ANY($1)",
        &[&ids],
    )
    .await?
    {
        let uploader: i64 = get(&row, 0)?;
        let attached: Option<i64> = get(&row, 1)?;
        let attachment = attachment_from(&row, 2)?;
        found.insert(attachment.id, (uploader, attached, attachment));
    }
    let mut out = Vec::with_capacity(ids.len());
    for attachment in &new.attachment_ids {
        out.push(crate::backend::claimable(
            *attachment,
            found.remove(attachment),
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

/// A new message that passed its checks and is ready to write.
pub(super) struct Prepared {
    new: NewMessage,
    author: User,
    attachments: Vec<Attachment>,
}

/// The checks in front of a new message, writing nothing: its nonce (`Err(first)`: the
/// message already stored with it), its attachments, its author (looked up in
/// `authors` first, a batch's cache).
pub(super) async fn prepare_message<C: GenericClient + Sync>(
    c: &C,
    new: NewMessage,
    authors: &mut HashMap<i64, User>,
) -> Result<std::result::Result<Prepared, Message>> {
    new_id(new.id, "id")?;
    if let Some(nonce) = &new.nonce {
        // Checked first, in the same transaction; the unique index is the backstop.
        let first = query_opt(
            c,
            "SELECT id FROM messages WHERE channel_id = $1 AND author_id = $2 AND nonce = $3",
            &[&id(new.channel_id), &id(new.author_id), nonce],
        )
        .await?;
        if let Some(first) = first {
            let (stored, _) = load_message(c, get(&first, 0)?).await?.ok_or_else(|| {
                StoreError::Internal("message vanished inside its transaction".into())
            })?;
            return Ok(Err(stored));
        }
    }
    let attachments = claim_attachments(c, &new).await?;
    let author = match authors.get(&id(new.author_id)) {
        Some(author) => author.clone(),
        None => {
            let author = load_user(c, id(new.author_id))
                .await?
                .ok_or_else(|| StoreError::Invalid("author_id: no such user".into()))?;
            authors.insert(id(author.id), author.clone());
            author
        }
    };
    Ok(Ok(Prepared {
        new,
        author,
        attachments,
    }))
}

/// Reserves the offset of a new message's `MESSAGE_RECEIVED` event: raises the
/// channel's offset and last message, under the channel row's lock.
pub(super) async fn reserve<C: GenericClient + Sync>(c: &C, message: &Prepared) -> Result<u64> {
    reserve_offset(c, id(message.new.channel_id), id(message.new.id)).await
}

/// [`reserve`] by ids: the offset of `message`'s `MESSAGE_RECEIVED` in `channel`
/// (`NotFound` when the channel does not exist). Also the reservation of the
/// PostgreSQL+ScyllaDB backend, whose rows go to ScyllaDB.
pub(crate) async fn reserve_offset<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    message: i64,
) -> Result<u64> {
    let row = query_opt(
        c,
        "UPDATE channels SET event_offset = event_offset + 1, \
         last_message_id = GREATEST(COALESCE(last_message_id, 0), $2) \
         WHERE id = $1 RETURNING event_offset",
        &[&channel, &message],
    )
    .await?
    .ok_or_else(no_channel)?;
    Ok(to_u64(get(&row, 0)?))
}

/// Marks the claimed `attachments` as attached to `message`, in the order listed.
pub(crate) async fn attach<C: GenericClient + Sync>(
    c: &C,
    attachments: &[Attachment],
    message: i64,
) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = attachments.iter().map(|a| id(a.id)).collect();
    execute(
        c,
        "UPDATE attachments a SET message_id = $2, position = p.position - 1 \
         FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, position) WHERE a.id = p.id",
        &[&ids, &message],
    )
    .await?;
    Ok(())
}

/// After `message` of `channel` was deleted (or undone): when it was the channel's last
/// message, the newest undeleted one of either table takes its place.
pub(crate) async fn fix_last_message<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    message: i64,
) -> Result<()> {
    execute(
        c,
        "UPDATE channels SET last_message_id = \
         (SELECT MAX(id) FROM message_heads WHERE channel_id = $1 AND deleted_at IS NULL) \
         WHERE id = $1 AND last_message_id = $2",
        &[&channel, &message],
    )
    .await?;
    Ok(())
}

/// Writes a prepared message's rows with its reserved `offset`; the message as stored.
pub(super) async fn write_message<C: GenericClient + Sync>(
    c: &C,
    message: Prepared,
    offset: u64,
) -> Result<Message> {
    let Prepared {
        new,
        author,
        attachments,
    } = message;
    let message_id = id(new.id);
    execute(
        c,
        "INSERT INTO messages (id, channel_id, author_id, content, created_at, reply_to, \
         nonce, event_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &message_id,
            &id(new.channel_id),
            &id(new.author_id),
            &new.content,
            &int(new.created_at),
            &new.reply_to.map(id),
            &new.nonce,
            &int(offset),
        ],
    )
    .await?;
    attach(c, &attachments, message_id).await?;
    Ok(Message {
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
    })
}

/// Stores a new message (the one write behind `create_message` and a batch's
/// `CreateMessage`): the checks, the channel's offset and last message, the rows.
pub(super) async fn insert_message<C: GenericClient + Sync>(
    c: &C,
    new: NewMessage,
    authors: &mut HashMap<i64, User>,
) -> Result<Inserted> {
    let prepared = match prepare_message(c, new, authors).await? {
        Ok(prepared) => prepared,
        Err(first) => return Ok(Inserted::Duplicate(first)),
    };
    let offset = reserve(c, &prepared).await?;
    let message = write_message(c, prepared, offset).await?;
    Ok(Inserted::New(message, offset))
}

/// Replaces the content of the undeleted `message` of `channel` (the caller checked
/// both), keeps the old text in the audit trail, moves the offset; the message as
/// stored and the offset.
pub(super) async fn update_content<C: GenericClient + Sync>(
    c: &C,
    message: i64,
    channel: i64,
    content: &str,
    edited_at: u64,
) -> Result<(Message, u64)> {
    execute(
        c,
        "INSERT INTO message_edits (message_id, content, edited_at) \
         SELECT id, content, $2 FROM messages WHERE id = $1",
        &[&message, &int(edited_at)],
    )
    .await?;
    execute(
        c,
        "UPDATE messages SET content = $2, edited_at = $3 WHERE id = $1",
        &[&message, &content, &int(edited_at)],
    )
    .await?;
    let offset = bump_offset(c, channel).await?;
    let (edited, _) = load_message(c, message)
        .await?
        .ok_or_else(|| StoreError::Internal("message vanished inside its transaction".into()))?;
    Ok((edited, offset))
}

/// Soft-deletes the undeleted `message` of `channel` (the caller checked both), fixes
/// the channel's last message, moves the offset; the offset.
pub(super) async fn soft_delete<C: GenericClient + Sync>(
    c: &C,
    message: i64,
    channel: i64,
    deleted_at: u64,
) -> Result<u64> {
    execute(
        c,
        "UPDATE messages SET deleted_at = $2 WHERE id = $1",
        &[&message, &int(deleted_at)],
    )
    .await?;
    fix_last_message(c, channel, message).await?;
    bump_offset(c, channel).await
}

#[async_trait]
impl MessageStore for PostgresStore {
    async fn create_message(&self, new: NewMessage) -> Result<(Message, u64)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let out = match insert_message(&tx, new, &mut HashMap::new()).await? {
            Inserted::New(message, offset) => (message, offset),
            Inserted::Duplicate(first) => {
                return Err(StoreError::Conflict(format!(
                    "nonce: already used for message {}",
                    first.id
                )))
            }
        };
        tx.commit().await.pg()?;
        Ok(out)
    }

    async fn message(&self, message: MessageId) -> Result<Option<MessageRecord>> {
        let client = self.client().await?;
        Ok(load_message(&client, id(message))
            .await?
            .map(|(message, deleted_at)| MessageRecord {
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
        let client = self.client().await?;
        let mut found = query_messages(
            &client,
            concat!(
                message_select!(),
                "WHERE m.channel_id = $1 AND m.author_id = $2 AND m.nonce = $3 \
                 AND m.created_at >= $4 AND m.deleted_at IS NULL ORDER BY m.id DESC LIMIT 1"
            ),
            &[&id(channel), &id(author), &nonce, &int(since)],
        )
        .await?;
        Ok(found.pop())
    }

    async fn messages(&self, channel: ChannelId, page: Page, limit: u32) -> Result<Vec<Message>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let channel = id(channel);
        let client = self.client().await?;
        let c = &client;
        match page {
            Page::Latest => {
                query_messages(
                    c,
                    concat!(
                        message_select!(),
                        "WHERE m.channel_id = $1 AND m.deleted_at IS NULL \
                         ORDER BY m.id DESC LIMIT $2"
                    ),
                    &[&channel, &i64::from(limit)],
                )
                .await
            }
            Page::Before(cursor) => before(c, channel, id(cursor), false, limit).await,
            Page::After(cursor) => after(c, channel, id(cursor), limit).await,
            Page::Around(cursor) => {
                // The newer half first (strictly after), then the older half with the
                // cursor itself; together newest first.
                let newer = (limit - 1) / 2;
                let mut page = after(c, channel, id(cursor), newer).await?;
                page.extend(before(c, channel, id(cursor), true, limit - newer).await?);
                Ok(page)
            }
        }
    }

    async fn edits(&self, message: MessageId) -> Result<Vec<Edit>> {
        let client = self.client().await?;
        query(
            &client,
            "SELECT content, edited_at FROM message_edits WHERE message_id = $1 ORDER BY id",
            &[&id(message)],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(Edit {
                content: get(row, 0)?,
                edited_at: to_u64(get(row, 1)?),
            })
        })
        .collect()
    }

    async fn edit_message(
        &self,
        message: MessageId,
        content: &str,
        edited_at: u64,
    ) -> Result<Option<(Message, u64)>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let message = id(message);
        let Some((channel, None)) = message_channel(&tx, message).await? else {
            return Ok(None);
        };
        let out = update_content(&tx, message, id(channel), content, edited_at).await?;
        tx.commit().await.pg()?;
        Ok(Some(out))
    }

    async fn delete_message(&self, message: MessageId, deleted_at: u64) -> Result<Option<u64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let message = id(message);
        let Some((channel, None)) = message_channel(&tx, message).await? else {
            return Ok(None);
        };
        let offset = soft_delete(&tx, message, id(channel), deleted_at).await?;
        tx.commit().await.pg()?;
        Ok(Some(offset))
    }
}

/// Up to `limit` undeleted messages before `cursor` (or at it, when `inclusive`),
/// newest first.
async fn before<C: GenericClient + Sync>(
    c: &C,
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
        c,
        concat!(
            message_select!(),
            "WHERE m.channel_id = $1 AND m.id < $2 AND m.deleted_at IS NULL \
             ORDER BY m.id DESC LIMIT $3"
        ),
        &[&channel, &bound, &i64::from(limit)],
    )
    .await
}

/// Up to `limit` undeleted messages just after `cursor`, newest first.
async fn after<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    cursor: i64,
    limit: u32,
) -> Result<Vec<Message>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut page = query_messages(
        c,
        concat!(
            message_select!(),
            "WHERE m.channel_id = $1 AND m.id > $2 AND m.deleted_at IS NULL \
             ORDER BY m.id ASC LIMIT $3"
        ),
        &[&channel, &cursor, &i64::from(limit)],
    )
    .await?;
    page.reverse();
    Ok(page)
}
