//! The inbox task: one pub/sub connection per process, its subscriptions, the
//! per-channel reorder buffers, and the catch-up after a (re)subscription.
//!
//! Everything heard goes through [`LocalBus::publish`], which keeps the node-local
//! replay mirror and routes to the shards. The task owns the subscription state, so
//! a reconnect simply subscribes everything it holds again and catches each channel
//! up from its replay set.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use protocol::ChannelId;
use tokio::sync::mpsc;

use super::keys::Keys;
use super::reorder::{Reorder, GIVE_UP, HOLD};
use super::{wire, Command};
use crate::{Bus, LocalBus, Publication, Topic};

/// Reconnect delays: from the first to the longest.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Topics per SUBSCRIBE when resubscribing many.
const SUBSCRIBE_CHUNK: usize = 512;

/// Whether the pub/sub connection is up (for `/readyz`).
#[derive(Debug, Default)]
pub(super) struct Health {
    connected: AtomicBool,
}

impl Health {
    pub(super) fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

/// The task's state.
pub(super) struct Inbox {
    client: redis::Client,
    conn: redis::aio::ConnectionManager,
    keys: Keys,
    local: Arc<LocalBus>,
    commands: mpsc::UnboundedReceiver<Command>,
    health: Arc<Health>,
    topics: HashSet<Topic>,
    channels: HashMap<ChannelId, Reorder<Publication>>,
    /// The Redis server's run id: a new one means it restarted and lost the sets.
    run_id: Option<String>,
}

/// Why a pub/sub session ended.
enum Ended {
    Shutdown,
    Lost(redis::RedisError),
}

impl From<redis::RedisError> for Ended {
    fn from(err: redis::RedisError) -> Self {
        Self::Lost(err)
    }
}

impl Inbox {
    pub(super) fn new(
        client: redis::Client,
        conn: redis::aio::ConnectionManager,
        keys: Keys,
        local: Arc<LocalBus>,
        commands: mpsc::UnboundedReceiver<Command>,
        health: Arc<Health>,
    ) -> Self {
        Self {
            client,
            conn,
            keys,
            local,
            commands,
            health,
            topics: HashSet::new(),
            channels: HashMap::new(),
            run_id: None,
        }
    }
}

/// Runs until the bus is dropped.
pub(super) async fn run(mut inbox: Inbox) {
    let mut delay = RECONNECT_FIRST;
    let mut resumed = false;
    loop {
        let started = Instant::now();
        match inbox.session(resumed).await {
            Ended::Shutdown => return,
            Ended::Lost(err) => {
                inbox.health.connected.store(false, Ordering::Relaxed);
                metrics::counter!("bus_redis_reconnects_total").increment(1);
                if started.elapsed() > RECONNECT_MAX * 2 {
                    delay = RECONNECT_FIRST;
                }
                tracing::warn!(error = %err, "Redis pub/sub connection lost; reconnecting in {delay:?}");
                // Commands keep arriving meanwhile: apply them to the state only.
                let deadline = tokio::time::sleep(delay);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        () = &mut deadline => break,
                        command = inbox.commands.recv() => match command {
                            None => return,
                            Some(command) => inbox.offline(command),
                        },
                    }
                }
                delay = (delay * 2).min(RECONNECT_MAX);
                resumed = true;
            }
        }
    }
}

impl Inbox {
    /// One pub/sub connection's life.
    async fn session(&mut self, resumed: bool) -> Ended {
        match self.session_inner(resumed).await {
            Ok(ended) | Err(ended) => ended,
        }
    }

