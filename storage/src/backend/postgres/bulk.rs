//! The bulk path of a batch: its plain new messages written with one `INSERT ...
//! SELECT FROM unnest(...)` and their channels' offsets with one `UPDATE ... FROM
//! unnest(...)`, pipelined (one round trip), instead of five statements per message.
//!
//! It applies to a `CreateMessage` whose outcome is known without asking the server
//! again: no attachments, its channel locked by the batch (so it exists and its offset
//! is known), its author read up front, its id and nonce free (looked up once for the
//! whole batch, and against the batch's own new messages). Its offset is the channel's
//! next, assigned here, exactly as the per-item path would have. Anything else (edits,
//! reactions, members, attachments, a taken id, an unknown author or channel, a nonce
//! stored before the batch) goes through the per-item savepoint path, which gives the
//! exact answer; pending bulk messages are written first, so the per-item path sees
//! every earlier item of the batch, and the offsets it hands out continue these.
//!
//! If the bulk write itself fails (only a race on a message id with another channel's
//! writer could make it), it is rolled back to its own savepoint and its messages are
//! written again one by one through the per-item path, each failing alone.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Transaction;
use protocol::{Message, User};
use tokio_postgres::types::ToSql;

use super::codec::{get, id, int};
use super::error::PgResultExt;
use super::rows::query;
use crate::error::Result;
use crate::ops::events::{EventWrite, Outcome};
use crate::ops::messages::NewMessage;

/// A message's idempotency key: (channel, author, nonce).
type NonceKey = (i64, i64, String);

/// A new message assigned its offset, waiting for [`Bulk::flush`].
pub(super) struct Pending {
    /// Its slot in the batch's outcomes.
    pub slot: usize,
    /// The message as the caller sent it.
    pub new: NewMessage,
    /// Its offset; `None` for a duplicate of an earlier new message of the batch
    /// (nothing to write, but redone with the others if the flush fails).
    pub offset: Option<u64>,
}

/// The batch's view of its channels and new messages.
pub(super) struct Bulk {
    /// Each locked channel's offset, as the batch has moved it so far.
    offsets: HashMap<i64, u64>,
    /// Each channel's offset before the pending messages (to undo them).
    before: HashMap<i64, u64>,
    /// Message ids and nonce keys stored before the batch, among the batch's.
    taken_ids: HashSet<i64>,
    taken_nonces: HashSet<NonceKey>,
    /// The batch's own new messages, by id and by nonce key.
    created_ids: HashSet<i64>,
    created_nonces: HashMap<NonceKey, Message>,
    /// Assigned, not yet written.
    pending: Vec<Pending>,
}

/// Locks the rows of the batch's channels until the transaction ends, in id order (so
/// batches that share channels queue instead of deadlocking); each existing channel's
/// offset. Also the first step of the PostgreSQL+ScyllaDB backend's batches.
pub(crate) async fn lock_channels(
    tx: &Transaction<'_>,
    batch: &[EventWrite],
) -> Result<HashMap<i64, u64>> {
    let mut channels: Vec<i64> = batch.iter().map(|item| id(item.channel())).collect();
    channels.sort_unstable();
    channels.dedup();
    let mut offsets = HashMap::with_capacity(channels.len());
    for row in query(
        tx,
        "SELECT id, event_offset FROM channels WHERE id = ANY($1) ORDER BY id \
         FOR NO KEY UPDATE",
        &[&channels],
    )
    .await?
    {
        offsets.insert(get::<i64>(&row, 0)?, super::codec::to_u64(get(&row, 1)?));
    }
    Ok(offsets)
}

