//! Cluster presence against a real Redis (`REDIS_URL`): several [`Presence`] values
//! as the nodes of one cluster under a fresh key prefix, publishing into one watched
//! bus, with a short TTL and grace. Skipped, saying so, without `REDIS_URL`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bus::{LocalBus, Subscription};
use protocol::events::ServerEvent;
use protocol::{UserId, UserStatus};
use storage::backend::sqlite::SqliteStore;
use storage::DynStore;

use super::{ClusterConfig, Presence};

const GRACE: Duration = Duration::from_millis(300);
const TTL: Duration = Duration::from_millis(600);
/// Long enough for a write's publication to reach the bus.
const SETTLE: Duration = Duration::from_millis(300);

use UserStatus::{Idle, Offline, Online};

/// Nodes sharing one Redis prefix, one store and one watched bus.
struct Nodes {
    url: String,
    prefix: String,
    store: DynStore,
    bus: Arc<LocalBus>,
    events: Subscription,
}

impl Nodes {
    fn new() -> Option<Self> {
        let url = match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!("skipped: REDIS_URL unset (cluster presence needs a Redis server)");
                return None;
            }
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let prefix = format!(
            "l4test:presence:{}:{now}:{}:",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let bus = Arc::new(LocalBus::new());
        let events = bus.watch_all();
        Some(Self {
            url,
            prefix,
            store: Arc::new(SqliteStore::open_in_memory().unwrap()),
            bus,
            events,
        })
    }

    async fn node(&self) -> Presence {
        let config = ClusterConfig::new(&self.url, &self.prefix, 0, TTL);
        Presence::cluster(self.store.clone(), self.bus.clone(), 250, GRACE, config)
            .await
            .unwrap()
    }

