//! The Redis bus: cluster mode (DESIGN.md idea 7).
//!
//! ```text
//!  publish(batch) ─► outbox task ─► one pipeline: ZADD each channel event to its replay
//!                    (ordered,       set (score = offset, capped, with a TTL), then one
//!                     retried)       PUBLISH per topic
//!
//!  Redis ─► inbox task (one pub/sub connection per process)
//!           ─► per channel: reorder by offset (hold, then fetch from the replay set)
//!           ─► LocalBus: the node-local replay mirror and the routing to shards
//! ```
//!
//! - **Every node, the publisher included, hears its events from Redis**: one path,
//!   one order per channel on every node.
//! - **Subscriptions follow the sessions**: a topic is subscribed in Redis while some
//!   local subscriber (gateway shard) wants it and unsubscribed when the last leaves.
//!   After a channel is subscribed, its replay set is read, so an event published just
//!   before the subscription took effect still arrives.
//! - **Replay** ([`Bus::replay`]) reads the node-local mirror (synchronously, as the
//!   shards need). [`Bus::prepare`] fills the mirror from the replay sets before a
//!   session registers, so a client resuming on any node is replayed what it missed.
//! - **Redis carries and caches, never decides**: offsets come from storage. When
//!   Redis is unreachable, `publish` queues (bounded: publishers then wait) and the
//!   outbox retries in order; when the pub/sub connection comes back, each channel
//!   is caught up from its replay set, and where that cannot prove nothing was missed
//!   (Redis restarted, or the set no longer reaches back) the channel's local sessions
//!   are told to resume ([`crate::Subscription::lost`]): never a silent gap.

mod inbox;
mod keys;
mod outbox;
pub mod reorder;
pub mod wire;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use protocol::ChannelId;
use tokio::sync::mpsc;

pub use self::keys::Keys;
use crate::{Bus, BusError, LocalBus, Publication, Replay, SubscriberId, Subscription, Topic};

/// Events kept per channel in its replay set.
pub const REPLAY_SET_EVENTS: usize = 256;

/// How long a replay set outlives its channel's last event.
pub const REPLAY_SET_TTL: Duration = Duration::from_secs(600);

/// Batches queued for Redis before publishers wait.
const OUTBOX_BATCHES: usize = 65_536;

/// How the bus is set up.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key and topic (several clusters or tests on one Redis).
    pub prefix: String,
    /// Events each node keeps per channel for replay (the local mirror).
    pub replay_capacity: usize,
}

/// What the inbox task is asked to do.
#[derive(Debug)]
enum Command {
    /// A topic; for a channel, the offset its first subscriber has (where its
    /// order starts).
    Subscribe(Topic, Option<u64>),
    Unsubscribe(Topic),
    /// Answered once every earlier command is done.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// The cluster bus.
pub struct RedisBus {
    local: Arc<LocalBus>,
    keys: Keys,
    outbox: mpsc::Sender<crate::Batch>,
    commands: mpsc::UnboundedSender<Command>,
    /// Local subscribers per topic: Redis is subscribed while a set is non-empty.
    wanted: Mutex<HashMap<Topic, HashSet<SubscriberId>>>,
    commands_conn: redis::aio::ConnectionManager,
    health: Arc<inbox::Health>,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Connects (failing with a one-line reason when Redis cannot be reached) and
    /// starts the outbox and inbox tasks on the current runtime.
    pub async fn connect(config: RedisConfig) -> Result<Self, BusError> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| BusError::Unavailable(format!("REDIS_URL: {e}")))?;
        let manager_config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(2));
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            client.get_connection_manager_with_config(manager_config),
        )
        .await
        .map_err(|_| BusError::Unavailable("Redis did not answer within 5 s".into()))?
        .map_err(|e| BusError::Unavailable(format!("Redis: {e}")))?;
        let keys = Keys::new(&config.prefix);
        let local = Arc::new(LocalBus::with_replay(config.replay_capacity));
        let (outbox_tx, outbox_rx) = mpsc::channel(OUTBOX_BATCHES);
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let health = Arc::new(inbox::Health::default());
        tokio::spawn(outbox::run(conn.clone(), keys.clone(), outbox_rx));
        tokio::spawn(inbox::run(inbox::Inbox::new(
            client,
            conn.clone(),
            keys.clone(),
            local.clone(),
            commands_rx,
            health.clone(),
        )));
        Ok(Self {
            local,
            keys,
            outbox: outbox_tx,
            commands: commands_tx,
            wanted: Mutex::new(HashMap::new()),
            commands_conn: conn,
            health,
        })
    }

    /// Waits until the pub/sub connection has subscribed everything asked so far
    /// (tests; a node does not need to wait).
    pub async fn settled(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = self.commands.send(Command::Flush(tx));
        let _ = rx.await;
    }
}

