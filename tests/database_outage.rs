//! The database goes away under a running node and comes back: writes fail with
//! `UNAVAILABLE` (503 on the API, an `ERROR` on the gateway), `/readyz` answers 503,
//! and the node recovers by itself, with what it had acknowledged.
//!
//! The outage is a TCP proxy between the node and PostgreSQL that the test cuts and
//! restores, so the server itself (shared by the other tests) is never touched.
//! Skipped without a PostgreSQL `DATABASE_URL`.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Client, DataDir, Node};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// A TCP relay to `upstream` that can be cut (every relayed connection dropped, new
/// ones closed at once) and restored, on a fixed local port.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    relays: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let relays: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (up, relays) = (Arc::clone(&up), Arc::clone(&relays));
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection close
                    }
                    let upstream = upstream.clone();
                    relays.lock().await.push(tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }));
                }
            }
        });
        Self {
            addr,
            up,
            relays,
            accept,
        }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for relay in self.relays.lock().await.drain(..) {
            relay.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// (user@, host:port, database) of a `postgres://` URL.
fn parts(url: &str) -> (String, String, String) {
    let rest = url.strip_prefix("postgres://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host.to_owned()),
        None => (String::new(), authority.to_owned()),
    };
    let database = path.split('?').next().unwrap().to_owned();
    (user, host, database)
}

/// Sends a message with request `id`; its ACK or ERROR (other events skipped).
async fn send(ws: &mut Client, channel: u64, id: u64, content: &str) -> serde_json::Value {
    ws.send(
        json!({"t": "SEND_MESSAGE", "id": id, "d": {"channel_id": channel, "content": content}}),
    )
    .await;
    loop {
        let envelope = ws.next().await;
        if (envelope["t"] == "ACK" || envelope["t"] == "ERROR") && envelope["id"] == id {
            return envelope;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_unavailable_while_the_database_is_away_and_recover() {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") => url,
        _ => {
            println!("skipped: DATABASE_URL unset (or not postgres://)");
            return;
        }
    };
    let (user, host, database) = parts(&url);
    let proxy = Proxy::start(host).await;
    let via = format!(
        "postgres://{user}{}/{database}?connect_timeout=2",
        proxy.addr
    );
    let node = Node::start_in(DataDir::postgres_via(&via, &url), common::test_config()).await;
    let (_, token) = node.register("ann").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut ws, _) = Client::identify(node.gateway_addr(), &token).await;
    let answer = send(&mut ws, group, 1, "before").await;
    assert_eq!(answer["t"], "ACK", "{answer}");

    proxy.cut().await;
    let answer = send(&mut ws, group, 2, "during").await;
    assert_eq!(
        (&answer["t"], &answer["d"]["code"]),
        (&json!("ERROR"), &json!("UNAVAILABLE")),
        "{answer}"
    );
    let (status, body) = node
        .call(
            "POST",
            "/api/chat/channels",
            &token,
            Some(json!({"name": "h", "visibility": "private", "member_ids": []})),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("UNAVAILABLE")),
        "{body}"
    );
    let ready = node.http.get(node.api("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut id = 3;
    loop {
        let answer = send(&mut ws, group, id, "after").await;
        if answer["t"] == "ACK" {
            break;
        }
        assert_eq!(answer["d"]["code"], "UNAVAILABLE", "{answer}");
        assert!(Instant::now() < deadline, "the node did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
        id += 1;
    }
    let ready = node.http.get(node.api("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let path = format!("/api/chat/channels/{group}/messages");
    let (status, body) = node.call("GET", &path, &token, None).await;
    assert_eq!(status, 200);
    let contents: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        vec!["after", "before"],
        "nothing acknowledged lost, nothing refused stored"
    );
    node.stack.shutdown().await;
}
