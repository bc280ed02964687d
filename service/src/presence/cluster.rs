//! Cluster presence in Redis: every node writes the presence of its own sessions,
//! and every node reads and publishes the cluster-wide status.
//!
//! ```text
//!  {prefix}nodes               sorted set: node -> last heartbeat (Redis clock, ms)
//!  {prefix}presence:{user}     hash: node -> "{set_at_ms}:{status}"
//!  {prefix}node-users:{node}   set: the users a node has a field for
//!  {prefix}reaper:{node}       string, with expiry: who is reaping a dead node
//! ```
//!
//! - **Writes** come from [`Local`] in the order they happened (one writer task, one
//!   pipeline per round): a node sets its field when a session of the user opens or
//!   the status changes, and deletes it when its grace period for the user passes.
//!   Each write runs [`scripts`](super::scripts)' `APPLY`, which answers whether the
//!   cluster-wide shown status changed: only then is `USER_STATUS_CHANGED` published,
//!   once, by the node that made the change.
//! - **Heartbeat**: every TTL/3 a node refreshes its score in `nodes`. A node whose
//!   score is older than the TTL is dead: its fields no longer count. If a node finds
//!   its own heartbeat had lapsed (Redis restarted, or it was reaped), or a write
//!   failed, it writes all its users again.
//! - **Reaping**: the heartbeat also lists dead nodes; a live node claims each
//!   (`SET NX` on its reaper key), deletes its fields user by user and publishes
//!   `offline` where the shown status became offline, then drops the node. A dead
//!   node's users are shown offline one TTL after its last heartbeat and published
//!   offline by the next heartbeat of a live node (at most TTL + TTL/3).
//! - **Faults**: every Redis call is time-boxed ([`CALL_TIMEOUT`]). While Redis
//!   fails, the node shows and publishes what its own sessions say (local only), and
//!   writes everything back once Redis answers again. Nothing here panics or blocks
//!   an identify for longer than the time box.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, StreamExt};
use protocol::{UserId, UserStatus};
use rand::Rng;
use redis::aio::ConnectionManager;
use redis::{ErrorKind, FromRedisValue, ServerErrorKind};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::local::{Local, Write};
use super::scripts::{Script, Scripts};
use super::Notifier;

/// Longest wait for one Redis call (an identify waits at most about this long).
pub const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Writes (or users read) per pipeline.
const ROUND: usize = 256;

/// Audience look-ups run at once by the publisher (publications stay in order).
const PUBLISH_CONCURRENCY: usize = 32;

/// Most reap rounds of one dead node per claim (`ROUND` users each).
const MAX_REAP_ROUNDS: usize = 4096;

/// Where and how a node keeps presence in Redis.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key (the bus's prefix: one cluster per prefix).
    pub prefix: String,
    /// This node's id, unique in the cluster (see [`ClusterConfig::new`]).
    pub node: String,
    /// A node whose heartbeat is older than this is dead; it beats every third of it.
    pub ttl: Duration,
}

impl ClusterConfig {
    /// A config with a fresh node id: the worker id, the pid and 32 random bits.
    pub fn new(url: &str, prefix: &str, worker_id: u16, ttl: Duration) -> Self {
        let random: u32 = rand::thread_rng().gen();
        Self {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            node: format!("w{worker_id}-p{}-{random:08x}", std::process::id()),
            ttl,
        }
    }
}

/// Why cluster presence could not start (at run time, failures degrade instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// `REDIS_URL` is not a Redis URL.
    #[error("REDIS_URL: {0}")]
    Url(String),
    /// Redis refused a call or the connection failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    TimedOut(Duration),
}

