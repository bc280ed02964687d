//! [`EventStore`] for SQLite: a batch of channel events in one `IMMEDIATE` transaction,
//! one savepoint per item.
//!
//! Why savepoints: the batch shares one commit (one WAL fsync for up to 512 events), but
//! each item must succeed or fail as if it were alone. An item that fails rolls back to
//! its savepoint, which also undoes its offset bump, so the offsets of the items that
//! stay are contiguous per channel, in batch order.
//!
//! The writes are the ones the one-item methods use ([`super::messages`],
//! [`super::reactions`], [`super::members`]); only the lookups in front of them follow
//! the batch contract (a message must be in the named channel; absent rows are
//! `NotFound`). If the connection reports the whole transaction gone after an item (an
//! IO error, a full disk), the batch stops and the call fails as a whole: nothing of it
//! was written.

use async_trait::async_trait;
use protocol::{ChannelId, MessageId};
use rusqlite::{Connection, OptionalExtension};

use super::codec::id;
use super::error::SqlResultExt;
use super::members::{delete_member, insert_member};
use super::messages::{insert_message, soft_delete, update_content, Inserted};
use super::reactions::{delete_reaction, insert_reaction};
use super::rows::message_channel;
use super::view::no_channel;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| {
            let mut outcomes = Vec::with_capacity(batch.len());
            for item in batch {
                outcomes.push(apply_in_savepoint(conn, item)?);
            }
            Ok(outcomes)
        })
        .await
    }
}

/// Applies one item inside its own savepoint. The outer `Err` means the transaction
/// itself is lost (the batch must fail); the inner one is the item's own failure,
/// already rolled back.
fn apply_in_savepoint(conn: &Connection, item: EventWrite) -> Result<Result<Outcome>> {
    savepoint(conn, "SAVEPOINT event_item")?;
    match apply(conn, item) {
        Ok(outcome) => {
            savepoint(conn, "RELEASE event_item")?;
            Ok(Ok(outcome))
        }
        Err(err) => {
            if conn.is_autocommit() {
                // SQLite rolled the whole transaction back (IO error, disk full, ...):
                // the items before this one are gone too.
                return Err(err);
            }
            savepoint(conn, "ROLLBACK TO event_item")?;
            savepoint(conn, "RELEASE event_item")?;
            Ok(Err(err))
        }
    }
}

/// Runs a savepoint statement.
fn savepoint(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .store()
        .map(drop)
}

/// One item, with the batch contract's lookups in front of the shared writes.
fn apply(conn: &Connection, item: EventWrite) -> Result<Outcome> {
    match item {
        EventWrite::CreateMessage(new) => Ok(match insert_message(conn, new)? {
            Inserted::New(message, offset) => Outcome::Event {
                offset,
                message: Some(message),
            },
            Inserted::Duplicate(first) => Outcome::Duplicate(first),
        }),
        EventWrite::EditMessage {
            channel,
            id: message,
            content,
            edited_at,
        } => {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            let (edited, offset) = update_content(conn, message, id(channel), &content, edited_at)?;
            Ok(Outcome::Event {
                offset,
                message: Some(edited),
            })
        }
        EventWrite::DeleteMessage {
            channel,
            id: message,
            deleted_at,
        } => {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Ok(Outcome::Unchanged);
            }
            soft_delete(conn, message, id(channel), deleted_at).map(event)
        }
        EventWrite::AddReaction {
            channel,
            message,
            user,
            emoji,
            max_distinct,
        } => {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            insert_reaction(conn, message, id(channel), user, &emoji, max_distinct).map(maybe_event)
        }
        EventWrite::RemoveReaction {
            channel,
            message,
            user,
            emoji,
        } => {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            delete_reaction(conn, message, id(channel), user, &emoji).map(maybe_event)
        }
        EventWrite::AddMember {
            channel,
            user,
            role,
        } => {
            channel_exists(conn, channel)?;
            insert_member(conn, id(channel), user, role).map(maybe_event)
        }
        EventWrite::RemoveMember { channel, user } => {
            channel_exists(conn, channel)?;
            delete_member(conn, id(channel), user).map(maybe_event)
        }
    }
}

/// An event without a message.
fn event(offset: u64) -> Outcome {
    Outcome::Event {
        offset,
        message: None,
    }
}

/// An event, or `Unchanged` for `None`.
fn maybe_event(offset: Option<u64>) -> Outcome {
    offset.map_or(Outcome::Unchanged, event)
}

/// The message's row id and whether it is deleted; `NotFound` when it is absent or in
/// another channel.
fn message_in(conn: &Connection, message: MessageId, channel: ChannelId) -> Result<(i64, bool)> {
    let row = id(message);
    match message_channel(conn, row)? {
        Some((found, deleted_at)) if found == channel => Ok((row, deleted_at.is_some())),
        _ => Err(no_message()),
    }
}

/// `NotFound` unless the channel exists.
fn channel_exists(conn: &Connection, channel: ChannelId) -> Result<()> {
    conn.prepare_cached("SELECT 1 FROM channels WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id(channel)], |_| Ok(())).optional())
        .store()?
        .ok_or_else(no_channel)
}

/// `NotFound` for a message that is absent, elsewhere or deleted.
fn no_message() -> StoreError {
    StoreError::NotFound("message_id: no such message in this channel".into())
}
