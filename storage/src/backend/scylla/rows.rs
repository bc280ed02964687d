//! Rows and records: the mapping between CQL rows and [`MessageRecord`], and the
//! reaction counts of a page, with no IO.
//!
//! Scylla keeps a message's author as an id only: names change
//! (`update_display_name`), and users live in PostgreSQL, so the caller resolves
//! authors with one `users(&ids)` read per page and builds the record with
//! [`StoredMessage::into_record`]. Attachments are copied into the row when the message
//! is written (they never change once attached), so a page needs no second store for
//! them.

use std::collections::HashMap;

use protocol::{Attachment, ChannelId, Id, Message, MessageId, ReactionCount, User, UserId};
use scylla::value::MaybeUnset;
use scylla::{DeserializeRow, DeserializeValue, SerializeValue};

use super::bucket::bucket_of;
use crate::error::{Result, StoreError};
use crate::ops::messages::{MessageRecord, NewMessage};

/// A message as this backend stores it: everything of a [`MessageRecord`] but the
/// author's name, plus the offset of its `MESSAGE_RECEIVED` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The message id.
    pub id: MessageId,
    /// Its channel.
    pub channel_id: ChannelId,
    /// Its author (resolved to a [`User`] by the caller).
    pub author_id: UserId,
    /// The current text.
    pub content: String,
    /// ms since the epoch.
    pub created_at: u64,
    /// Time of the last edit.
    pub edited_at: Option<u64>,
    /// Time of the soft delete.
    pub deleted_at: Option<u64>,
    /// The message this one replies to.
    pub reply_to: Option<MessageId>,
    /// The sender's idempotency key.
    pub nonce: Option<String>,
    /// Attachments, in the order the sender listed them.
    pub attachments: Vec<Attachment>,
    /// Reaction counts per emoji, in order of first use (filled in by reads).
    pub reactions: Vec<ReactionCount>,
    /// The offset of its `MESSAGE_RECEIVED` event.
    pub offset: u64,
}

impl StoredMessage {
    /// A new message to write: `attachments` are the claimed attachments (checked by the
    /// caller against `new.attachment_ids`), `offset` the reserved event offset.
    pub fn new(new: NewMessage, attachments: Vec<Attachment>, offset: u64) -> Self {
        Self {
            id: new.id,
            channel_id: new.channel_id,
            author_id: new.author_id,
            content: new.content,
            created_at: new.created_at,
            edited_at: None,
            deleted_at: None,
            reply_to: new.reply_to,
            nonce: new.nonce,
            attachments,
            reactions: Vec::new(),
            offset,
        }
    }

    /// The message as the traits return it; `author` is the user `author_id` names.
    pub fn into_message(self, author: User) -> Message {
        Message {
            id: self.id,
            channel_id: self.channel_id,
            author,
            content: self.content,
            created_at: self.created_at,
            edited_at: self.edited_at,
            reply_to: self.reply_to,
            attachments: self.attachments,
            reactions: self.reactions,
            nonce: self.nonce,
        }
    }

    /// The record (`message()`), with its delete mark.
    pub fn into_record(self, author: User) -> MessageRecord {
        let deleted_at = self.deleted_at;
        MessageRecord {
            message: self.into_message(author),
            deleted_at,
        }
    }

    /// The partition bucket.
    pub fn bucket(&self) -> i64 {
        bucket_of(self.id.get())
    }
}

/// An id as a CQL bigint for a new row: refused when it does not fit, so ordering
/// stays exact (Snowflakes stay below 2^63).
pub fn new_id<M>(value: Id<M>, field: &str) -> Result<i64> {
    i64::try_from(value.get()).map_err(|_| StoreError::Invalid(format!("{field}: id out of range")))
}

/// An id or time for a lookup or comparison (saturating: an id past i64 matches
/// nothing anyway).
pub fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A bigint back as an unsigned value (this backend never writes negatives).
pub fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A bigint back as an id.
pub fn to_id<M>(value: i64) -> Id<M> {
    Id::new(uint(value))
}

/// The `attachment` user-defined type.
#[derive(Debug, Clone, PartialEq, Eq, SerializeValue, DeserializeValue)]
pub struct AttachmentUdt {
    /// Attachment id.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Download path.
    pub url: String,
    /// Image width.
    pub width: Option<i64>,
    /// Image height.
    pub height: Option<i64>,
    /// Thumbnail path.
    pub thumbnail_url: Option<String>,
}

impl AttachmentUdt {
    fn from_attachment(a: &Attachment) -> Result<Self> {
        Ok(Self {
            id: new_id(a.id, "attachment_ids")?,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: int(a.size),
            url: a.url.clone(),
            width: a.width.map(i64::from),
            height: a.height.map(i64::from),
            thumbnail_url: a.thumbnail_url.clone(),
        })
    }

    fn into_attachment(self) -> Attachment {
        let dimension = |v: i64| u32::try_from(v).unwrap_or(if v < 0 { 0 } else { u32::MAX });
        Attachment {
            id: to_id(self.id),
            filename: self.filename,
            content_type: self.content_type,
            size: uint(self.size),
            url: self.url,
            width: self.width.map(dimension),
            height: self.height.map(dimension),
            thumbnail_url: self.thumbnail_url,
        }
    }
}