/// A node's part of cluster presence; dropping it stops its tasks.
pub(super) struct Cluster {
    node: Arc<Node>,
    tasks: Vec<AbortHandle>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Cluster {
    /// Connects, registers the node (its first heartbeat) and starts its tasks on the
    /// current runtime: the writer of `writes`, the heartbeat, the reaper and the
    /// publisher.
    pub(super) async fn start(
        config: ClusterConfig,
        local: Arc<Local>,
        notifier: Notifier,
        writes: mpsc::UnboundedReceiver<Write>,
    ) -> Result<Self, PresenceError> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| PresenceError::Url(e.to_string()))?;
        let manager = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let wait = Duration::from_secs(5);
        let conn = tokio::time::timeout(wait, client.get_connection_manager_with_config(manager))
            .await
            .map_err(|_| PresenceError::TimedOut(wait))??;
        let (published, changes) = mpsc::unbounded_channel();
        let node = Arc::new(Node {
            conn,
            keys: Keys(config.prefix),
            id: config.node,
            ttl_ms: u64::try_from(config.ttl.as_millis())
                .unwrap_or(u64::MAX)
                .max(3),
            scripts: Scripts::new(),
            published,
            dirty: AtomicBool::new(false),
            degraded: AtomicBool::new(false),
        });
        node.load_scripts().await?;
        node.beat().await?;
        tracing::info!(node = %node.id, ttl_ms = node.ttl_ms, "cluster presence: node registered");
        let (dead_tx, dead_rx) = mpsc::channel(1);
        let tasks = vec![
            tokio::spawn(write_loop(node.clone(), writes)).abort_handle(),
            tokio::spawn(heartbeat_loop(node.clone(), local, dead_tx)).abort_handle(),
            tokio::spawn(reap_loop(node.clone(), dead_rx)).abort_handle(),
            tokio::spawn(publish_loop(notifier, changes)).abort_handle(),
        ];
        Ok(Self { node, tasks })
    }

    /// The shown status of each of `users`, cluster-wide; `None` while Redis fails
    /// (the caller shows what this node knows, without waiting for a time box each
    /// read until a heartbeat gets through again).
    pub(super) async fn statuses(&self, users: &[UserId]) -> Option<Vec<UserStatus>> {
        if self.node.degraded.load(Ordering::SeqCst) {
            return None;
        }
        let mut pipe = redis::pipe();
        for chunk in users.chunks(ROUND) {
            pipe.cmd("EVALSHA")
                .arg(&self.node.scripts.read.sha)
                .arg(chunk.len() + 1)
                .arg(self.node.keys.nodes());
            for user in chunk {
                pipe.arg(self.node.keys.presence(user.get()));
            }
            pipe.arg(self.node.ttl_ms);
        }
        let shown: Vec<Vec<String>> = self.node.call(&pipe).await.ok()?;
        Some(shown.iter().flatten().map(|s| parse_status(s)).collect())
    }

    /// Stops the node's tasks: it no longer writes, beats, reaps or publishes (to
    /// the cluster it is then a node that died).
    pub(super) fn halt(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }

    /// This node's id.
    #[cfg(test)]
    pub(super) fn id(&self) -> &str {
        &self.node.id
    }
}

/// What the tasks share.
struct Node {
    conn: ConnectionManager,
    keys: Keys,
    id: String,
    ttl_ms: u64,
    scripts: Scripts,
    /// Cluster-wide changes of shown status, for the publisher, in order.
    published: mpsc::UnboundedSender<(UserId, UserStatus)>,
    /// Redis may be missing some of this node's presence: write it all again.
    dirty: AtomicBool,
    /// Redis calls are failing (logged once per outage).
    degraded: AtomicBool,
}

/// One write of a user's field, and what to do once it is done.
struct Pending {
    user: UserId,
    op: &'static str,
    status: UserStatus,
    fallback: Option<UserStatus>,
    done: Option<oneshot::Sender<()>>,
}

impl Pending {
    fn new(op: &'static str, user: UserId, status: UserStatus) -> Self {
        Self {
            user,
            op,
            status,
            fallback: None,
            done: None,
        }
    }
}

impl Node {
    /// Runs `pipe` within [`CALL_TIMEOUT`], loading the scripts again if Redis lost
    /// them (a restart). Notes whether Redis answers (logged once per outage).
    async fn call<T: FromRedisValue>(&self, pipe: &redis::Pipeline) -> Result<T, PresenceError> {
        let result = match self.query(pipe).await {
            Err(PresenceError::Redis(err))
                if err.kind() == ErrorKind::Server(ServerErrorKind::NoScript) =>
            {
                match self.load_scripts().await {
                    Ok(()) => self.query(pipe).await,
                    Err(err) => Err(err),
                }
            }
            other => other,
        };
        match &result {
            Ok(_) => self.recovered(),
            Err(err) => self.failed(err),
        }
        result
    }

    async fn query<T: FromRedisValue>(&self, pipe: &redis::Pipeline) -> Result<T, PresenceError> {
        let mut conn = self.conn.clone();
        tokio::time::timeout(CALL_TIMEOUT, pipe.query_async(&mut conn))
            .await
            .map_err(|_| PresenceError::TimedOut(CALL_TIMEOUT))?
            .map_err(PresenceError::from)
    }

