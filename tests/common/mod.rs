//! Test harness: a whole node on ephemeral ports, an HTTP client (reqwest) and an
//! independent WebSocket client (tokio-tungstenite) that speaks the wire format from
//! PROTOCOL.md with plain MessagePack/JSON values, not with our protocol crate.

#![allow(dead_code, clippy::unwrap_used)]

pub mod process;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use layer4::stack::{Database, Stack, StackConfig};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(5);

/// Set to a `postgres://` URL, test nodes keep their data in PostgreSQL, each node in
/// a fresh schema of its own (so tests still run in parallel on one database), instead
/// of an SQLite file in their folder. `.ci/run` runs the suite once more with it.
pub const DATABASE_ENV: &str = "LAYER4_TEST_DATABASE_URL";

/// A node's data: its folder (media, and the SQLite file) and, on PostgreSQL, its
/// schema, dropped with the folder. A restarted node given the same `DataDir` finds
/// the same data.
pub struct DataDir {
    dir: tempfile::TempDir,
    schema: Option<TestSchema>,
}

impl DataDir {
    /// A fresh, empty one.
    pub fn new() -> Self {
        let schema = std::env::var(DATABASE_ENV)
            .ok()
            .filter(|url| !url.is_empty())
            .map(TestSchema::new);
        Self {
            dir: tempfile::tempdir().unwrap(),
            schema,
        }
    }

    /// A fresh one on PostgreSQL reached through `url` (a proxy), whatever
    /// [`DATABASE_ENV`] says; its schema is dropped through `admin_url`.
    pub fn postgres_via(url: &str, admin_url: &str) -> Self {
        let mut schema = TestSchema::new(admin_url.to_owned());
        schema.node_base = url.to_owned();
        Self {
            dir: tempfile::tempdir().unwrap(),
            schema: Some(schema),
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the store lives.
    pub fn database(&self) -> Database {
        match &self.schema {
            Some(schema) => Database::Postgres(schema.url()),
            None => Database::Sqlite(self.path().join("layer4.db")),
        }
    }
}

/// A schema of its own for a test node in the database of [`DATABASE_ENV`]; dropped,
/// with everything in it, when the node's data is.
struct TestSchema {
    /// Where the schema is dropped from.
    base: String,
    /// Where the node reaches the database (the same, or a proxy to it).
    node_base: String,
    name: String,
}

impl TestSchema {
    fn new(base: String) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "l4e_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos % 1_000_000_000
        );
        Self {
            node_base: base.clone(),
            base,
            name,
        }
    }

    fn url(&self) -> String {
        let separator = if self.node_base.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}schema={}", self.node_base, self.name)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (url, name) = (self.base.clone(), self.name.clone());
        // Its own thread and runtime: the test's runtime may be gone or busy.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(std::io::Error::other)?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                    ))
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// A node with its data.
pub struct Node {
    pub stack: Stack,
    pub dir: DataDir,
    pub http: reqwest::Client,
}

/// A fast config for tests: cheap password hashing, generous API limits.
pub fn test_config() -> StackConfig {
    let mut chat = service::ChatConfig {
        password: service::config::PasswordParams::insecure_fast(),
        ..Default::default()
    };
    chat.jwt_secret = b"test-secret-test-secret-test-secret!".to_vec();
    chat.messages_per_window = 1_000;
    let api = api::ApiConfig {
        register_per_min: 10_000,
        ..Default::default()
    };
    let gateway = gateway::GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        shards: 2,
        close_linger_ms: 1_000,
        io: io_driver(),
        ..Default::default()
    };
    StackConfig {
        api_addr: "127.0.0.1:0".parse().unwrap(),
        chat,
        api,
        gateway,
    }
}

