//! A member that stops reading, against the real `layer4` binary (its allocator, its
//! process): it is closed with 4010 once its queue passes `--max-queued-bytes`, the
//! other members get every message meanwhile, and the memory its queue held goes back
//! to the system: the server's heap returns to its level before.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::process::{group, register, rss_anon_kib, Dev};
use common::{Client, Enc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const MIB: u64 = 1024;
/// The sleeper's queue limit: large against the noise of the heap (KiB here: MIB).
const QUEUE_KIB: u64 = 16 * MIB;
/// What the heap may keep above its level before once the sleeper is gone.
const SLACK_KIB: u64 = 4 * MIB;

/// The heap once it stopped moving (the allocator returns freed pages over seconds).
async fn settled_rss(pid: u32) -> u64 {
    let mut last = rss_anon_kib(pid);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = rss_anon_kib(pid);
        if now.abs_diff(last) < 256 {
            return now;
        }
        last = now;
    }
    last
}

/// A JSON client of `token`'s user over `tcp`, identified.
async fn identified(tcp: tokio::net::TcpStream, token: &str) -> Ws {
    let client = Client::connect_over(tcp, Enc::Json).await;
    client.identified(json!({"token": token})).await.0.ws
}

async fn connected(ws: &str) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(ws).await.unwrap()
}

/// The member who sends: its socket, what it sends where, and how far the reader got.
struct Talker {
    ws: Ws,
    channel: String,
    content: String,
    next_id: u32,
    read: Arc<AtomicU64>,
}

impl Talker {
    /// Sends `n` messages, at most 64 unacknowledged and at most 1 000 ahead of the
    /// reader (who must not become a slow consumer itself); returns once all are
    /// acknowledged. The talker is a member too: its own events are read and dropped.
    async fn send_acked(&mut self, n: u32) {
        let (mut sent, mut acked) = (0u32, 0u32);
        while acked < n {
            while sent < n
                && sent - acked < 64
                && u64::from(self.next_id) < self.read.load(Ordering::Relaxed) + 1_000
            {
                self.next_id += 1;
                let m = json!({"t": "SEND_MESSAGE", "id": self.next_id, "d": {"channel_id": self.channel, "content": self.content}});
                self.ws.send(WsMessage::Text(m.to_string())).await.unwrap();
                sent += 1;
            }
            if sent == acked {
                // Nothing to wait for but the reader.
                tokio::time::sleep(Duration::from_millis(2)).await;
                continue;
            }
            let msg = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("the talker is answered")
                .unwrap()
                .unwrap();
            let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
            match v["t"].as_str() {
                Some("ACK") => acked += 1,
                Some("ERROR") => panic!("refused: {v}"),
                _ => {}
            }
        }
    }
}

/// A member that reads everything and checks the offsets are contiguous: counts them.
fn reader(mut socket: Ws, count: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = 0u64;
        while let Some(Ok(msg)) = socket.next().await {
            let Ok(text) = msg.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap();
            if v["t"] == "MESSAGE_RECEIVED" {
                let s = v["s"].as_u64().unwrap();
                assert!(last == 0 || s == last + 1, "offset {s} after {last}");
                last = s;
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
}

async fn closes_4010(http: &reqwest::Client, api: &str) -> bool {
    let body = http
        .get(format!("http://{api}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.contains("gateway_closes_total{code=\"4010\"} 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_stops_reading_is_closed_4010_and_its_memory_is_returned() {
    if !cfg!(target_os = "linux") {
        println!("skipped: reads the server's memory from /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let queue = (QUEUE_KIB * 1024).to_string();
    let limits = [
        "--messages-per-window",
        "1000000",
        "--frames-per-window",
        "1000000",
        "--max-queued-bytes",
        &queue,
    ];
    let (dev, api, ws) = Dev::start_logging(dir.path(), &limits, "warn");
    let pid = dev.child.id();
    let http = reqwest::Client::new();
    let (_, talker_token) = register(&http, &api, "talker").await;
    let (reader_id, reader_token) = register(&http, &api, "reader").await;
    let (sleeper_id, sleeper_token) = register(&http, &api, "sleeper").await;
    let channel = group(
        &http,
        &api,
        &talker_token,
        "busy",
        &[&reader_id, &sleeper_id],
    )
    .await;
    let received = Arc::new(AtomicU64::new(0));
    let mut talker = Talker {
        ws: identified(connected(&ws).await, &talker_token).await,
        channel,
        content: "x".repeat(3_900),
        next_id: 0,
        read: received.clone(),
    };
    let reading = reader(
        identified(connected(&ws).await, &reader_token).await,
        received.clone(),
    );

    // Warm up until what traffic grows for good has grown: SQLite's page cache (32
    // MiB) over ~40 MiB of messages, the channel's replay ring, the queues' buffers.
    talker.send_acked(10_000).await;
    let before = settled_rss(pid).await;

    // The sleeper: a small receive buffer, identified, then never read again.
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let tcp = tcp.connect(ws.parse().unwrap()).await.unwrap();
    let sleeper = identified(tcp, &sleeper_token).await;

    let mut peak = before;
    let mut batches = 0;
    while !closes_4010(&http, &api).await {
        batches += 1;
        // The queue (16 MiB) and the kernel's buffers take ~5 000 of these.
        assert!(batches <= 60, "the sleeper was never closed with 4010");
        talker.send_acked(256).await;
        peak = peak.max(rss_anon_kib(pid));
    }
    assert!(
        peak >= before + QUEUE_KIB / 2,
        "the sleeper's queue never showed in the heap: {before} KiB before, peak {peak} KiB"
    );

    // The reader got every message while the sleeper was cut off.
    let sent = u64::from(talker.next_id);
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < sent {
        assert!(Instant::now() < deadline, "the reader fell behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!reading.is_finished(), "the reader's checks failed");

    // And the heap returns to its level before.
    drop(sleeper);
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut after = rss_anon_kib(pid);
    while after > before + SLACK_KIB && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = rss_anon_kib(pid);
    }
    assert!(
        after <= before + SLACK_KIB,
        "{before} KiB before the sleeper, {peak} KiB at the peak, still {after} KiB"
    );
    println!("heap: {before} KiB before, {peak} KiB at the peak, {after} KiB after");
    reading.abort();
    dev.stop();
}
