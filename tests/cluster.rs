//! Cluster mode end to end: one `layer4 api` and two `layer4 gateway` processes (the
//! real binary) sharing one database and Redis (`REDIS_URL`, each test under its own
//! key prefix), and independent WebSocket clients on both gateways. Skipped, saying
//! so, without `REDIS_URL`.
//!
//! The database is a shared SQLite file (WAL, several processes), or, when
//! `LAYER4_TEST_DATABASE_URL` names a PostgreSQL database, a fresh schema in it per
//! cluster (as the rest of the end-to-end suite does on PostgreSQL).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{id, Client, Enc};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SECRET: &str = "cluster-test-secret-cluster-test-secret";

/// A child process, killed when dropped.
struct Proc {
    child: Child,
    name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// SIGKILL, now.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("{} killed", self.name);
    }
}

/// The cluster of one test.
struct Cluster {
    _dir: tempfile::TempDir,
    api: SocketAddr,
    gateways: Vec<SocketAddr>,
    procs: Vec<Proc>,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until the API at `addr` answers `/readyz`.
async fn wait_ready(http: &reqwest::Client, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "the API did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: REDIS_URL unset (cluster mode needs Redis)");
            None
        }
    }
}

impl Cluster {
    async fn start(redis: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let database = match std::env::var("LAYER4_TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let glue = if url.contains('?') { '&' } else { '?' };
                format!("{url}{glue}schema=l4cluster_{}_{nanos}", std::process::id())
            }
            _ => format!("sqlite://{}", dir.path().join("cluster.db").display()),
        };
        let prefix = format!("l4cluster:{}:{nanos}:", std::process::id());
        let spawn = |name: &'static str, args: Vec<String>, worker: u16| {
            let data = dir.path().join(name);
            let child = Command::new(env!("CARGO_BIN_EXE_layer4"))
                .args(&args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("JWT_SECRET", SECRET)
                .env("REDIS_URL", redis)
                .env("REDIS_PREFIX", &prefix)
                .env("DATABASE_URL", &database)
                .env("DATA_DIR", &data)
                .env("WORKER_ID", worker.to_string())
                .env("BIND", "127.0.0.1")
                .env("MESSAGES_PER_WINDOW", "100000")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap();
            Proc { child, name }
        };
        let api_port = free_port();
        let api = spawn(
            "api",
            vec![
                "api".into(),
                "--api-port".into(),
                api_port.to_string(),
                "--auth-rate-per-min".into(),
                "100000".into(),
                "--user-rate-per-sec".into(),
                "100000".into(),
            ],
            1,
        );
        let mut procs = vec![api];
        let api_addr = SocketAddr::from(([127, 0, 0, 1], api_port));
        // The API migrates the database first: processes migrating one SQLite file at
        // once could wait on its lock past the busy timeout.
        wait_ready(&reqwest::Client::new(), api_addr).await;
        let mut gateways = Vec::new();
        for (i, name) in [(2, "gateway-1"), (3, "gateway-2")] {
            let port = free_port();
            procs.push(spawn(
                name,
                vec![
                    "gateway".into(),
                    "--ws-port".into(),
                    port.to_string(),
                    "--shards".into(),
                    "2".into(),
                ],
                i,
            ));
            gateways.push(SocketAddr::from(([127, 0, 0, 1], port)));
        }
        let cluster = Self {
            _dir: dir,
            api: api_addr,
            gateways,
            procs,
            http: reqwest::Client::new(),
        };
        cluster.wait_up().await;
        cluster
    }

    async fn wait_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let api = self
                .http
                .get(format!("http://{}/readyz", self.api))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let mut gateways = true;
            for addr in &self.gateways {
                gateways &= tokio::net::TcpStream::connect(addr).await.is_ok();
            }
            if api && gateways {
                return;
            }
            assert!(Instant::now() < deadline, "the cluster did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn register(&self, username: &str) -> (u64, String) {
        let res = self
            .http
            .post(format!("http://{}/api/auth/register", self.api))
            .json(&json!({"username": username, "password": "correct horse", "display_name": username}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "register {username}");
        let body: Value = res.json().await.unwrap();
        let id = body["user"]["id"].as_str().unwrap().parse().unwrap();
        (id, body["token"].as_str().unwrap().to_owned())
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let res = self
            .http
            .post(format!("http://{}{path}", self.api))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }
}