impl RedisBus {
    fn add(&self, subscriber: SubscriberId, topic: Topic, after: Option<u64>) {
        self.local.subscribe(subscriber, topic);
        let mut wanted = self.wanted.lock();
        let subs = wanted.entry(topic).or_default();
        if subs.is_empty() {
            let _ = self.commands.send(Command::Subscribe(topic, after));
        }
        subs.insert(subscriber);
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, batch: Vec<Publication>) -> Result<(), BusError> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch: crate::Batch = batch.into_iter().map(Arc::new).collect();
        self.outbox
            .send(batch)
            .await
            .map_err(|_| BusError::Unavailable("the bus is shutting down".into()))
    }

    fn subscriber(&self) -> Subscription {
        self.local.subscriber()
    }

    fn subscribe(&self, subscriber: SubscriberId, topic: Topic) {
        self.add(subscriber, topic, None);
    }

    fn subscribe_channel(&self, subscriber: SubscriberId, channel: ChannelId, after: u64) {
        self.add(subscriber, Topic::Channel(channel), Some(after));
    }

    fn unsubscribe(&self, subscriber: SubscriberId, topic: Topic) {
        self.local.unsubscribe(subscriber, topic);
        let mut wanted = self.wanted.lock();
        if let Some(subs) = wanted.get_mut(&topic) {
            if subs.remove(&subscriber) && subs.is_empty() {
                wanted.remove(&topic);
                let _ = self.commands.send(Command::Unsubscribe(topic));
            }
        }
    }

    fn remove_subscriber(&self, subscriber: SubscriberId) {
        self.local.remove_subscriber(subscriber);
        let mut wanted = self.wanted.lock();
        wanted.retain(|topic, subs| {
            if subs.remove(&subscriber) && subs.is_empty() {
                let _ = self.commands.send(Command::Unsubscribe(*topic));
                return false;
            }
            !subs.is_empty()
        });
    }

    fn replay(&self, channel: ChannelId, after: u64) -> Replay<Arc<Publication>> {
        self.local.replay(channel, after)
    }

    async fn prepare(&self, channels: &[ChannelId]) {
        let wanted: Vec<ChannelId> = {
            let subscribed = self.wanted.lock();
            channels
                .iter()
                .copied()
                .filter(|c| !subscribed.contains_key(&Topic::Channel(*c)))
                .collect()
        };
        if wanted.is_empty() {
            return;
        }
        let mut conn = self.commands_conn.clone();
        match inbox::read_sets(&mut conn, &self.keys, &wanted, None).await {
            Ok(sets) => {
                for (channel, events) in sets {
                    self.local.forget(channel);
                    for p in events {
                        self.local.remember(&Arc::new(p));
                    }
                }
            }
            // Without the sets the sessions get `resync` where they cannot be replayed.
            Err(err) => tracing::warn!(error = %err, "replay sets not read"),
        }
    }

    async fn ping(&self) -> bool {
        let mut conn = self.commands_conn.clone();
        let pong: redis::RedisResult<String> = tokio::time::timeout(
            Duration::from_secs(2),
            redis::cmd("PING").query_async(&mut conn),
        )
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        });
        pong.is_ok() && self.health.connected()
    }
}