    async fn load_scripts(&self) -> Result<(), PresenceError> {
        let mut pipe = redis::pipe();
        for script in self.scripts.all() {
            pipe.cmd("SCRIPT").arg("LOAD").arg(script.source);
        }
        let _: Vec<String> = self.query(&pipe).await?;
        Ok(())
    }

    /// Adds an `EVALSHA` of `script` to `pipe`; `ARGV[1]` is the TTL.
    fn eval<'p>(
        &self,
        pipe: &'p mut redis::Pipeline,
        script: &Script,
        keys: &[&str],
    ) -> &'p mut redis::Pipeline {
        pipe.cmd("EVALSHA").arg(&script.sha).arg(keys.len());
        for key in keys {
            pipe.arg(*key);
        }
        pipe.arg(self.ttl_ms)
    }

    /// Adds an `APPLY` of `op` on `node`'s field of `user` (a decimal id) to `pipe`.
    fn apply(
        &self,
        pipe: &mut redis::Pipeline,
        node: &str,
        op: &str,
        user: &str,
        status: UserStatus,
    ) {
        let (presence, nodes, members) = (
            self.keys.presence_of(user),
            self.keys.nodes(),
            self.keys.node_users(node),
        );
        self.eval(pipe, &self.scripts.apply, &[&presence, &nodes, &members])
            .arg(node)
            .arg(op)
            .arg(user)
            .arg(status.as_str());
    }

    /// Refreshes the heartbeat: whether the node was live before, and dead nodes.
    async fn beat(&self) -> Result<(bool, Vec<String>), PresenceError> {
        let mut pipe = redis::pipe();
        self.eval(&mut pipe, &self.scripts.heartbeat, &[&self.keys.nodes()])
            .arg(&self.id);
        let ((fresh, dead),): ((i64, Vec<String>),) = self.call(&pipe).await?;
        Ok((fresh == 1, dead))
    }

    /// Applies `batch` (this node's fields) and queues the publication of every
    /// cluster-wide change.
    async fn apply_batch(&self, batch: &[Pending]) -> Result<(), PresenceError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for p in batch {
            self.apply(
                &mut pipe,
                &self.id,
                p.op,
                &p.user.get().to_string(),
                p.status,
            );
        }
        let answers: Vec<(i64, String)> = self.call(&pipe).await?;
        for (p, (changed, shown)) in batch.iter().zip(answers) {
            if changed == 1 {
                self.publish(p.user, parse_status(&shown));
            }
        }
        Ok(())
    }

    /// Writes `batch` and answers its waiters; on failure publishes the fallbacks.
    async fn flush(&self, batch: &mut Vec<Pending>) -> bool {
        let result = self.apply_batch(batch).await;
        let ok = match &result {
            Ok(()) => true,
            Err(_) => {
                self.dirty.store(true, Ordering::SeqCst);
                false
            }
        };
        for p in batch.drain(..) {
            if !ok {
                self.fall_back(p.user, p.fallback);
            }
            if let Some(done) = p.done {
                let _ = done.send(());
            }
        }
        ok
    }

    /// Publishes a change as this node alone sees it (Redis failing); waiters are
    /// answered by dropping `done`.
    fn fall_back(&self, user: UserId, fallback: Option<UserStatus>) {
        if let Some(status) = fallback {
            self.publish(user, status);
        }
    }

    fn fail(&self, write: Write) {
        match write {
            Write::Set { user, fallback, .. } | Write::Remove { user, fallback } => {
                self.fall_back(user, fallback);
            }
            Write::Resync(_) => self.dirty.store(true, Ordering::SeqCst),
        }
    }

    /// Writes one round of writes, in order; false if Redis failed.
    async fn write_round(&self, round: &mut Vec<Write>) -> bool {
        let mut batch = Vec::new();
        let mut ok = true;
        for write in round.drain(..) {
            if !ok {
                self.fail(write);
                continue;
            }
            match write {
                Write::Set {
                    user,
                    status,
                    fallback,
                    done,
                } => batch.push(Pending {
                    fallback,
                    done,
                    ..Pending::new("set", user, status)
                }),
                Write::Remove { user, fallback } => batch.push(Pending {
                    fallback,
                    ..Pending::new("del", user, UserStatus::Offline)
                }),
                Write::Resync(all) => {
                    ok = self.flush(&mut batch).await && self.resync(all).await.is_ok();
                    if !ok {
                        self.dirty.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
        ok && self.flush(&mut batch).await
    }

    /// Makes Redis hold exactly this node's users, `all`: keeps or sets their fields,
    /// deletes the others.
    async fn resync(&self, all: Vec<(UserId, UserStatus)>) -> Result<(), PresenceError> {
        let mut pipe = redis::pipe();
        pipe.cmd("SMEMBERS").arg(self.keys.node_users(&self.id));
        let (held,): (Vec<String>,) = self.call(&pipe).await?;
        let here: HashSet<UserId> = all.iter().map(|(user, _)| *user).collect();
        let mut writes: Vec<Pending> = all
            .into_iter()
            .map(|(user, status)| Pending::new("keep", user, status))
            .collect();
        writes.extend(
            held.iter()
                .filter_map(|raw| raw.parse().ok().map(UserId::new))
                .filter(|user| !here.contains(user))
                .map(|user| Pending::new("del", user, UserStatus::Offline)),
        );
        tracing::info!(node = %self.id, users = here.len(), "cluster presence: writing this node's users again");
        for chunk in writes.chunks(ROUND) {
            self.apply_batch(chunk).await?;
        }
        Ok(())
    }

    /// Claims dead node `dead` and removes its fields, publishing `offline` where the
    /// shown status became offline. Stops if the node beats again.
    async fn reap(&self, dead: &str) -> Result<(), PresenceError> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.keys.reaper(dead))
            .arg(&self.id)
            .arg("NX")
            .arg("PX")
            .arg(self.ttl_ms.saturating_mul(2));
        let (claimed,): (redis::Value,) = self.call(&pipe).await?;
        if claimed == redis::Value::Nil {
            return Ok(());
        }
        tracing::info!(node = %dead, by = %self.id, "cluster presence: reaping a dead node");
        for _ in 0..MAX_REAP_ROUNDS {
            let mut pipe = redis::pipe();
            pipe.cmd("SRANDMEMBER")
                .arg(self.keys.node_users(dead))
                .arg(ROUND);
            let (users,): (Vec<String>,) = self.call(&pipe).await?;
            if users.is_empty() {
                break;
            }
            let mut pipe = redis::pipe();
            for user in &users {
                self.apply(&mut pipe, dead, "reap", user, UserStatus::Offline);
            }
            let answers: Vec<(i64, String)> = self.call(&pipe).await?;
            for (user, (changed, shown)) in users.iter().zip(answers) {
                match (changed, user.parse()) {
                    (-1, _) => {
                        tracing::info!(node = %dead, "cluster presence: the node is back; reaping stopped");
                        // Released, so its next death is reaped without waiting.
                        let mut pipe = redis::pipe();
                        pipe.cmd("DEL").arg(self.keys.reaper(dead));
                        let _: Vec<i64> = self.call(&pipe).await?;
                        return Ok(());
                    }
                    (1, Ok(id)) => self.publish(UserId::new(id), parse_status(&shown)),
                    _ => {}
                }
            }
        }
        let mut pipe = redis::pipe();
        let (nodes, members, reaper) = (
            self.keys.nodes(),
            self.keys.node_users(dead),
            self.keys.reaper(dead),
        );
        self.eval(
            &mut pipe,
            &self.scripts.forget,
            &[&nodes, &members, &reaper],
        )
        .arg(dead);
        let _: Vec<i64> = self.call(&pipe).await?;
        Ok(())
    }

    fn publish(&self, user: UserId, status: UserStatus) {
        // The publisher stops only with the node.
        let _ = self.published.send((user, status));
    }

    /// Logs the first failure of an outage.
    fn failed(&self, err: &PresenceError) {
        if !self.degraded.swap(true, Ordering::SeqCst) {
            tracing::warn!(node = %self.id, error = %err, "cluster presence: Redis failing; showing this node's sessions only until it answers");
        }
    }

    fn recovered(&self) {
        if self.degraded.swap(false, Ordering::SeqCst) {
            tracing::info!(node = %self.id, "cluster presence: Redis answers again");
        }
    }
}

/// The writer: this node's writes, in order, a round (one pipeline) at a time.
async fn write_loop(node: Arc<Node>, mut writes: mpsc::UnboundedReceiver<Write>) {
    let mut round = Vec::with_capacity(ROUND);
    while let Some(first) = writes.recv().await {
        round.push(first);
        while round.len() < ROUND {
            match writes.try_recv() {
                Ok(write) => round.push(write),
                Err(_) => break,
            }
        }
        if !node.write_round(&mut round).await {
            // Redis is failing: what is queued falls back at once (not a time box
            // each); the heartbeat writes everything again once Redis answers.
            while let Ok(write) = writes.try_recv() {
                node.fail(write);
            }
        }
    }
}

/// The heartbeat, every TTL/3; hands dead nodes to the reaper.
async fn heartbeat_loop(node: Arc<Node>, local: Arc<Local>, dead_nodes: mpsc::Sender<Vec<String>>) {
    let period = Duration::from_millis(node.ttl_ms / 3);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // On failure (logged by `call`) the next beat tries again.
        let Ok((fresh, dead)) = node.beat().await else {
            continue;
        };
        if !fresh {
            tracing::warn!(node = %node.id, "cluster presence: this node's heartbeat had lapsed");
        }
        if !fresh | node.dirty.swap(false, Ordering::SeqCst) {
            local.resync();
        }
        let dead: Vec<String> = dead.into_iter().filter(|d| *d != node.id).collect();
        if !dead.is_empty() {
            // Busy reaping: the next heartbeat lists them again.
            let _ = dead_nodes.try_send(dead);
        }
    }
}