impl Bulk {
    /// Locks the batch's channels (in id order, see `events.rs`) and reads what the
    /// bulk path needs to decide: their offsets, and which of the new messages' ids and
    /// nonces are taken.
    pub(super) async fn lock(tx: &Transaction<'_>, batch: &[EventWrite]) -> Result<Self> {
        let offsets = lock_channels(tx, batch).await?;
        let news: Vec<&NewMessage> = batch
            .iter()
            .filter_map(|item| match item {
                EventWrite::CreateMessage(new) => Some(new),
                _ => None,
            })
            .collect();
        let ids: Vec<i64> = news.iter().map(|new| id(new.id)).collect();
        let taken_ids = if ids.is_empty() {
            HashSet::new()
        } else {
            query(tx, "SELECT id FROM messages WHERE id = ANY($1)", &[&ids])
                .await?
                .iter()
                .map(|row| get(row, 0))
                .collect::<Result<_>>()?
        };
        let keyed: Vec<(i64, i64, &str)> = news
            .iter()
            .filter_map(|new| {
                let nonce = new.nonce.as_deref()?;
                Some((id(new.channel_id), id(new.author_id), nonce))
            })
            .collect();
        let taken_nonces = if keyed.is_empty() {
            HashSet::new()
        } else {
            let channels: Vec<i64> = keyed.iter().map(|k| k.0).collect();
            let authors: Vec<i64> = keyed.iter().map(|k| k.1).collect();
            let nonces: Vec<&str> = keyed.iter().map(|k| k.2).collect();
            query(
                tx,
                "SELECT m.channel_id, m.author_id, m.nonce FROM messages m \
                 JOIN unnest($1::bigint[], $2::bigint[], $3::text[]) AS k (channel_id, author_id, nonce) \
                 ON m.channel_id = k.channel_id AND m.author_id = k.author_id AND m.nonce = k.nonce \
                 WHERE m.nonce IS NOT NULL",
                &[&channels, &authors, &nonces],
            )
            .await?
            .iter()
            .map(|row| Ok((get(row, 0)?, get(row, 1)?, get(row, 2)?)))
            .collect::<Result<_>>()?
        };
        Ok(Self {
            before: offsets.clone(),
            offsets,
            taken_ids,
            taken_nonces,
            created_ids: HashSet::new(),
            created_nonces: HashMap::new(),
            pending: Vec::new(),
        })
    }

    /// The outcome of `new` (slot `slot`) when the bulk path can decide it alone:
    /// a duplicate of an earlier new message of the batch, or an event with its offset
    /// (written at the next flush). `Err(new)`: the per-item path must take it.
    pub(super) fn take(
        &mut self,
        slot: usize,
        new: NewMessage,
        authors: &HashMap<i64, User>,
    ) -> std::result::Result<Outcome, NewMessage> {
        let (channel, author, message) = (id(new.channel_id), id(new.author_id), id(new.id));
        let key = new.nonce.clone().map(|nonce| (channel, author, nonce));
        if let Some(first) = key.as_ref().and_then(|key| self.created_nonces.get(key)) {
            let outcome = Outcome::Duplicate(first.clone());
            self.pending.push(Pending {
                slot,
                new,
                offset: None,
            });
            return Ok(outcome);
        }
        let simple = new.attachment_ids.is_empty()
            && i64::try_from(new.id.get()).is_ok()
            && !self.taken_ids.contains(&message)
            && !self.created_ids.contains(&message)
            && key
                .as_ref()
                .is_none_or(|key| !self.taken_nonces.contains(key));
        let (Some(author), Some(current), true) = (
            authors.get(&author),
            self.offsets.get(&channel).copied(),
            simple,
        ) else {
            return Err(new);
        };
        let offset = current + 1;
        self.offsets.insert(channel, offset);
        let stored = Message {
            id: new.id,
            channel_id: new.channel_id,
            author: author.clone(),
            content: new.content.clone(),
            created_at: new.created_at,
            edited_at: None,
            reply_to: new.reply_to,
            attachments: Vec::new(),
            reactions: Vec::new(),
            nonce: new.nonce.clone(),
        };
        self.created(&stored);
        self.pending.push(Pending {
            slot,
            new,
            offset: Some(offset),
        });
        Ok(Outcome::Event {
            offset,
            message: Some(stored),
        })
    }

    /// Records what an item of the per-item path did: a new message, or an event that
    /// moved its channel's offset.
    pub(super) fn applied(&mut self, item_channel: i64, outcome: &Outcome) {
        if let Outcome::Event { offset, message } = outcome {
            self.offsets.insert(item_channel, *offset);
            self.before.insert(item_channel, *offset);
            if let Some(message) = message {
                self.created(message);
            }
        }
    }

    /// Remembers a new message of the batch (its id and nonce are taken from now on).
    fn created(&mut self, message: &Message) {
        self.created_ids.insert(id(message.id));
        if let Some(nonce) = &message.nonce {
            self.created_nonces.insert(
                (id(message.channel_id), id(message.author.id), nonce.clone()),
                message.clone(),
            );
        }
    }

