//! [`EventStore`] for SQLite: a batch of channel events in one `IMMEDIATE` transaction.
//!
//! The batch shares one commit (one WAL write for up to 512 events), but each item must
//! succeed or fail as if it were alone, and the offsets of the items that stay must be
//! contiguous per channel, in batch order. New messages (nearly every item) go through
//! one [`Appender`] for the batch: checks that only read, then the row, with the
//! channel's counters moved in memory and written once per channel, so a message that
//! fails leaves no trace without a savepoint (see [`super::append`]). Every other kind
//! of item runs in its own savepoint, which also undoes its offset bump, after the
//! appender wrote its channel's counters.
//!
//! The writes are the ones the one-item methods use ([`super::messages`],
//! [`super::reactions`], [`super::members`]); only the lookups in front of them follow
//! the batch contract (a message must be in the named channel; absent rows are
//! `NotFound`). If the connection reports the whole transaction gone after an item (an
//! IO error, a full disk), the batch stops and the call fails as a whole: nothing of it
//! was written.

use async_trait::async_trait;
use protocol::{ChannelId, MessageId, UserId};
use rusqlite::{Connection, OptionalExtension};

use super::append::{Appender, Inserted};
use super::codec::id;
use super::error::SqlResultExt;
use super::members::{delete_member, insert_member};
use super::messages::{index_for_search, soft_delete, update_content};
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
            let creates: Vec<bool> = batch
                .iter()
                .map(|item| matches!(item, EventWrite::CreateMessage(_)))
                .collect();
            let mut appender = Appender::default();
            for item in batch {
                outcomes.push(apply(conn, &mut appender, item)?);
            }
            appender.flush(conn)?;
            // New messages join the search index once for the batch (FTS5 flushes to
            // disk at each savepoint release, and other kinds of items have one).
            let new: Vec<(protocol::MessageId, &str)> = outcomes
                .iter()
                .zip(&creates)
                .filter_map(|(outcome, create)| match outcome {
                    Ok(Outcome::Event {
                        message: Some(message),
                        ..
                    }) if *create => Some((message.id, message.content.as_str())),
                    _ => None,
                })
                .collect();
            index_for_search(conn, &new)?;
            Ok(outcomes)
        })
        .await
    }
}

/// Applies one item. The outer `Err` means the transaction itself is lost (the batch
/// must fail); the inner one is the item's own failure, which left no trace.
///
/// A new message needs no savepoint (see [`super::append`]); the other kinds run in
/// one, after the appender wrote their channel's counters.
fn apply(conn: &Connection, appender: &mut Appender, item: EventWrite) -> Result<Result<Outcome>> {
    match item {
        EventWrite::CreateMessage(new) => {
            Ok(appender.insert(conn, new)?.map(|inserted| match inserted {
                Inserted::New(message, offset) => Outcome::Event {
                    offset,
                    message: Some(message),
                },
                Inserted::Duplicate(first) => Outcome::Duplicate(first),
            }))
        }
        EventWrite::EditMessage {
            channel,
            id: message,
            content,
            edited_at,
        } => isolated(conn, appender, channel, |conn| {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            let (edited, offset) = update_content(conn, message, id(channel), &content, edited_at)?;
            Ok(Outcome::Event {
                offset,
                message: Some(edited),
            })
        }),
        EventWrite::DeleteMessage {
            channel,
            id: message,
            deleted_at,
        } => isolated(conn, appender, channel, |conn| {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Ok(Outcome::Unchanged);
            }
            soft_delete(conn, message, id(channel), deleted_at).map(event)
        }),
        EventWrite::AddReaction {
            channel,
            message,
            user,
            emoji,
            max_distinct,
        } => isolated(conn, appender, channel, |conn| {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            insert_reaction(conn, message, id(channel), user, &emoji, max_distinct).map(maybe_event)
        }),
        EventWrite::RemoveReaction {
            channel,
            message,
            user,
            emoji,
        } => isolated(conn, appender, channel, |conn| {
            let (message, deleted) = message_in(conn, message, channel)?;
            if deleted {
                return Err(no_message());
            }
            delete_reaction(conn, message, id(channel), user, &emoji).map(maybe_event)
        }),
        EventWrite::AddMember {
            channel,
            user,
            role,
            max_members,
        } => isolated(conn, appender, channel, |conn| {
            let count = member_count(conn, channel)?;
            if count >= u64::from(max_members) && !is_member(conn, channel, user)? {
                return Err(StoreError::Limit(format!(
                    "a channel has at most {max_members} members"
                )));
            }
            insert_member(conn, id(channel), user, role).map(maybe_event)
        }),
        EventWrite::RemoveMember { channel, user } => isolated(conn, appender, channel, |conn| {
            channel_exists(conn, channel)?;
            delete_member(conn, id(channel), user).map(maybe_event)
        }),
    }
}