/// The reaper: removes dead nodes' users (apart from the heartbeat, which must not
/// wait for it).
async fn reap_loop(node: Arc<Node>, mut dead_nodes: mpsc::Receiver<Vec<String>>) {
    while let Some(dead) = dead_nodes.recv().await {
        for dead in dead {
            // On failure (logged by `call`) the claim expires and a node tries again.
            let _ = node.reap(&dead).await;
        }
    }
}

/// The publisher: cluster-wide changes in the order they were decided, with their
/// audiences looked up concurrently.
async fn publish_loop(notifier: Notifier, changes: mpsc::UnboundedReceiver<(UserId, UserStatus)>) {
    let changes = stream::unfold(changes, |mut rx| async move {
        rx.recv().await.map(|change| (change, rx))
    });
    let ready = changes
        .map(|(user, status)| {
            let notifier = notifier.clone();
            async move { (notifier.audience(user).await, user, status) }
        })
        .buffered(PUBLISH_CONCURRENCY);
    let mut ready = std::pin::pin!(ready);
    while let Some((audience, user, status)) = ready.next().await {
        notifier.publish(audience, user, status).await;
    }
}

/// A status as the scripts write it; anything else reads as offline.
fn parse_status(s: &str) -> UserStatus {
    [UserStatus::Online, UserStatus::Idle, UserStatus::Away]
        .into_iter()
        .find(|status| status.as_str() == s)
        .unwrap_or(UserStatus::Offline)
}

