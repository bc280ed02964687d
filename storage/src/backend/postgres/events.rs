//! [`EventStore`] for PostgreSQL: a batch of channel events in one transaction, one
//! savepoint per item.
//!
//! The batch first locks the rows of all its channels, in id order (`SELECT ... ORDER
//! BY id FOR NO KEY UPDATE`, in [`super::bulk`]): batches from several nodes that share channels then queue
//! one behind the other instead of deadlocking, the offsets a batch hands out are
//! contiguous per channel, and the caps (member count, distinct emoji) are decided with
//! no writer racing. Each item then runs in a savepoint: one that fails rolls back to
//! it, which also undoes its offset bump, so the items that stay keep contiguous
//! offsets in batch order; the others commit together (one WAL flush for the batch).
//!
//! The writes are the ones the one-item methods use ([`super::messages`],
//! [`super::reactions`], [`super::members`]); only the lookups in front of them follow
//! the batch contract (a message must be in the named channel; absent rows are
//! `NotFound`). The authors of the batch's messages are read once, up front. If the
//! connection fails mid-batch, rolling back to the savepoint fails too, and the call
//! fails as a whole: nothing of it was committed.
//!
//! A message is written in two steps, the offset reserved
//! ([`super::messages::reserve`]) and then the rows ([`super::messages::write_message`]): a history store elsewhere would take the second step.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use protocol::{ChannelId, MessageId, User, UserId};

use super::bulk::Bulk;
use super::codec::{get, id, to_u64};
use super::error::PgResultExt;
use super::members::{delete_member, insert_member};
use super::messages::{insert_message, soft_delete, update_content, Inserted};
use super::reactions::{delete_reaction, insert_reaction};
use super::rows::{message_channel, query, query_one, query_opt, user_from};
use super::view::no_channel;
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::events::{EventStore, EventWrite, Outcome};

#[async_trait]
impl EventStore for PostgresStore {
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let mut bulk = Bulk::lock(&tx, &batch).await?;
        let mut authors = authors(&tx, &batch).await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for (slot, item) in batch.into_iter().enumerate() {
            let item = match item {
                EventWrite::CreateMessage(new) => match bulk.take(slot, new, &authors) {
                    Ok(outcome) => {
                        outcomes.push(Ok(outcome));
                        continue;
                    }
                    Err(new) => EventWrite::CreateMessage(new),
                },
                other => other,
            };
            // The per-item path sees every earlier item of the batch.
            flush(&tx, &mut bulk, &mut outcomes, &mut authors).await?;
            let channel = id(item.channel());
            let outcome = apply_in_savepoint(&tx, item, &mut authors).await?;
            if let Ok(outcome) = &outcome {
                bulk.applied(channel, outcome);
            }
            outcomes.push(outcome);
        }
        flush(&tx, &mut bulk, &mut outcomes, &mut authors).await?;
        tx.commit().await.pg()?;
        Ok(outcomes)
    }
}

/// Writes the bulk path's pending messages; if that fails, writes them again through
/// the per-item path, each in its slot.
async fn flush(
    tx: &Transaction<'_>,
    bulk: &mut Bulk,
    outcomes: &mut [Result<Outcome>],
    authors: &mut HashMap<i64, User>,
) -> Result<()> {
    for pending in bulk.flush(tx).await? {
        let channel = id(pending.new.channel_id);
        let outcome =
            apply_in_savepoint(tx, EventWrite::CreateMessage(pending.new), authors).await?;
        if let Ok(outcome) = &outcome {
            bulk.applied(channel, outcome);
        }
        if let Some(slot) = outcomes.get_mut(pending.slot) {
            *slot = outcome;
        }
    }
    Ok(())
}