/// A private Redis on a free port (so restarting it disturbs no other test).
struct PrivateRedis {
    port: u16,
    proc: Option<Proc>,
}

impl PrivateRedis {
    fn start() -> Option<Self> {
        let mut redis = Self {
            port: free_port(),
            proc: None,
        };
        redis.restart().then_some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts the server, empty (no persistence, as in production).
    fn restart(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("skipped: redis-server is not installed");
            return false;
        };
        self.proc = Some(Proc {
            child,
            name: "redis",
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn kill(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.kill();
        }
    }
}

/// A member's view of one channel: reconnects with `positions` when closed, reloads
/// history on `resync`, and checks that live events come once and in order.
struct Member {
    token: String,
    channel: u64,
    client: Option<Client>,
    /// The offset the member has everything up to.
    last: u64,
    /// Message ids received live, replayed or reloaded.
    ids: std::collections::HashSet<u64>,
}

impl Member {
    async fn join(addr: SocketAddr, token: &str, channel: u64) -> Self {
        let (client, ready) = Client::identify(addr, token).await;
        Self {
            token: token.to_owned(),
            channel,
            client: Some(client),
            last: ready_offset(&ready, channel),
            ids: Default::default(),
        }
    }

    /// Reads until every id of `acked` arrived, resuming on `gateways` (in turn) when
    /// closed.
    async fn until(&mut self, cluster: &Cluster, acked: &[u64], gateways: &[SocketAddr]) {
        use futures_util::StreamExt;
        let deadline = Instant::now() + Duration::from_secs(40);
        let mut turn = 0;
        while !acked.iter().all(|id| self.ids.contains(id)) {
            assert!(
                Instant::now() < deadline,
                "missing {:?}",
                acked
                    .iter()
                    .filter(|id| !self.ids.contains(id))
                    .collect::<Vec<_>>()
            );
            let Some(client) = self.client.as_mut() else {
                let addr = gateways[turn % gateways.len()];
                turn += 1;
                let resume = json!({"token": self.token, "positions": {self.channel.to_string(): self.last}});
                let Ok(mut client) = tokio::time::timeout(
                    Duration::from_secs(5),
                    Client::connect(addr, Enc::MsgPack),
                )
                .await
                else {
                    continue;
                };
                client.send(json!({"t": "IDENTIFY", "d": resume})).await;
                let ready = client.expect("READY").await["d"].clone();
                if ready["resync"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| id(c) == self.channel)
                {
                    self.reload(cluster).await;
                    self.last = ready_offset(&ready, self.channel);
                }
                self.client = Some(client);
                continue;
            };
            let frame = match tokio::time::timeout(Duration::from_millis(500), client.ws.next())
                .await
            {
                Err(_) => continue,
                Ok(Some(Ok(WsMessage::Binary(b)))) => rmp_serde::from_slice::<Value>(&b).unwrap(),
                Ok(Some(Ok(WsMessage::Close(_)) | Err(_)) | None) => {
                    self.client = None;
                    continue;
                }
                Ok(Some(Ok(_))) => continue,
            };
            if frame["t"] == "MESSAGE_RECEIVED"
                && id(&frame["d"]["message"]["channel_id"]) == self.channel
            {
                let s = frame["s"].as_u64().unwrap();
                assert_eq!(s, self.last + 1, "offsets contiguous, each once");
                self.last = s;
                self.ids.insert(id(&frame["d"]["message"]["id"]));
            } else if frame["s"].as_u64().is_some() && frame["d"]["channel_id"].is_string() {
                // Another channel event of this channel (none are sent in these tests).
            }
        }
    }

    /// Reloads the channel's recent history (what a client does on `resync`).
    async fn reload(&mut self, cluster: &Cluster) {
        let res = cluster
            .http
            .get(format!(
                "http://{}/api/chat/channels/{}/messages?limit=100",
                cluster.api, self.channel
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        for m in body["messages"].as_array().unwrap() {
            self.ids.insert(id(&m["id"]));
        }
    }
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{name}{nanos}")
}

/// Sends `n` messages from `client` into `channel`, waiting for each ACK; returns
/// the acknowledged message ids.
async fn send_acked(client: &mut Client, channel: u64, n: u32, tag: &str) -> Vec<u64> {
    let mut acked = Vec::new();
    for i in 0..n {
        client
            .send(json!({"t": "SEND_MESSAGE", "id": i + 1, "d": {"channel_id": channel, "content": format!("{tag} {i}"), "nonce": format!("{tag}-{i}")}}))
            .await;
        let ack = client.expect("ACK").await;
        acked.push(id(&ack["d"]["message"]["id"]));
    }
    acked
}

/// Reads channel events of `channel` until `count` arrived; checks offsets are
/// contiguous from `after + 1` (nothing lost, nothing doubled, in order).
async fn receive(client: &mut Client, channel: u64, after: u64, count: usize) -> Vec<u64> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while seen.len() < count {
        assert!(Instant::now() < deadline, "only {seen:?} of {count}");
        let v = client.next().await;
        if v["t"] == "MESSAGE_RECEIVED" && id(&v["d"]["message"]["channel_id"]) == channel {
            seen.push(v["s"].as_u64().unwrap());
        }
    }
    let expected: Vec<u64> = (after + 1..=after + count as u64).collect();
    assert_eq!(seen, expected, "contiguous, once, in order");
    seen
}

fn ready_offset(ready: &Value, channel: u64) -> u64 {
    ready["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| id(&c["id"]) == channel)
        .map(|c| c["offset"].as_u64().unwrap())
        .expect("the channel is in READY")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_two_gateways_chat_and_resume_on_the_other_node() {
    let Some(redis) = redis_url() else { return };
    let cluster = Cluster::start(&redis).await;
    let (g1, g2) = (cluster.gateways[0], cluster.gateways[1]);
    let (alice, alice_token) = cluster.register(&unique("alice")).await;
    let (bob, bob_token) = cluster.register(&unique("bob")).await;
    let (carol, carol_token) = cluster.register(&unique("carol")).await;
    let _ = alice;

    let body = cluster
        .post(
            "/api/chat/channels",
            &alice_token,
            json!({"name": "cluster", "member_ids": [bob.to_string(), carol.to_string()]}),
        )
        .await;
    let group: u64 = body["channel"]["id"].as_str().unwrap().parse().unwrap();

    let (mut a, ready_a) = Client::identify(g1, &alice_token).await;
    let (mut b, _) = Client::identify(g2, &bob_token).await;
    let (mut c, _) = Client::identify(g2, &carol_token).await;
    let start = ready_offset(&ready_a, group);

    // Alice on node 1 and Bob on node 2 both write; everyone sees all 20 in order.
    let (from_a, from_b) = tokio::join!(
        send_acked(&mut a, group, 10, "a"),
        send_acked(&mut b, group, 10, "b")
    );
    assert_eq!(from_a.len() + from_b.len(), 20);
    receive(&mut c, group, start, 20).await;

    // Carol leaves node 2 at her last offset; five more are sent; she resumes on
    // node 1 with `positions` and gets exactly those five.
    let seen = start + 20;
    c.close().await;
    send_acked(&mut a, group, 5, "a2").await;
    let positions = json!({"token": carol_token, "positions": {group.to_string(): seen}});
    let (mut c, ready_c) = Client::identify_with(g1, Enc::MsgPack, positions).await;
    assert!(
        ready_c["resync"].as_array().unwrap().is_empty(),
        "replayed, not resync: {ready_c}"
    );
    receive(&mut c, group, seen, 5).await;

    // A DM made through the API process reaches Bob on node 2.
    let dm = cluster
        .post(
            "/api/chat/dm/create",
            &alice_token,
            json!({"user_id": bob.to_string()}),
        )
        .await;
    let dm: u64 = dm["channel"]["id"].as_str().unwrap().parse().unwrap();
    let created = b.expect("CHANNEL_CREATED").await;
    assert_eq!(id(&created["d"]["channel"]["id"]), dm);
    let dm_start = created["d"]["channel"]["offset"].as_u64().unwrap();
    send_acked(&mut a, dm, 3, "dm").await;
    receive(&mut b, dm, dm_start, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_stream_loses_no_acknowledged_message() {
    let Some(redis) = redis_url() else { return };
    let mut cluster = Cluster::start(&redis).await;
    let (g1, g2) = (cluster.gateways[0], cluster.gateways[1]);
    let (_, alice_token) = cluster.register(&unique("alice")).await;
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(cluster.register(&unique(&format!("m{i}"))).await);
    }
    let ids: Vec<String> = members.iter().map(|(id, _)| id.to_string()).collect();
    let body = cluster
        .post(
            "/api/chat/channels",
            &alice_token,
            json!({"name": "kill", "member_ids": ids}),
        )
        .await;
    let group: u64 = body["channel"]["id"].as_str().unwrap().parse().unwrap();
    let (mut a, ready) = Client::identify(g1, &alice_token).await;
    let start = ready_offset(&ready, group);
    let mut on_g2 = Vec::new();
    for (_, token) in &members {
        on_g2.push(Client::identify(g2, token).await.0);
    }

    // 30 messages; node 2 dies after the first 10 reached its members.
    send_acked(&mut a, group, 10, "k1").await;
    let mut last: BTreeMap<usize, u64> = BTreeMap::new();
    for (i, client) in on_g2.iter_mut().enumerate() {
        let got = receive(client, group, start, 10).await;
        last.insert(i, *got.last().unwrap());
    }
    cluster.procs[2].kill();
    send_acked(&mut a, group, 20, "k2").await;

    // Their clients resume on node 1 and get exactly what they missed.
    for (i, (_, token)) in members.iter().enumerate() {
        let position = last[&i];
        let resume = json!({"token": token, "positions": {group.to_string(): position}});
        let (mut client, ready) = Client::identify_with(g1, Enc::MsgPack, resume).await;
        assert!(ready["resync"].as_array().unwrap().is_empty(), "{ready}");
        receive(&mut client, group, position, 20).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_stream_loses_no_acknowledged_message() {
    if redis_url().is_none() {
        return;
    }
    let Some(mut redis) = PrivateRedis::start() else {
        return;
    };
    let cluster = Cluster::start(&redis.url()).await;
    let gateways = cluster.gateways.clone();
    let (_, alice_token) = cluster.register(&unique("alice")).await;
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for i in 0..4 {
        let (id, token) = cluster.register(&unique(&format!("r{i}"))).await;
        ids.push(id.to_string());
        tokens.push(token);
    }
    let body = cluster
        .post(
            "/api/chat/channels",
            &alice_token,
            json!({"name": "restart", "member_ids": ids}),
        )
        .await;
    let group: u64 = body["channel"]["id"].as_str().unwrap().parse().unwrap();
    let (mut alice, _) = Client::identify(gateways[0], &alice_token).await;
    let mut members = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        members.push(Member::join(gateways[i % 2], token, group).await);
    }

    let mut acked = send_acked(&mut alice, group, 10, "before").await;
    redis.kill();
    // Sent while Redis is down: committed and acknowledged, published later.
    acked.extend(send_acked(&mut alice, group, 10, "during").await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(redis.restart(), "redis-server restarts");
    acked.extend(send_acked(&mut alice, group, 10, "after").await);

    for member in &mut members {
        member.until(&cluster, &acked, &gateways).await;
    }
}
