//! An in-memory [`History`] for tests of the composite where no ScyllaDB runs: the
//! same answers as [`crate::backend::scylla::ScyllaHistory`] for writes applied in
//! order (it keeps no write timestamps), nothing durable, and a switch that makes the
//! next writes fail ([`MemoryHistory::fail_next_writes`]) to exercise the path where
//! offsets were reserved in PostgreSQL but the rows never reached history, and one
//! that makes writes slow ([`MemoryHistory::delay_writes`]) as a remote cluster's are.
//!
//! Not a backend: `layer4` never builds it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use protocol::{ChannelId, MessageId, UserId};

use super::history::History;
use crate::backend::scylla::rows::{count_reactions, int};
use crate::backend::scylla::StoredMessage;
use crate::error::{Result, StoreError};
use crate::ops::messages::{Edit, Page};

/// Message history in memory.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    state: Mutex<State>,
    fail_writes: AtomicUsize,
    writes: AtomicUsize,
    /// Milliseconds each write waits before it applies.
    delay_ms: AtomicU64,
    /// Whether `ping` fails, as a cluster that is down.
    down: AtomicBool,
    /// New messages still to write and then report as failed (a timeout after the
    /// write landed).
    land_failures: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    /// By id; `reactions` left empty (counted on read).
    messages: BTreeMap<u64, StoredMessage>,
    edits: HashMap<u64, Vec<Edit>>,
    /// Per message: `(emoji, user, offset of its REACTION_ADDED)`.
    reactions: HashMap<u64, Vec<(String, UserId, u64)>>,
    nonces: HashMap<(u64, u64, String), MessageId>,
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next `n` writes fail with `Unavailable` (as a cluster that is down).
    pub fn fail_next_writes(&self, n: usize) {
        self.fail_writes.store(n, Ordering::SeqCst);
    }

    /// Makes every write wait `delay` before it applies.
    pub fn delay_writes(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Makes the next `n` new messages be written and then reported as failed, as a
    /// write whose answer timed out after it landed.
    pub fn land_next_failures(&self, n: usize) {
        self.land_failures.store(n, Ordering::SeqCst);
    }

    /// Makes `ping` fail (`true`) or answer again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Writes that succeeded so far.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Waits the write delay, then fails the write when one is due to fail; else
    /// counts it.
    async fn write(&self) -> Result<()> {
        let delay = self.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let due = self
            .fail_writes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if due.is_ok() {
            return Err(StoreError::Unavailable(
                "memory history: write failed on purpose".into(),
            ));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// `message` with its reaction counts.
    fn hydrated(state: &State, message: &StoredMessage) -> StoredMessage {
        let rows = state
            .reactions
            .get(&message.id.get())
            .into_iter()
            .flatten()
            .map(|(emoji, user, offset)| {
                (
                    int(message.id.get()),
                    emoji.clone(),
                    int(user.get()),
                    Some(int(*offset)),
                )
            })
            .collect();
        let mut out = message.clone();
        out.reactions = count_reactions(rows)
            .remove(&message.id)
            .unwrap_or_default();
        out
    }
}

#[async_trait]
impl History for MemoryHistory {
    async fn ping(&self) -> Result<()> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "memory history: down on purpose".into(),
            ));
        }
        Ok(())
    }

    async fn channel_of(&self, id: MessageId) -> Result<Option<ChannelId>> {
        Ok(self
            .state
            .lock()
            .messages
            .get(&id.get())
            .map(|m| m.channel_id))
    }

    async fn message_in(&self, channel: ChannelId, id: MessageId) -> Result<Option<StoredMessage>> {
        let state = self.state.lock();
        Ok(state
            .messages
            .get(&id.get())
            .filter(|m| m.channel_id == channel)
            .map(|m| Self::hydrated(&state, m)))
    }

    async fn nonce_owner(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
    ) -> Result<Option<MessageId>> {
        Ok(self
            .state
            .lock()
            .nonces
            .get(&(channel.get(), author.get(), nonce.to_owned()))
            .copied())
    }

    async fn messages(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        let state = self.state.lock();
        let live = |m: &&StoredMessage| m.channel_id == channel && m.deleted_at.is_none();
        let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        let older = |bound: u64, inclusive: bool, n: u32| -> Vec<StoredMessage> {
            let end = if inclusive {
                std::ops::Bound::Included(bound)
            } else {
                std::ops::Bound::Excluded(bound)
            };
            state
                .messages
                .range((std::ops::Bound::Unbounded, end))
                .rev()
                .map(|(_, m)| m)
                .filter(live)
                .take(count(n))
                .map(|m| Self::hydrated(&state, m))
                .collect()
        };
        let newer = |bound: u64, n: u32| -> Vec<StoredMessage> {
            let mut out: Vec<StoredMessage> = state
                .messages
                .range((std::ops::Bound::Excluded(bound), std::ops::Bound::Unbounded))
                .map(|(_, m)| m)
                .filter(live)
                .take(count(n))
                .map(|m| Self::hydrated(&state, m))
                .collect();
            out.reverse();
            out
        };
        Ok(match page {
            Page::Latest => older(u64::MAX, true, limit),
            Page::Before(cursor) => older(cursor.get(), false, limit),
            Page::After(cursor) => newer(cursor.get(), limit),
            Page::Around(cursor) => {
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let half = (limit - 1) / 2;
                let mut out = newer(cursor.get(), half);
                out.extend(older(cursor.get(), true, limit - half));
                out
            }
        })
    }

    async fn edits(&self, id: MessageId) -> Result<Vec<Edit>> {
        Ok(self
            .state
            .lock()
            .edits
            .get(&id.get())
            .cloned()
            .unwrap_or_default())
    }

    async fn reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<Vec<(String, UserId)>> {
        let state = self.state.lock();
        if state.messages.get(&message.get()).map(|m| m.channel_id) != Some(channel) {
            return Ok(Vec::new());
        }
        Ok(state
            .reactions
            .get(&message.get())
            .into_iter()
            .flatten()
            .map(|(emoji, user, _)| (emoji.clone(), *user))
            .collect())
    }

    async fn write_message(&self, message: &StoredMessage) -> Result<()> {
        self.write().await?;
        let mut state = self.state.lock();
        if let Some(nonce) = &message.nonce {
            state.nonces.insert(
                (
                    message.channel_id.get(),
                    message.author_id.get(),
                    nonce.clone(),
                ),
                message.id,
            );
        }
        let mut row = message.clone();
        row.reactions = Vec::new();
        state.messages.insert(message.id.get(), row);
        let landed_failure =
            self.land_failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if landed_failure.is_ok() {
            return Err(StoreError::Unavailable(
                "memory history: written, then timed out on purpose".into(),
            ));
        }
        Ok(())
    }

    async fn write_edit(
        &self,
        current: &StoredMessage,
        content: &str,
        edited_at: u64,
        _offset: u64,
    ) -> Result<StoredMessage> {
        self.write().await?;
        let mut state = self.state.lock();
        state.edits.entry(current.id.get()).or_default().push(Edit {
            content: current.content.clone(),
            edited_at,
        });
        if let Some(row) = state.messages.get_mut(&current.id.get()) {
            row.content = content.to_owned();
            row.edited_at = Some(edited_at);
        }
        Ok(StoredMessage {
            content: content.to_owned(),
            edited_at: Some(edited_at),
            ..current.clone()
        })
    }

    async fn write_delete(
        &self,
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        _offset: u64,
    ) -> Result<()> {
        self.write().await?;
        if let Some(row) = self
            .state
            .lock()
            .messages
            .get_mut(&id.get())
            .filter(|m| m.channel_id == channel)
        {
            row.deleted_at = Some(deleted_at);
        }
        Ok(())
    }

    async fn write_reaction(
        &self,
        _channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        offset: u64,
    ) -> Result<()> {
        self.write().await?;
        let mut state = self.state.lock();
        let rows = state.reactions.entry(message.get()).or_default();
        if !rows.iter().any(|(e, u, _)| e == emoji && *u == user) {
            rows.push((emoji.to_owned(), user, offset));
        }
        Ok(())
    }

    async fn remove_reaction(
        &self,
        _channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
        _offset: u64,
    ) -> Result<()> {
        self.write().await?;
        if let Some(rows) = self.state.lock().reactions.get_mut(&message.get()) {
            rows.retain(|(e, u, _)| !(e == emoji && *u == user));
        }
        Ok(())
    }

    async fn delete_channel(&self, channel: ChannelId, _final_offset: u64) -> Result<()> {
        self.write().await?;
        let mut state = self.state.lock();
        let gone: Vec<u64> = state
            .messages
            .values()
            .filter(|m| m.channel_id == channel)
            .map(|m| m.id.get())
            .collect();
        for id in gone {
            state.messages.remove(&id);
            state.edits.remove(&id);
            state.reactions.remove(&id);
        }
        state.nonces.retain(|key, _| key.0 != channel.get());
        Ok(())
    }
}
