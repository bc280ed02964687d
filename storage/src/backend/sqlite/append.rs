//! Appending new messages: the one write behind `create_message` and a batch's
//! `CreateMessage`, with what a transaction learns on the way kept in memory.
//!
//! A new message moves its channel's offset, message count and last message, and takes
//! two ordinals (migration 0004). Written message by message, that was an `UPDATE
//! channels ... RETURNING`, two ordinal lookups and an author lookup per message, each
//! message in its own savepoint: a batch of 256 messages into one channel rewrote the
//! same channel row 256 times. An [`Appender`] lives for one transaction: it reads a
//! channel's counters and newest message once, counts in memory, and writes each
//! channel row once ([`Appender::flush`]), before anything else reads or moves it (an
//! item of another kind in the batch, the commit). Authors are read once per
//! transaction.
//!
//! Why no savepoint: every check in front of the row (id, nonce, attachments, author,
//! channel) only reads, and the `INSERT` is the message's first write. A statement that
//! fails undoes itself, so a message that fails leaves no trace, and its channel's
//! counters in memory only move once its row is in: the offsets of the messages that
//! stay are contiguous. The writes after the `INSERT` (claiming attachments, moving up
//! the ordinals of younger messages for an out-of-order id) cannot fail for the
//! message's own reasons, only for the connection's (IO, a full disk): such a failure
//! fails the whole transaction.
//!
//! What it is not: a cache across transactions (the writer thread runs other jobs in
//! between), nor a second implementation: the one-item `create_message` appends through
//! an `Appender` of its own.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use protocol::{Attachment, Message, User};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{id, int, new_id, to_u64};
use super::error::SqlResultExt;
use super::rows::{load_message, load_user};
use super::view::no_channel;
use crate::error::{Result, StoreError};
use crate::ops::messages::NewMessage;

/// What [`Appender::insert`] did.
pub(super) enum Inserted {
    /// Stored, with the offset of its `MESSAGE_RECEIVED` event.
    New(Message, u64),
    /// Its `(channel, author, nonce)` was already stored: that message, unchanged.
    Duplicate(Message),
}

/// The channels and authors one transaction's new messages touched.
#[derive(Default)]
pub(super) struct Appender {
    /// By channel id; `None`: no such channel.
    channels: HashMap<i64, Option<Tail>>,
    /// By user id; `None`: no such user.
    authors: HashMap<i64, Option<User>>,
}

/// A channel's counters as this transaction has moved them, and its newest messages.
struct Tail {
    offset: i64,
    count: i64,
    last_message: Option<i64>,
    /// The newest message by id, deleted or not, and its ordinal.
    newest: Option<(i64, i64)>,
    /// The author ordinal of each author's newest message here, once looked up.
    author_ordinals: HashMap<i64, i64>,
    /// The counters moved since the row was read or written.
    dirty: bool,
}

/// What the checks in front of a row found.
enum Plan {
    /// A new message, checked and numbered.
    Insert(Planned),
    /// The nonce is taken: the first message with it.
    Duplicate(Message),
}

/// A message checked and numbered, ready for its row.
struct Planned {
    author: User,
    attachments: Vec<Attachment>,
    ordinal: i64,
    author_ordinal: i64,
    /// Younger messages exist: their ordinals move up by one once the row is in.
    out_of_order: bool,
}