/// The IO driver under test, from `IO_DRIVER` (epoll, uring or auto; unset: auto).
/// CI runs the suite once per driver.
pub fn io_driver() -> gateway::IoDriver {
    match std::env::var("IO_DRIVER").as_deref() {
        Ok("epoll") => gateway::IoDriver::Epoll,
        Ok("uring") => gateway::IoDriver::Uring,
        Ok("auto") | Err(_) => gateway::IoDriver::Auto,
        Ok(other) => panic!("IO_DRIVER={other}: expected epoll, uring or auto"),
    }
}

impl Node {
    pub async fn start() -> Self {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: StackConfig) -> Self {
        Self::start_in(DataDir::new(), config).await
    }

    /// Starts on SQLite whatever [`DATABASE_ENV`] says (tests that read the file).
    pub async fn start_sqlite_with(config: StackConfig) -> Self {
        let dir = DataDir {
            dir: tempfile::tempdir().unwrap(),
            schema: None,
        };
        Self::start_in(dir, config).await
    }

    /// Starts on existing data (restart tests).
    pub async fn start_in(dir: DataDir, mut config: StackConfig) -> Self {
        // Uploads go to the node's own folder unless a test chose one.
        if config.api.media == api::media::MediaConfig::default() {
            config.api.media = api::media::MediaConfig::local(dir.path().join("media"));
        }
        let store = dir.database().open().await.unwrap();
        let stack = Stack::start(config, store).await.unwrap();
        Self {
            stack,
            dir,
            http: reqwest::Client::new(),
        }
    }

    pub fn api(&self, path: &str) -> String {
        format!("http://{}{}", self.stack.api_addr(), path)
    }

    pub fn gateway_addr(&self) -> SocketAddr {
        self.stack.gateway_addr()
    }

    /// Registers a user; returns (user id, token).
    pub async fn register(&self, username: &str) -> (u64, String) {
        let res = self
            .http
            .post(self.api("/api/auth/register"))
            .json(&json!({"username": username, "password": "correct horse", "display_name": username.to_uppercase()}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "register {username}");
        let body: Value = res.json().await.unwrap();
        let id = body["user"]["id"].as_str().unwrap().parse().unwrap();
        (id, body["token"].as_str().unwrap().to_owned())
    }

    /// An authenticated JSON request; returns (status, body or Null).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.api(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a group owned by `token`'s user with `members`; returns its id.
    pub async fn group(&self, token: &str, name: &str, public: bool, members: &[u64]) -> u64 {
        let ids: Vec<String> = members.iter().map(u64::to_string).collect();
        let (status, body) = self
            .call(
                "POST",
                "/api/chat/channels",
                token,
                Some(json!({"name": name, "visibility": if public {"public"} else {"private"}, "member_ids": ids})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["channel"]["id"].as_str().unwrap().parse().unwrap()
    }
}

/// The wire encoding of a test client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Enc {
    MsgPack,
    Json,
}

/// A gateway client on tokio-tungstenite.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub enc: Enc,
    /// Events read while looking for another one, in arrival order.
    stash: std::collections::VecDeque<Value>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, enc: Enc) -> Self {
        Self::connect_over(TcpStream::connect(addr).await.unwrap(), enc).await
    }

    /// [`Client::connect`] over a TCP connection the test opened (its socket options).
    pub async fn connect_over(tcp: TcpStream, enc: Enc) -> Self {
        let name = match enc {
            Enc::MsgPack => "msgpack",
            Enc::Json => "json",
        };
        let url = format!(
            "ws://{}/gateway?v=1&encoding={name}",
            tcp.peer_addr().unwrap()
        );
        let (ws, _) = tokio_tungstenite::client_async_tls(url, tcp).await.unwrap();
        Self {
            ws,
            enc,
            stash: Default::default(),
        }
    }

    /// Connects and identifies; returns the client and READY's `d`.
    pub async fn identify(addr: SocketAddr, token: &str) -> (Self, Value) {
        Self::identify_with(addr, Enc::MsgPack, json!({"token": token})).await
    }

    pub async fn identify_with(addr: SocketAddr, enc: Enc, d: Value) -> (Self, Value) {
        Self::connect(addr, enc).await.identified(d).await
    }