/// Runs `write` in its own savepoint, after the appender wrote `channel`'s counters (the
/// write reads or moves them). The outer `Err` means the transaction is lost; the inner
/// one is the item's own failure, already rolled back.
fn isolated(
    conn: &Connection,
    appender: &mut Appender,
    channel: ChannelId,
    write: impl FnOnce(&Connection) -> Result<Outcome>,
) -> Result<Result<Outcome>> {
    appender.release(conn, id(channel))?;
    savepoint(conn, "SAVEPOINT event_item")?;
    match write(conn) {
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

/// The channel's member count; `NotFound` unless the channel exists.
fn member_count(conn: &Connection, channel: ChannelId) -> Result<u64> {
    conn.prepare_cached("SELECT member_count FROM channels WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([id(channel)], |row| row.get::<_, i64>(0))
                .optional()
        })
        .store()?
        .map(|count| u64::try_from(count).unwrap_or(0))
        .ok_or_else(no_channel)
}

/// Whether `user` is a member of `channel`.
fn is_member(conn: &Connection, channel: ChannelId, user: UserId) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM members WHERE channel_id = ?1 AND user_id = ?2)",
    )
    .and_then(|mut stmt| stmt.query_row([id(channel), id(user)], |row| row.get(0)))
    .store()
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

#[cfg(test)]
mod tests {
    use protocol::{ChannelId, MessageId, UserId};

    use super::*;
    use crate::backend::sqlite::testutil::store_with_channel;
    use crate::ops::channels::ChannelStore;
    use crate::ops::messages::{MessageStore, NewMessage};

    fn create(channel: ChannelId, author: UserId, n: u64, content: &str) -> EventWrite {
        EventWrite::CreateMessage(NewMessage {
            id: MessageId::new(n),
            channel_id: channel,
            author_id: author,
            content: content.into(),
            created_at: n,
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        })
    }

    /// The COMMIT itself fails (a deferred foreign key, checked only at COMMIT, broken
    /// by a trigger when a message says "poison"): every item had succeeded, yet the
    /// call fails as a whole and nothing of the batch is stored; the store goes on.
    #[tokio::test]
    async fn a_failed_commit_writes_nothing_of_the_batch() {
        let (store, ann, channel) = store_with_channel().await;
        store
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TABLE poison (channel_id INTEGER
                         REFERENCES channels (id) DEFERRABLE INITIALLY DEFERRED);
                     CREATE TRIGGER poison AFTER INSERT ON messages
                     WHEN new.content = 'poison'
                     BEGIN INSERT INTO poison VALUES (-1); END;",
                )
                .store()
            })
            .await
            .unwrap();
        let ok = store
            .append_events(vec![create(channel, ann, 10, "before")])
            .await
            .unwrap();
        assert_eq!(ok[0].as_ref().unwrap().offset(), Some(1));

        let failed = store
            .append_events(vec![
                create(channel, ann, 11, "one"),
                create(channel, ann, 12, "poison"),
                create(channel, ann, 13, "three"),
            ])
            .await;
        assert!(failed.is_err(), "the commit failed: {failed:?}");
        for n in 11..14 {
            assert!(store.message(MessageId::new(n)).await.unwrap().is_none());
        }
        let record = store.channel(channel).await.unwrap().unwrap();
        assert_eq!(record.offset, 1, "no offset of the failed batch stays");
        assert_eq!(record.last_message_id, Some(MessageId::new(10)));

        let after = store
            .append_events(vec![
                create(channel, ann, 14, "after"),
                create(channel, ann, 15, "after"),
            ])
            .await
            .unwrap();
        let offsets: Vec<_> = after.iter().map(|r| r.as_ref().unwrap().offset()).collect();
        assert_eq!(offsets, vec![Some(2), Some(3)]);
        assert_eq!(
            store
                .create_message(match create(channel, ann, 16, "single") {
                    EventWrite::CreateMessage(new) => new,
                    _ => unreachable!(),
                })
                .await
                .unwrap()
                .1,
            4
        );
    }

    /// Savepoints nest inside the batch's transaction and are all released: after a
    /// batch with failed items the connection is back outside any transaction.
    #[tokio::test]
    async fn savepoints_are_released() {
        let (store, ann, channel) = store_with_channel().await;
        let out = store
            .append_events(vec![
                create(channel, ann, 10, "ok"),
                create(channel, ann, 10, "taken id"),
                create(ChannelId::new(99), ann, 11, "no channel"),
            ])
            .await
            .unwrap();
        assert!(out[0].is_ok());
        assert!(matches!(out[1], Err(StoreError::Conflict(_))));
        assert!(matches!(out[2], Err(StoreError::NotFound(_))));
        let outside = store
            .inner
            .writer
            .run(|conn| Ok(conn.is_autocommit()))
            .await
            .unwrap();
        assert!(outside);
    }
}