/// The key names, under the prefix.
struct Keys(String);

impl Keys {
    fn nodes(&self) -> String {
        format!("{}nodes", self.0)
    }

    fn presence(&self, user: u64) -> String {
        format!("{}presence:{user}", self.0)
    }

    /// The hash of a user given as the decimal id stored in a node's set.
    fn presence_of(&self, user: &str) -> String {
        format!("{}presence:{user}", self.0)
    }

    fn node_users(&self, node: &str) -> String {
        format!("{}node-users:{node}", self.0)
    }

    fn reaper(&self, node: &str) -> String {
        format!("{}reaper:{node}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_keys_stay_under_the_prefix() {
        for status in [
            UserStatus::Online,
            UserStatus::Idle,
            UserStatus::Away,
            UserStatus::Offline,
        ] {
            assert_eq!(parse_status(status.as_str()), status);
        }
        assert_eq!(parse_status("nonsense"), UserStatus::Offline);
        let keys = Keys("t:".to_owned());
        assert_eq!(keys.presence(7), "t:presence:7");
        assert_eq!(keys.presence_of("7"), keys.presence(7));
        assert_eq!(keys.node_users("n1"), "t:node-users:n1");
        assert_eq!(keys.reaper("n1"), "t:reaper:n1");
        assert_eq!(keys.nodes(), "t:nodes");
        let a = ClusterConfig::new("redis://x", "t:", 3, Duration::from_secs(15));
        let b = ClusterConfig::new("redis://x", "t:", 3, Duration::from_secs(15));
        assert!(a.node.starts_with("w3-p"));
        assert_ne!(a.node, b.node, "ids are unique per start");
    }
}