    /// Writes the pending messages and their channels' offsets, in one round trip, in
    /// a savepoint. `Ok(vec![])` when written; otherwise the pending messages, rolled
    /// back (ids and nonces released, offsets as before them), for the per-item path.
    /// The outer `Err` means the transaction itself is lost.
    pub(super) async fn flush(&mut self, tx: &Transaction<'_>) -> Result<Vec<Pending>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let pending = std::mem::take(&mut self.pending);
        let writes: Vec<(&NewMessage, u64)> = pending
            .iter()
            .filter_map(|p| Some((&p.new, p.offset?)))
            .collect();
        let n = writes.len();
        let (mut ids, mut channels, mut authors, mut contents) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut created, mut replies, mut nonces, mut offsets) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        // Per channel: its new offset and newest message id.
        let mut moved: HashMap<i64, (i64, i64)> = HashMap::new();
        for &(new, offset) in &writes {
            ids.push(id(new.id));
            channels.push(id(new.channel_id));
            authors.push(id(new.author_id));
            contents.push(new.content.as_str());
            created.push(int(new.created_at));
            replies.push(new.reply_to.map(id));
            nonces.push(new.nonce.as_deref());
            offsets.push(int(offset));
            let entry = moved.entry(id(new.channel_id)).or_insert((0, 0));
            entry.0 = entry.0.max(int(offset));
            entry.1 = entry.1.max(id(new.id));
        }
        let (moved_ids, moved_offsets, moved_last): (Vec<i64>, Vec<i64>, Vec<i64>) = moved
            .iter()
            .map(|(&channel, &(offset, last))| (channel, offset, last))
            .fold(
                (Vec::new(), Vec::new(), Vec::new()),
                |mut acc, (c, o, l)| {
                    acc.0.push(c);
                    acc.1.push(o);
                    acc.2.push(l);
                    acc
                },
            );
        // Prepared first, so that the pipelined requests go out in this order.
        let insert = tx
            .prepare_cached(
                "INSERT INTO messages (id, channel_id, author_id, content, created_at, reply_to, \
                 nonce, event_offset) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], \
                 $5::bigint[], $6::bigint[], $7::text[], $8::bigint[])",
            )
            .await
            .pg()?;
        let update = tx
            .prepare_cached(
                "UPDATE channels c SET event_offset = v.event_offset, \
                 last_message_id = GREATEST(COALESCE(c.last_message_id, 0), v.last_id) \
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v (id, event_offset, last_id) \
                 WHERE c.id = v.id",
            )
            .await
            .pg()?;
        let insert_params: [&(dyn ToSql + Sync); 8] = [
            &ids, &channels, &authors, &contents, &created, &replies, &nonces, &offsets,
        ];
        let update_params: [&(dyn ToSql + Sync); 3] = [&moved_ids, &moved_offsets, &moved_last];
        let (saved, inserted, updated, released) = tokio::join!(
            tx.batch_execute("SAVEPOINT bulk"),
            tx.execute(&insert, &insert_params),
            tx.execute(&update, &update_params),
            tx.batch_execute("RELEASE SAVEPOINT bulk"),
        );
        drop(writes);
        saved.pg()?;
        if inserted.is_ok() && updated.is_ok() && released.is_ok() {
            self.before.clone_from(&self.offsets);
            return Ok(Vec::new());
        }
        if let Err(err) = inserted.and(updated).map(drop).and(released) {
            tracing::warn!(error = %err, "bulk message insert failed; writing the messages one by one");
        }
        tx.batch_execute("ROLLBACK TO SAVEPOINT bulk; RELEASE SAVEPOINT bulk")
            .await
            .pg()?;
        // Undo: the offsets, ids and nonces of the rolled-back messages.
        self.offsets.clone_from(&self.before);
        for p in &pending {
            self.created_ids.remove(&id(p.new.id));
            if let Some(nonce) = &p.new.nonce {
                self.created_nonces.remove(&(
                    id(p.new.channel_id),
                    id(p.new.author_id),
                    nonce.clone(),
                ));
            }
        }
        Ok(pending)
    }
}