/// A `messages` row as [`super::cql`]'s selects return it (columns matched by name).
#[derive(Debug, Clone, PartialEq, Eq, DeserializeRow)]
pub struct MessageRow {
    /// Channel.
    pub channel_id: i64,
    /// Id.
    pub message_id: i64,
    /// Author (null only in a stray row, see [`MessageRow::into_stored`]).
    pub author_id: Option<i64>,
    /// Text.
    pub content: Option<String>,
    /// Creation time.
    pub created_at: Option<i64>,
    /// Last edit.
    pub edited_at: Option<i64>,
    /// Soft delete.
    pub deleted_at: Option<i64>,
    /// Reply target.
    pub reply_to: Option<i64>,
    /// Idempotency key.
    pub nonce: Option<String>,
    /// Attachments (null when there are none).
    pub attachments: Option<Vec<AttachmentUdt>>,
    /// Offset of the `MESSAGE_RECEIVED` event.
    pub event_offset: Option<i64>,
}

impl MessageRow {
    /// The stored message (reactions empty: they come from their own table), or `None`
    /// for a stray row: an edit, delete or retry whose `UPDATE` reached a message
    /// that was never created (CQL updates are upserts) has no author and is not a
    /// message.
    pub fn into_stored(self) -> Option<StoredMessage> {
        let (Some(author_id), Some(content), Some(created_at)) =
            (self.author_id, self.content, self.created_at)
        else {
            return None;
        };
        Some(StoredMessage {
            id: to_id(self.message_id),
            channel_id: to_id(self.channel_id),
            author_id: to_id(author_id),
            content,
            created_at: uint(created_at),
            edited_at: self.edited_at.map(uint),
            deleted_at: self.deleted_at.map(uint),
            reply_to: self.reply_to.map(to_id),
            nonce: self.nonce,
            attachments: self
                .attachments
                .unwrap_or_default()
                .into_iter()
                .map(AttachmentUdt::into_attachment)
                .collect(),
            reactions: Vec::new(),
            offset: self.event_offset.map_or(0, uint),
        })
    }
}

/// The values of [`super::cql::INSERT_MESSAGE`], in its order, the write timestamp
/// last. Absent optional values are unset (no null cell is written).
pub type InsertMessage = (
    i64,
    i64,
    i64,
    i64,
    String,
    i64,
    MaybeUnset<i64>,
    MaybeUnset<String>,
    MaybeUnset<Vec<AttachmentUdt>>,
    i64,
    i64,
);

/// The insert values of a new message; `Invalid` when an id does not fit a bigint.
pub fn insert_values(message: &StoredMessage) -> Result<InsertMessage> {
    let unset_none = |v: Option<i64>| v.map_or(MaybeUnset::Unset, MaybeUnset::Set);
    let attachments = message
        .attachments
        .iter()
        .map(AttachmentUdt::from_attachment)
        .collect::<Result<Vec<_>>>()?;
    Ok((
        new_id(message.channel_id, "channel_id")?,
        message.bucket(),
        new_id(message.id, "id")?,
        new_id(message.author_id, "author_id")?,
        message.content.clone(),
        int(message.created_at),
        unset_none(
            message
                .reply_to
                .map(|r| new_id(r, "reply_to"))
                .transpose()?,
        ),
        message
            .nonce
            .clone()
            .map_or(MaybeUnset::Unset, MaybeUnset::Set),
        if attachments.is_empty() {
            MaybeUnset::Unset
        } else {
            MaybeUnset::Set(attachments)
        },
        timestamp(message.offset),
        timestamp(message.offset),
    ))
}

/// The write timestamp of an event: its offset. Offsets grow by one per event of a
/// channel, and every cell of this schema belongs to one channel, so "newest timestamp
/// wins" is "latest event wins", and a retried write changes nothing.
pub fn timestamp(offset: u64) -> i64 {
    int(offset)
}

/// A `reactions` row: message, emoji, user, and the offset of its `REACTION_ADDED`.
pub type ReactionRow = (i64, String, i64, Option<i64>);

/// Reaction counts per message from its reaction rows: per emoji, in order of first use
/// (the smallest offset among the emoji's current rows; ties, which one channel's
/// offsets cannot produce, by emoji).
pub fn count_reactions(rows: Vec<ReactionRow>) -> HashMap<MessageId, Vec<ReactionCount>> {
    // message -> emoji -> (first offset, count)
    let mut per: HashMap<i64, HashMap<String, (i64, u32)>> = HashMap::new();
    for (message, emoji, _user, offset) in rows {
        let offset = offset.unwrap_or(0);
        let entry = per
            .entry(message)
            .or_default()
            .entry(emoji)
            .or_insert((offset, 0));
        entry.0 = entry.0.min(offset);
        entry.1 = entry.1.saturating_add(1);
    }
    per.into_iter()
        .map(|(message, emoji)| {
            let mut counts: Vec<(i64, String, u32)> = emoji
                .into_iter()
                .map(|(emoji, (first, count))| (first, emoji, count))
                .collect();
            counts.sort_unstable();
            let counts = counts
                .into_iter()
                .map(|(_, emoji, count)| ReactionCount { emoji, count })
                .collect();
            (to_id(message), counts)
        })
        .collect()
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;