    /// The next status change published by any node, if one comes `within`.
    async fn next(&mut self, within: Duration) -> Option<(UserId, UserStatus)> {
        let batch = tokio::time::timeout(within, self.events.rx.recv())
            .await
            .ok()??;
        match &batch[0].event {
            ServerEvent::UserStatusChanged(s) => Some((s.user_id, s.status)),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Every status change published during `during`.
    async fn published(&mut self, during: Duration) -> Vec<(UserId, UserStatus)> {
        let deadline = Instant::now() + during;
        let mut seen = Vec::new();
        while let Some(change) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            seen.push(change);
        }
        seen
    }

    async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Deletes the prefix's keys (the nodes must be halted first).
    async fn clean(&self) {
        let mut conn = self.redis().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn cluster_online_on_one_node_is_seen_from_every_node() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let (a, b, api) = (nodes.node().await, nodes.node().await, nodes.node().await);
    let (u, v) = (UserId::new(7), UserId::new(8));
    let session = a.connect(u, Online).await;
    assert_eq!(b.status(u).await, Online);
    assert_eq!(
        api.statuses(&[u, v]).await,
        [Online, Offline],
        "the API node has no sessions"
    );
    assert_eq!(api.statuses(&[]).await, []);
    assert_eq!(
        nodes.published(SETTLE).await,
        [(u, Online)],
        "published once"
    );
    drop(session);
    for node in [&a, &b, &api] {
        node.halt();
    }
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_sessions_on_two_nodes_stay_online_until_the_last_closes() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let (a, b, api) = (nodes.node().await, nodes.node().await, nodes.node().await);
    let u = UserId::new(7);
    let on_a = a.connect(u, Online).await;
    let on_b = b.connect(u, Online).await;
    assert_eq!(
        nodes.published(SETTLE).await,
        [(u, Online)],
        "the second node changes nothing"
    );

    drop(on_a);
    assert_eq!(
        nodes.published(GRACE * 3).await,
        [],
        "still online on b: no offline"
    );
    assert_eq!(api.status(u).await, Online);

    drop(on_b);
    tokio::time::sleep(GRACE / 2).await;
    assert_eq!(api.status(u).await, Online, "still in b's grace");
    assert_eq!(
        nodes.published(GRACE * 3).await,
        [(u, Offline)],
        "offline once, after the grace"
    );
    assert_eq!(api.status(u).await, Offline);
    for node in [&a, &b, &api] {
        node.halt();
    }
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_a_dead_nodes_users_go_offline_once_within_grace_plus_ttl() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let (a, b) = (nodes.node().await, nodes.node().await);
    let (u, v) = (UserId::new(7), UserId::new(8));
    let _on_a = a.connect(u, Online).await;
    let _on_b = b.connect(v, Online).await;
    assert_eq!(nodes.published(SETTLE).await.len(), 2);

    // a dies: no cleanup, no more heartbeats; its session guard stays "open".
    a.halt();
    let died = Instant::now();
    // Scheduling allowance on a loaded machine (the bound itself is grace + TTL).
    let slack = Duration::from_millis(250);
    let change = nodes.next(GRACE + TTL + slack).await;
    let took = died.elapsed();
    assert_eq!(change, Some((u, Offline)), "after {took:?}");
    eprintln!("dead node's user published offline after {took:?} (grace {GRACE:?}, ttl {TTL:?})");
    assert_eq!(b.statuses(&[u, v]).await, [Offline, Online]);
    assert_eq!(nodes.published(TTL * 2).await, [], "offline published once");

    let mut redis = nodes.redis().await;
    let fields: i64 = redis::cmd("HLEN")
        .arg(format!("{}presence:7", nodes.prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    let beat: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{}nodes", nodes.prefix))
        .arg(a.node_id().unwrap())
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!((fields, beat), (0, None), "the dead node is forgotten");
    b.halt();
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_status_changes_reach_every_node_and_the_newest_wins() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let (a, b) = (nodes.node().await, nodes.node().await);
    let u = UserId::new(7);
    let _on_a = a.connect(u, Online).await;
    assert_eq!(nodes.published(SETTLE).await, [(u, Online)]);

    a.set_status(u, Idle).await;
    assert_eq!(b.status(u).await, Idle);
    assert_eq!(nodes.published(SETTLE).await, [(u, Idle)]);

    let _on_b = b.connect(u, Online).await;
    assert_eq!(
        a.status(u).await,
        Online,
        "the newest session's status wins"
    );
    assert_eq!(nodes.published(SETTLE).await, [(u, Online)]);

    b.set_status(u, Online).await;
    b.set_status(UserId::new(99), Idle).await;
    assert_eq!(
        nodes.published(SETTLE).await,
        [],
        "no change, no session: nothing"
    );
    a.halt();
    b.halt();
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_invisible_is_offline_everywhere() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let (a, b) = (nodes.node().await, nodes.node().await);
    let u = UserId::new(7);
    let session = a.connect(u, Offline).await;
    assert_eq!(b.status(u).await, Offline);
    assert_eq!(a.sessions(u), 1);
    drop(session);
    assert_eq!(
        nodes.published(GRACE * 3).await,
        [],
        "never shown: nothing published"
    );
    a.halt();
    b.halt();
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_a_node_writes_its_users_again_after_redis_lost_them() {
    let Some(nodes) = Nodes::new() else {
        return;
    };
    let (a, b) = (nodes.node().await, nodes.node().await);
    let u = UserId::new(7);
    let _session = a.connect(u, Online).await;
    // A Redis restart without persistence: every key is gone.
    nodes.clean().await;
    let deadline = Instant::now() + TTL * 2;
    while b.status(u).await != Online {
        assert!(Instant::now() < deadline, "not written again within 2 TTL");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.halt();
    b.halt();
    nodes.clean().await;
}

#[tokio::test]
async fn cluster_presence_without_redis_fails_to_start_with_a_reason() {
    let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
    let config = ClusterConfig::new("redis://127.0.0.1:1", "l4test:", 0, TTL);
    let started = Presence::cluster(store.clone(), Arc::new(LocalBus::new()), 250, GRACE, config);
    let err = started.await.err().expect("no Redis there");
    assert!(err.to_string().starts_with("Redis"), "{err}");
    let config = ClusterConfig::new("nonsense", "l4test:", 0, TTL);
    let started = Presence::cluster(store, Arc::new(LocalBus::new()), 250, GRACE, config);
    let err = started.await.err().expect("not a URL");
    assert!(err.to_string().starts_with("REDIS_URL"), "{err}");
}

/// A TCP proxy to Redis that can turn into a black hole (connections accepted,
/// nothing answered) and back; each switch drops the connections it had.
struct Proxy {
    url: String,
    forward: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(redis_url: &str) -> Self {
        let (scheme, rest) = redis_url.split_once("://").unwrap();
        let (auth, rest) = rest.rsplit_once('@').map_or(("", rest), |(a, r)| (a, r));
        let (target, db) = rest.split_once('/').map_or((rest, ""), |(t, d)| (t, d));
        let target = target.to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = listener.local_addr().unwrap();
        let auth = if auth.is_empty() {
            String::new()
        } else {
            format!("{auth}@")
        };
        let url = format!("{scheme}://{auth}{at}/{db}");
        let (forward, mode) = tokio::sync::watch::channel(true);
        let task = tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                let (mut mode, target) = (mode.clone(), target.clone());
                tokio::spawn(async move {
                    let forwarding = *mode.borrow_and_update();
                    if forwarding {
                        let mut server = tokio::net::TcpStream::connect(target).await.unwrap();
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = mode.changed() => {}
                        }
                    } else {
                        let _ = mode.changed().await;
                    }
                });
            }
        });
        Self { url, forward, task }
    }

    fn set_forwarding(&self, on: bool) {
        self.forward.send_replace(on);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn cluster_presence_degrades_to_local_while_redis_does_not_answer() {
    let Some(mut nodes) = Nodes::new() else {
        return;
    };
    let proxy = Proxy::start(&nodes.url).await;
    let config = ClusterConfig::new(&proxy.url, &nodes.prefix, 0, TTL);
    let a = Presence::cluster(nodes.store.clone(), nodes.bus.clone(), 250, GRACE, config)
        .await
        .unwrap();
    let b = nodes.node().await;
    let (u, v) = (UserId::new(7), UserId::new(8));
    let _on_a = a.connect(u, Online).await;
    assert_eq!(nodes.published(SETTLE).await, [(u, Online)]);

    proxy.set_forwarding(false);
    // The first call finds the connection dropped, later ones a silent Redis.
    let started = Instant::now();
    let _also_on_a = a.connect(v, Online).await;
    let _and_on_a = a.connect(UserId::new(9), Online).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "identifies held up {took:?}");
    eprintln!("two connects while Redis does not answer took {took:?}");
    assert_eq!(b.status(v).await, Offline, "the write did not reach Redis");
    let started = Instant::now();
    assert_eq!(
        a.statuses(&[u, v]).await,
        [Online, Online],
        "a shows its own sessions"
    );
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "reads go local at once"
    );
    assert!(
        nodes.published(SETTLE).await.contains(&(v, Online)),
        "a publishes what it alone sees"
    );

    proxy.set_forwarding(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.statuses(&[u, v]).await != [Online, Online] {
        assert!(Instant::now() < deadline, "a did not write its users again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.halt();
    b.halt();
    nodes.clean().await;
}