/// The authors of the batch's new messages, by id (unknown ids are left out).
pub(crate) async fn authors(
    tx: &Transaction<'_>,
    batch: &[EventWrite],
) -> Result<HashMap<i64, User>> {
    let mut ids: Vec<i64> = batch
        .iter()
        .filter_map(|item| match item {
            EventWrite::CreateMessage(new) => Some(id(new.author_id)),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    query(
        tx,
        "SELECT id, username, display_name FROM users WHERE id = ANY($1)",
        &[&ids],
    )
    .await?
    .iter()
    .map(|row| Ok((get(row, 0)?, user_from(row, 0)?)))
    .collect()
}

/// Applies one item inside its own savepoint. The outer `Err` means the transaction
/// itself is lost (the batch must fail); the inner one is the item's own failure,
/// already rolled back.
pub(crate) async fn apply_in_savepoint(
    tx: &Transaction<'_>,
    item: EventWrite,
    authors: &mut HashMap<i64, User>,
) -> Result<Result<Outcome>> {
    in_savepoint(tx, apply(tx, item, authors)).await
}

/// Runs `work` (statements on `tx`) inside a savepoint: its `Err` is rolled back to the
/// savepoint and answered as the inner one; the outer `Err` means the transaction
/// itself is lost.
pub(crate) async fn in_savepoint<T>(
    tx: &Transaction<'_>,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<Result<T>> {
    tx.batch_execute("SAVEPOINT event_item").await.pg()?;
    match work.await {
        Ok(value) => {
            tx.batch_execute("RELEASE SAVEPOINT event_item")
                .await
                .pg()?;
            Ok(Ok(value))
        }
        Err(err) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT event_item; RELEASE SAVEPOINT event_item")
                .await
                .pg()?;
            Ok(Err(err))
        }
    }
}

/// One item, with the batch contract's lookups in front of the shared writes.
async fn apply(
    tx: &Transaction<'_>,
    item: EventWrite,
    authors: &mut HashMap<i64, User>,
) -> Result<Outcome> {
    match item {
        EventWrite::CreateMessage(new) => Ok(match insert_message(tx, new, authors).await? {
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
            let (message, deleted) = message_in(tx, message, channel).await?;
            if deleted {
                return Err(no_message());
            }
            let (edited, offset) =
                update_content(tx, message, id(channel), &content, edited_at).await?;
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
            let (message, deleted) = message_in(tx, message, channel).await?;
            if deleted {
                return Ok(Outcome::Unchanged);
            }
            soft_delete(tx, message, id(channel), deleted_at)
                .await
                .map(event)
        }
        EventWrite::AddReaction {
            channel,
            message,
            user,
            emoji,
            max_distinct,
        } => {
            let (message, deleted) = message_in(tx, message, channel).await?;
            if deleted {
                return Err(no_message());
            }
            insert_reaction(tx, message, id(channel), user, &emoji, max_distinct)
                .await
                .map(maybe_event)
        }
        EventWrite::RemoveReaction {
            channel,
            message,
            user,
            emoji,
        } => {
            let (message, deleted) = message_in(tx, message, channel).await?;
            if deleted {
                return Err(no_message());
            }
            delete_reaction(tx, message, id(channel), user, &emoji)
                .await
                .map(maybe_event)
        }
        EventWrite::AddMember {
            channel,
            user,
            role,
            max_members,
        } => {
            let count = member_count(tx, channel).await?;
            if count >= u64::from(max_members) && !is_member(tx, channel, user).await? {
                return Err(StoreError::Limit(format!(
                    "a channel has at most {max_members} members"
                )));
            }
            insert_member(tx, id(channel), user, role)
                .await
                .map(maybe_event)
        }
        EventWrite::RemoveMember { channel, user } => {
            member_count(tx, channel).await?;
            delete_member(tx, id(channel), user).await.map(maybe_event)
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
async fn message_in(
    tx: &Transaction<'_>,
    message: MessageId,
    channel: ChannelId,
) -> Result<(i64, bool)> {
    let row = id(message);
    match message_channel(tx, row).await? {
        Some((found, deleted_at)) if found == channel => Ok((row, deleted_at.is_some())),
        _ => Err(no_message()),
    }
}

/// The channel's member count; `NotFound` unless the channel exists.
async fn member_count(tx: &Transaction<'_>, channel: ChannelId) -> Result<u64> {
    let row = query_opt(
        tx,
        "SELECT member_count FROM channels WHERE id = $1",
        &[&id(channel)],
    )
    .await?
    .ok_or_else(no_channel)?;
    Ok(to_u64(get(&row, 0)?))
}

/// Whether `user` is a member of `channel`.
async fn is_member(tx: &Transaction<'_>, channel: ChannelId, user: UserId) -> Result<bool> {
    let row = query_one(
        tx,
        "SELECT EXISTS (SELECT 1 FROM members WHERE channel_id = $1 AND user_id = $2)",
        &[&id(channel), &id(user)],
    )
    .await?;
    get(&row, 0)
}

/// `NotFound` for a message that is absent, elsewhere or deleted.
fn no_message() -> StoreError {
    StoreError::NotFound("message_id: no such message in this channel".into())
}
