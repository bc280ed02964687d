//! [`EventStore`] for PostgreSQL+ScyllaDB: reserve in PostgreSQL, then write history.
//!
//! **Locks.** The batch first takes a session-level advisory lock per channel (in id
//! order) on its PostgreSQL connection and keeps it until its history writes are done
//! ([`super::locks`]): reserving and writing are two steps, and the next batch of a
//! channel, on whatever node, must not read history between them (it would miss a
//! message that is committed but not yet written, and take its nonce again).
//!
//! **Phase 1, one PostgreSQL transaction.** The batch locks its channels' rows (in id
//! order, as the PostgreSQL backend does) and keeps them locked until it commits. Item
//! by item ([`super::step`]) it reads the history state its decision depends on
//! through an overlay ([`super::overlay`]: ScyllaDB read once per message, then the
//! batch's own earlier items applied on top, since none of them is in ScyllaDB yet):
//! is the nonce taken, is the message there, in this channel, undeleted, is this
//! reaction new, how many distinct emoji. Then, in a savepoint, it does the item's
//! PostgreSQL part: the offset (and the channel's last message), the attachments
//! claimed, the `message_index` row (search, unread counts); joins and leaves are
//! entirely PostgreSQL and run the PostgreSQL backend's own code. Only an item whose
//! savepoint succeeded changes the overlay and queues its history write
//! ([`super::writes`]). The commit makes the offsets durable.
//!
//! **Phase 2, history.** The queued writes go to ScyllaDB, each stamped with its
//! offset: the writes of one message in batch order, different messages
//! concurrently. A write that fails fails its item with `Unavailable` and every later
//! item of the batch on the same message (they depend on it): those events are not
//! acknowledged, and their offsets stay as gaps that clients heal with `resync`. A
//! failed create is then undone in PostgreSQL where that is safe (its index row, its
//! attachments, the channel's last message), see [`super::index`].
//!
//! The outer `Err` (nothing written) can only come from phase 1.

use async_trait::async_trait;
use deadpool_postgres::Object;

use super::index::undo_creates;
use super::locks::ChannelLocks;
use super::overlay::Overlay;
use super::step::Step;
use super::writes::{write_rows, RowWrite};
use super::PgScyllaStore;
use crate::backend::postgres::bulk::lock_channels;
use crate::backend::postgres::codec::id;
use crate::backend::postgres::error::PgResultExt;
use crate::backend::postgres::events::{apply_in_savepoint, authors};
use crate::backend::postgres::view::no_channel;
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};

#[async_trait]
impl EventStore for PgScyllaStore {
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut channels: Vec<i64> = batch.iter().map(|item| id(item.channel())).collect();
        channels.sort_unstable();
        channels.dedup();
        let mut locks = ChannelLocks::lock(self.pg.client().await?, channels).await?;
        let (mut outcomes, writes) = match self.reserve(locks.client()?, batch).await {
            Ok(reserved) => reserved,
            Err(err) => {
                // Rolled back; the connection is fine unless the unlock fails too.
                locks.release().await;
                return Err(err);
            }
        };
        let failed = write_rows(self.history.as_ref(), &writes).await;
        if failed.is_empty() {
            locks.release().await;
            return Ok(outcomes);
        }
        let mut undo = Vec::new();
        for (slot, err) in failed {
            let write = &writes[slot.1].1;
            tracing::warn!(
                channel = %write.channel(), offset = write.offset(), error = %err,
                "history write failed: the event is not acknowledged, its offset is a gap"
            );
            if let RowWrite::Create(message) = write {
                let newest = writes
                    .iter()
                    .filter(|(_, w)| w.message() == message.id)
                    .map(|(_, w)| w.offset())
                    .max()
                    .unwrap_or(message.offset);
                undo.push((message, newest));
            }
            if let Some(outcome) = outcomes.get_mut(slot.0) {
                *outcome = Err(StoreError::Unavailable(format!(
                    "history: {err} (event {} of channel {} not written)",
                    write.offset(),
                    write.channel()
                )));
            }
        }
        // Best effort: the outcomes stand whatever happens here (the written events
        // are acknowledged), so no error leaves this point.
        let undone = match locks.client() {
            Ok(client) => undo_creates(client, &undo).await,
            Err(err) => Err(err),
        };
        if let Err(err) = undone {
            tracing::warn!(error = %err, "could not undo the index rows of unwritten messages");
        }
        locks.release().await;
        Ok(outcomes)
    }
}

impl PgScyllaStore {
    /// Phase 1: every item decided and its PostgreSQL part committed; the outcomes and
    /// the history writes still to make.
    async fn reserve(
        &self,
        client: &mut Object,
        batch: Vec<EventWrite>,
    ) -> Result<(Vec<Result<Outcome>>, Vec<(usize, RowWrite)>)> {
        let tx = client.transaction().await.pg()?;
        let locked = lock_channels(&tx, &batch).await?;
        let mut authors = authors(&tx, &batch).await?;
        let mut overlay = Overlay::new(self.history.as_ref());
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut writes = Vec::new();
        for (slot, item) in batch.into_iter().enumerate() {
            if !locked.contains_key(&id(item.channel())) {
                outcomes.push(Err(no_channel()));
                continue;
            }
            let outcome = match item {
                item @ (EventWrite::AddMember { .. } | EventWrite::RemoveMember { .. }) => {
                    apply_in_savepoint(&tx, item, &mut authors).await?
                }
                item => {
                    let mut step = Step {
                        tx: &tx,
                        overlay: &mut overlay,
                        authors: &mut authors,
                    };
                    match step.apply(item).await? {
                        Ok((outcome, write)) => {
                            writes.extend(write.map(|w| (slot, w)));
                            Ok(outcome)
                        }
                        Err(err) => Err(err),
                    }
                }
            };
            outcomes.push(outcome);
        }
        tx.commit().await.pg()?;
        Ok((outcomes, writes))
    }
}