impl Appender {
    /// Stores a new message: the nonce check, attachments, the row, the channel's
    /// counters (in memory until [`Appender::flush`]). The outer `Err` means the
    /// transaction is lost (the caller must fail it whole); the inner one is the
    /// message's own failure, which wrote nothing.
    pub(super) fn insert(
        &mut self,
        conn: &Connection,
        new: NewMessage,
    ) -> Result<Result<Inserted>> {
        let planned = match self.plan(conn, &new) {
            Ok(Plan::Insert(planned)) => planned,
            Ok(Plan::Duplicate(first)) => return Ok(Ok(Inserted::Duplicate(first))),
            Err(err) => return failed_alone(conn, err),
        };
        let (message, channel, author) = (id(new.id), id(new.channel_id), id(new.author_id));
        let Some(Some(tail)) = self.channels.get_mut(&channel) else {
            return Err(StoreError::Internal(
                "a planned message lost its channel".into(),
            ));
        };
        let offset = tail.offset + 1;
        if let Err(err) = insert_row(conn, &new, offset, &planned) {
            return failed_alone(conn, err);
        }
        // The row is in: from here on a failure is the connection's, not the message's.
        if planned.out_of_order {
            conn.prepare_cached(
                "UPDATE messages SET ordinal = ordinal + 1, \
                 author_ordinal = author_ordinal + (author_id = ?2) \
                 WHERE channel_id = ?1 AND id > ?3",
            )
            .and_then(|mut stmt| stmt.execute([channel, author, message]))
            .store()?;
            // The newest message moved up; the author's newest is unknown now.
            if let Some((_, ordinal)) = tail.newest.as_mut() {
                *ordinal += 1;
            }
            tail.author_ordinals.remove(&author);
        } else {
            tail.newest = Some((message, planned.ordinal));
            tail.author_ordinals.insert(author, planned.author_ordinal);
        }
        claim(conn, message, &planned.attachments)?;
        tail.offset = offset;
        tail.count += 1;
        tail.last_message = Some(tail.last_message.map_or(message, |last| last.max(message)));
        tail.dirty = true;
        Ok(Ok(Inserted::New(
            Message {
                id: new.id,
                channel_id: new.channel_id,
                author: planned.author,
                content: new.content,
                created_at: new.created_at,
                edited_at: None,
                reply_to: new.reply_to,
                attachments: planned.attachments,
                reactions: Vec::new(),
                nonce: new.nonce,
            },
            to_u64(offset),
        )))
    }

    /// Writes the counters of every channel moved since its row was read.
    pub(super) fn flush(&mut self, conn: &Connection) -> Result<()> {
        for (&channel, tail) in &mut self.channels {
            if let Some(tail) = tail.as_mut().filter(|tail| tail.dirty) {
                write_counters(conn, channel, tail)?;
                tail.dirty = false;
            }
        }
        Ok(())
    }

    /// Writes `channel`'s counters and forgets what is known of it, before a write of
    /// another kind reads or moves its row.
    pub(super) fn release(&mut self, conn: &Connection, channel: i64) -> Result<()> {
        match self.channels.remove(&channel) {
            Some(Some(tail)) if tail.dirty => write_counters(conn, channel, &tail),
            _ => Ok(()),
        }
    }

    /// The checks (all reads) and the ordinals of `new`; `Err` for the message's own
    /// failure (or a read that failed).
    fn plan(&mut self, conn: &Connection, new: &NewMessage) -> Result<Plan> {
        let message = new_id(new.id, "id")?;
        let (channel, author) = (id(new.channel_id), id(new.author_id));
        if let Some(nonce) = &new.nonce {
            // Checked first, in the same transaction (it sees this batch's rows); the
            // unique index is the backstop.
            let first = conn
                .prepare_cached(
                    "SELECT id FROM messages \
                     WHERE channel_id = ?1 AND author_id = ?2 AND nonce = ?3",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(params![channel, author, nonce], |row| row.get::<_, i64>(0))
                        .optional()
                })
                .store()?;
            if let Some(first) = first {
                let (stored, _) = load_message(conn, first)?.ok_or_else(|| {
                    StoreError::Internal("message vanished inside its transaction".into())
                })?;
                return Ok(Plan::Duplicate(stored));
            }
        }
        let attachments = claimable_attachments(conn, new)?;
        let author_row = match self.authors.entry(author) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(load_user(conn, author)?),
        }
        .clone()
        .ok_or_else(|| StoreError::Invalid("author_id: no such user".into()))?;
        let tail = match self.channels.entry(channel) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => slot.insert(load_tail(conn, channel)?),
        }
        .as_mut()
        .ok_or_else(no_channel)?;
        let in_order = tail.newest.is_none_or(|(newest, _)| message > newest);
        let (ordinal, author_ordinal) = if in_order {
            // The usual case: the newest id of the channel, numbered from memory.
            let author_ordinal = match tail.author_ordinals.get(&author) {
                Some(&known) => known,
                None => author_ordinal_before(conn, channel, author, message)?,
            };
            (
                tail.newest.map_or(0, |(_, ordinal)| ordinal) + 1,
                author_ordinal + 1,
            )
        } else {
            // An older id: numbered after its predecessors; the younger ones move up.
            (
                ordinal_before(conn, channel, message)? + 1,
                author_ordinal_before(conn, channel, author, message)? + 1,
            )
        };
        Ok(Plan::Insert(Planned {
            author: author_row,
            attachments,
            ordinal,
            author_ordinal,
            out_of_order: !in_order,
        }))
    }
}