    /// Sends IDENTIFY with `d`; returns the client and READY's `d`.
    pub async fn identified(mut self, d: Value) -> (Self, Value) {
        self.send(json!({"t": "IDENTIFY", "d": d})).await;
        let ready = self.expect("READY").await;
        (self, ready["d"].clone())
    }

    /// Sends one envelope (a JSON value; encoded as MessagePack for msgpack clients,
    /// where JSON numbers become integers).
    pub async fn send(&mut self, envelope: Value) {
        let msg = match self.enc {
            Enc::MsgPack => WsMessage::Binary(rmp_serde::to_vec_named(&envelope).unwrap()),
            Enc::Json => WsMessage::Text(envelope.to_string()),
        };
        self.ws.send(msg).await.unwrap();
    }

    pub async fn send_raw(&mut self, msg: WsMessage) {
        self.ws.send(msg).await.unwrap();
    }

    /// The next envelope, or panics after WAIT.
    pub async fn next(&mut self) -> Value {
        match self.next_frame().await {
            Frame::Event(v) => v,
            Frame::Closed(code) => panic!("closed with {code:?} while waiting for an event"),
        }
    }

    /// The next envelope or close.
    pub async fn next_frame(&mut self) -> Frame {
        if let Some(v) = self.stash.pop_front() {
            return Frame::Event(v);
        }
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                Some(Ok(WsMessage::Binary(b))) => {
                    assert_eq!(self.enc, Enc::MsgPack, "binary frame on a json session");
                    return Frame::Event(rmp_serde::from_slice(&b).unwrap());
                }
                Some(Ok(WsMessage::Text(t))) => {
                    assert_eq!(self.enc, Enc::Json, "text frame on a msgpack session");
                    return Frame::Event(serde_json::from_str(&t).unwrap());
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    /// The first event named `t`, stashed or new; others read meanwhile are kept for
    /// later calls, in order (panics on close or timeout).
    pub async fn expect(&mut self, t: &str) -> Value {
        if let Some(i) = self.stash.iter().position(|v| v["t"] == t) {
            return self.stash.remove(i).unwrap();
        }
        loop {
            let v = match self.next_wire().await {
                Frame::Event(v) => v,
                Frame::Closed(code) => panic!("closed with {code:?} while waiting for {t}"),
            };
            if v["t"] == t {
                return v;
            }
            self.stash.push_back(v);
        }
    }

    async fn next_wire(&mut self) -> Frame {
        let stash = std::mem::take(&mut self.stash);
        let frame = self.next_frame().await;
        self.stash = stash;
        frame
    }

    /// Waits for the close and returns its code (events before it are dropped).
    pub async fn expect_close(&mut self) -> Option<u16> {
        self.stash.clear();
        loop {
            if let Frame::Closed(code) = self.next_frame().await {
                return code;
            }
        }
    }

    /// No channel event (an event with `s`) arrives within `ms`, nor is one unread;
    /// ephemeral events (presence, typing) are ignored.
    pub async fn expect_no_channel_events(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            if let Some(v) = self
                .stash
                .iter()
                .find(|v| v.get("s").is_some_and(|s| !s.is_null()))
            {
                panic!("expected no channel event, got {v}");
            }
            self.stash.clear();
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return,
                Ok(Some(Ok(WsMessage::Binary(b)))) => {
                    self.stash.push_back(rmp_serde::from_slice(&b).unwrap())
                }
                Ok(Some(Ok(WsMessage::Text(t)))) => {
                    self.stash.push_back(serde_json::from_str(&t).unwrap())
                }
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("expected no channel event, got {other:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
    }
}

#[derive(Debug)]
pub enum Frame {
    Event(Value),
    Closed(Option<u16>),
}

/// Reads an id that is a number (msgpack) or a decimal string (json).
pub fn id(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not an id: {other}"),
    }
}