    async fn session_inner(&mut self, resumed: bool) -> Result<Ended, Ended> {
        let pubsub = tokio::time::timeout(Duration::from_secs(5), self.client.get_async_pubsub())
            .await
            .map_err(|_| timeout())??;
        let (mut sink, mut stream) = pubsub.split();
        let names: Vec<String> = self.topics.iter().map(|t| self.keys.topic(*t)).collect();
        for chunk in names.chunks(SUBSCRIBE_CHUNK) {
            sink.subscribe(chunk).await?;
        }
        let run_id = server_run_id(&mut self.conn).await?;
        let restarted = self.run_id.as_ref().is_some_and(|old| *old != run_id);
        self.run_id = Some(run_id);
        self.health.connected.store(true, Ordering::Relaxed);
        if resumed {
            tracing::info!(
                restarted,
                topics = self.topics.len(),
                "Redis pub/sub connection back"
            );
            self.catch_up_all(restarted).await?;
        }
        let mut tick = tokio::time::interval(HOLD / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None => return Ok(Ended::Shutdown),
                    Some(Command::Subscribe(topic, after)) => {
                        if self.topics.insert(topic) {
                            if let (Topic::Channel(channel), Some(after)) = (topic, after) {
                                self.channels.insert(channel, Reorder::after(after));
                            }
                            sink.subscribe(self.keys.topic(topic)).await?;
                            if let Topic::Channel(channel) = topic {
                                self.catch_up_new(channel).await?;
                            }
                        }
                    }
                    Some(Command::Unsubscribe(topic)) => {
                        if self.topics.remove(&topic) {
                            self.forget(topic);
                            sink.unsubscribe(self.keys.topic(topic)).await?;
                        }
                    }
                    Some(Command::Flush(done)) => {
                        let _ = done.send(());
                    }
                },
                message = stream.next() => match message {
                    None => return Err(Ended::Lost(closed())),
                    Some(message) => self.heard(&message).await,
                },
                _ = tick.tick() => self.overdue().await?,
            }
        }
    }

    /// A command while disconnected: only the state changes (a reconnect applies it).
    fn offline(&mut self, command: Command) {
        match command {
            Command::Subscribe(topic, after) => {
                if self.topics.insert(topic) {
                    if let (Topic::Channel(channel), Some(after)) = (topic, after) {
                        self.channels.insert(channel, Reorder::after(after));
                    }
                }
            }
            Command::Unsubscribe(topic) => {
                if self.topics.remove(&topic) {
                    self.forget(topic);
                }
            }
            // Nothing is pending: every earlier command is in the state.
            Command::Flush(done) => {
                let _ = done.send(());
            }
        }
    }

    fn forget(&mut self, topic: Topic) {
        if let Topic::Channel(channel) = topic {
            self.channels.remove(&channel);
            self.local.forget(channel);
        }
    }

    /// A message from a topic.
    async fn heard(&mut self, message: &redis::Msg) {
        let Some(topic) = self.keys.parse_topic(message.get_channel_name()) else {
            return;
        };
        if !self.topics.contains(&topic) {
            return;
        }
        let bytes = Bytes::copy_from_slice(message.get_payload_bytes());
        let publications = match wire::decode_message(&bytes) {
            Ok(p) => p,
            Err(err) => {
                metrics::counter!("bus_redis_malformed_total").increment(1);
                tracing::warn!(error = %err, topic = message.get_channel_name(), "dropped");
                return;
            }
        };
        let now = Instant::now();
        let mut ready = Vec::with_capacity(publications.len());
        for p in publications {
            match (p.channel(), p.offset) {
                (Some(channel), Some(offset)) => {
                    let reorder = self.channels.entry(channel).or_default();
                    ready.extend(reorder.push(offset, p, now));
                }
                _ => ready.push(p),
            }
        }
        self.deliver(ready).await;
    }

    async fn deliver(&self, ready: Vec<Publication>) {
        if !ready.is_empty() {
            // Routing what Redis carried to this node's shards is the bus's own job.
            // LocalBus never fails; it waits while a shard's queue is full.
            #[allow(clippy::disallowed_methods)]
            let _ = self.local.publish(ready).await;
        }
    }

    /// Fills holes that waited too long from the replay sets, or skips them.
    async fn overdue(&mut self) -> Result<(), Ended> {
        let now = Instant::now();
        let holes: Vec<(ChannelId, u64, u64)> = self
            .channels
            .iter()
            .filter_map(|(c, r)| r.overdue(now, HOLD).map(|(from, to)| (*c, from, to)))
            .collect();
        for (channel, from, to) in holes {
            let found = read_range(&mut self.conn, &self.keys, channel, from, to).await?;
            let Some(reorder) = self.channels.get_mut(&channel) else {
                continue;
            };
            let mut ready = Vec::new();
            for p in found {
                if let Some(offset) = p.offset {
                    ready.extend(reorder.push(offset, p, now));
                }
            }
            if reorder.overdue(now, GIVE_UP).is_some() {
                metrics::counter!("bus_redis_skipped_holes_total").increment(1);
                tracing::warn!(%channel, from, to, "events missing from the replay set; passing on across the hole");
                ready.extend(reorder.skip());
            }
            self.deliver(ready).await;
        }
        Ok(())
    }

    /// A channel just subscribed: what its set holds (published before the
    /// subscription took effect) goes first.
    async fn catch_up_new(&mut self, channel: ChannelId) -> Result<(), Ended> {
        let mut sets = read_sets(&mut self.conn, &self.keys, &[channel], None).await?;
        let events = sets.pop().map(|(_, e)| e).unwrap_or_default();
        self.feed(channel, events).await;
        Ok(())
    }

    /// Passes a channel's events read from its set through its reorder buffer.
    async fn feed(&mut self, channel: ChannelId, events: Vec<Publication>) {
        let now = Instant::now();
        let reorder = self.channels.entry(channel).or_default();
        let mut ready = Vec::new();
        for p in events {
            if let Some(offset) = p.offset {
                ready.extend(reorder.push(offset, p, now));
            }
        }
        self.deliver(ready).await;
    }

    /// After a reconnect: every channel gets what it missed from its set, or its
    /// sessions are told to resume where continuity cannot be shown.
    async fn catch_up_all(&mut self, restarted: bool) -> Result<(), Ended> {
        let channels: Vec<(ChannelId, Option<u64>)> = self
            .topics
            .iter()
            .filter_map(|t| match t {
                Topic::Channel(c) => Some((*c, self.channels.get(c).and_then(Reorder::last))),
                Topic::User(_) => None,
            })
            .collect();
        for chunk in channels.chunks(SUBSCRIBE_CHUNK) {
            let ids: Vec<ChannelId> = chunk.iter().map(|(c, _)| *c).collect();
            let sets = read_sets(&mut self.conn, &self.keys, &ids, None).await?;
            for ((channel, last), (_, events)) in chunk.iter().zip(sets) {
                let first = events.iter().find_map(|p| p.offset);
                let continuous = match (last, first) {
                    (Some(last), Some(first)) => first <= last + 1,
                    // Nothing new in an intact set: nothing was missed.
                    (_, None) => !restarted,
                    (None, Some(_)) => !restarted,
                };
                if !continuous {
                    metrics::counter!("bus_redis_lost_channels_total").increment(1);
                    tracing::warn!(%channel, restarted, "cannot show nothing was missed; the channel's sessions resume");
                    self.channels.remove(channel);
                    self.local.forget(*channel);
                    self.local.lost(*channel);
                }
                self.feed(*channel, events).await;
            }
        }
        Ok(())
    }
}