/// The failure of one message, or of the whole transaction when SQLite rolled it back
/// (an IO error, a full disk): then the messages before this one are gone too.
fn failed_alone<T>(conn: &Connection, err: StoreError) -> Result<Result<T>> {
    if conn.is_autocommit() {
        Err(err)
    } else {
        Ok(Err(err))
    }
}

/// A channel's counters and newest message; `None` when it does not exist.
fn load_tail(conn: &Connection, channel: i64) -> Result<Option<Tail>> {
    let counters = conn
        .prepare_cached(
            "SELECT event_offset, message_count, last_message_id FROM channels WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([channel], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
        })
        .store()?;
    let Some((offset, count, last_message)) = counters else {
        return Ok(None);
    };
    let newest = conn
        .prepare_cached(
            "SELECT id, ordinal FROM messages WHERE channel_id = ?1 ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([channel], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
        .store()?;
    Ok(Some(Tail {
        offset,
        count,
        last_message,
        newest,
        author_ordinals: HashMap::new(),
        dirty: false,
    }))
}

/// Writes a channel's counters as this transaction moved them.
fn write_counters(conn: &Connection, channel: i64, tail: &Tail) -> Result<()> {
    conn.prepare_cached(
        "UPDATE channels SET event_offset = ?2, message_count = ?3, last_message_id = ?4 \
         WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![channel, tail.offset, tail.count, tail.last_message]))
    .store()
    .map(drop)
}

/// The ordinal of the channel's message just before `message` (0 for none).
fn ordinal_before(conn: &Connection, channel: i64, message: i64) -> Result<i64> {
    conn.prepare_cached(
        "SELECT ordinal FROM messages WHERE channel_id = ?1 AND id < ?2 \
         ORDER BY id DESC LIMIT 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row([channel, message], |row| row.get::<_, i64>(0))
            .optional()
    })
    .store()
    .map(Option::unwrap_or_default)
}

/// The author ordinal of `author`'s message in the channel just before `message` (0
/// for none).
fn author_ordinal_before(
    conn: &Connection,
    channel: i64,
    author: i64,
    message: i64,
) -> Result<i64> {
    conn.prepare_cached(
        "SELECT author_ordinal FROM messages WHERE channel_id = ?1 AND author_id = ?2 \
         AND id < ?3 ORDER BY id DESC LIMIT 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row([channel, author, message], |row| row.get::<_, i64>(0))
            .optional()
    })
    .store()
    .map(Option::unwrap_or_default)
}

/// The message's row: its first write.
fn insert_row(conn: &Connection, new: &NewMessage, offset: i64, planned: &Planned) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO messages (id, channel_id, author_id, content, created_at, reply_to, \
         nonce, event_offset, ordinal, author_ordinal) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            id(new.id),
            id(new.channel_id),
            id(new.author_id),
            new.content,
            int(new.created_at),
            new.reply_to.map(id),
            new.nonce,
            offset,
            planned.ordinal,
            planned.author_ordinal,
        ])
    })
    .store()
    .map(drop)
}