/// The replay sets of `channels` (every event kept, or those after `after`), in
/// offset order, in the order of `channels`.
pub(super) async fn read_sets(
    conn: &mut redis::aio::ConnectionManager,
    keys: &Keys,
    channels: &[ChannelId],
    after: Option<u64>,
) -> redis::RedisResult<Vec<(ChannelId, Vec<Publication>)>> {
    let mut pipe = redis::pipe();
    let min = after.map_or_else(|| "-inf".to_owned(), |a| format!("({a}"));
    for channel in channels {
        pipe.cmd("ZRANGEBYSCORE")
            .arg(keys.replay_set(*channel))
            .arg(&min)
            .arg("+inf");
    }
    let sets: Vec<Vec<Vec<u8>>> = pipe.query_async(conn).await?;
    Ok(channels
        .iter()
        .copied()
        .zip(sets)
        .map(|(channel, members)| (channel, decode_members(members)))
        .collect())
}

/// The channel's events with offsets `from..=to` that its set still holds.
async fn read_range(
    conn: &mut redis::aio::ConnectionManager,
    keys: &Keys,
    channel: ChannelId,
    from: u64,
    to: u64,
) -> redis::RedisResult<Vec<Publication>> {
    let members: Vec<Vec<u8>> = redis::cmd("ZRANGEBYSCORE")
        .arg(keys.replay_set(channel))
        .arg(from)
        .arg(to)
        .query_async(conn)
        .await?;
    Ok(decode_members(members))
}

fn decode_members(members: Vec<Vec<u8>>) -> Vec<Publication> {
    members
        .into_iter()
        .filter_map(|m| match wire::decode_entry(&Bytes::from(m)) {
            Ok(p) => Some(p),
            Err(err) => {
                metrics::counter!("bus_redis_malformed_total").increment(1);
                tracing::warn!(error = %err, "replay set member dropped");
                None
            }
        })
        .collect()
}

/// The server's `run_id` (changes when Redis restarts).
async fn server_run_id(conn: &mut redis::aio::ConnectionManager) -> redis::RedisResult<String> {
    let info: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .unwrap_or_default()
        .trim()
        .to_owned())
}

fn timeout() -> Ended {
    Ended::Lost(redis::RedisError::from(std::io::Error::from(
        std::io::ErrorKind::TimedOut,
    )))
}

fn closed() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
}