/// The attachments of a new message, checked (they exist, are the author's, not yet
/// attached, listed once), in the order the sender listed them.
fn claimable_attachments(conn: &Connection, new: &NewMessage) -> Result<Vec<Attachment>> {
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

/// Attaches the checked `attachments` to `message`, in order.
fn claim(conn: &Connection, message: i64, attachments: &[Attachment]) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let mut stmt = conn
        .prepare_cached("UPDATE attachments SET message_id = ?2, position = ?3 WHERE id = ?1")
        .store()?;
    for (position, attachment) in attachments.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        stmt.execute([id(attachment.id), message, position])
            .store()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use protocol::{Attachment, AttachmentId, ChannelId, MessageId, UserId};

    use super::*;
    use crate::backend::sqlite::testutil::store_with_channel;
    use crate::ops::attachments::{AttachmentRecord, AttachmentStore};
    use crate::ops::events::{EventStore, EventWrite, Outcome};
    use crate::ops::users::{NewUser, UserStore};

    fn create(channel: ChannelId, author: UserId, n: u64) -> EventWrite {
        EventWrite::CreateMessage(NewMessage {
            id: MessageId::new(n),
            channel_id: channel,
            author_id: author,
            content: format!("m{n}"),
            created_at: n,
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        })
    }

    /// Ordinals, counts and last message, counted in memory through batches with ids
    /// out of order, failures and two authors, are those a recount from the rows gives.
    #[tokio::test]
    async fn counters_and_ordinals_match_a_recount() {
        let (store, ann, channel) = store_with_channel().await;
        let bob = UserId::new(3);
        store
            .create_user(NewUser {
                id: bob,
                username: "bob".into(),
                display_name: "Bob".into(),
                password_hash: "h".into(),
                created_at: 0,
            })
            .await
            .unwrap();
        let batches = [
            vec![(ann, 100), (bob, 110), (ann, 120)],
            // Older ids than the newest, one of them taken, then newer ones again.
            vec![(bob, 105), (ann, 110), (ann, 130), (bob, 101), (ann, 125)],
            vec![(bob, 90), (bob, 140), (ann, 140), (ann, 150)],
        ];
        let mut stored = 0;
        for batch in batches {
            let items = batch
                .iter()
                .map(|&(author, n)| create(channel, author, n))
                .collect();
            let out = store.append_events(items).await.unwrap();
            stored += out.iter().filter(|r| r.is_ok()).count();
        }
        assert_eq!(stored, 10, "110 and 140 were taken the second time");
        let (rows, recount) = store
            .write(move |conn| {
                let ordinals = |sql: &str| -> Result<Vec<(i64, i64, i64)>> {
                    conn.prepare(sql)
                        .and_then(|mut stmt| {
                            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                                .collect()
                        })
                        .store()
                };
                Ok((
                    ordinals("SELECT id, ordinal, author_ordinal FROM messages ORDER BY id")?,
                    ordinals(
                        "SELECT id, ROW_NUMBER() OVER (ORDER BY id),                          ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY id)                          FROM messages ORDER BY id",
                    )?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(rows, recount);
        let counters = store
            .write(move |conn| {
                conn.query_row(
                    "SELECT event_offset, message_count, last_message_id FROM channels WHERE id = 2",
                    [],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)),
                )
                .store()
            })
            .await
            .unwrap();
        assert_eq!(counters, (10, 10, 150));
    }

    /// A write after the row that fails (here a trigger refuses the attachment's claim)
    /// fails the whole batch: nothing of it is stored, the offsets do not move.
    #[tokio::test]
    async fn a_failure_after_the_row_fails_the_batch() {
        let (store, ann, channel) = store_with_channel().await;
        let file = AttachmentId::new(50);
        store
            .create_attachment(AttachmentRecord {
                attachment: Attachment {
                    id: file,
                    filename: "a.png".into(),
                    content_type: "image/png".into(),
                    size: 1,
                    url: "/media/50/a.png".into(),
                    width: None,
                    height: None,
                    thumbnail_url: None,
                },
                uploader_id: ann,
                message_id: None,
                created_at: 0,
            })
            .await
            .unwrap();
        store
            .write(|conn| {
                conn.execute_batch(
                    "CREATE TRIGGER refuse AFTER UPDATE OF message_id ON attachments \
                     BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                )
                .store()
            })
            .await
            .unwrap();
        let mut with_file = create(channel, ann, 11);
        if let EventWrite::CreateMessage(new) = &mut with_file {
            new.attachment_ids = vec![file];
        }
        let failed = store
            .append_events(vec![
                create(channel, ann, 10),
                with_file,
                create(channel, ann, 12),
            ])
            .await;
        assert!(failed.is_err(), "{failed:?}");
        let count = store
            .write(|conn| {
                conn.query_row("SELECT COUNT(*) FROM messages", [], |row| {
                    row.get::<_, i64>(0)
                })
                .store()
            })
            .await
            .unwrap();
        assert_eq!(count, 0);
        let out = store
            .append_events(vec![create(channel, ann, 13)])
            .await
            .unwrap();
        assert!(
            matches!(out[0], Ok(Outcome::Event { offset: 1, .. })),
            "{:?}",
            out[0]
        );
    }
}
