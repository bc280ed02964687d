//! `layer4-loadtest`: many WebSocket clients in one group, each sending messages; it
//! reports send-to-ACK and send-to-delivery latency (HDR histograms) and checks that
//! every client got every message exactly once with contiguous offsets.
//!
//! Minimal on purpose (one scenario, one process); the load-test issue adds scenarios,
//! several processes and source addresses for more than ~19 000 connections.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::codec::{self, Encoding};
use protocol::events::client::{Identify, SendMessage};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::ChannelId;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "layer4-loadtest",
    about = "Drive a Layer4 node with WebSocket clients"
)]
struct Args {
    /// API base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    api: String,
    /// Gateway base URL.
    #[arg(long, default_value = "ws://127.0.0.1:3001")]
    gateway: String,
    /// Connected clients, all members of one group.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Clients among them that send.
    #[arg(long, default_value_t = 5)]
    senders: usize,
    /// Messages per sender.
    #[arg(long, default_value_t = 20)]
    messages: usize,
    /// Pause between a sender's messages, ms (the default rate limit is 5 per 5 s, so
    /// stay above 1000).
    #[arg(long, default_value_t = 1_200)]
    interval_ms: u64,
}

#[derive(Default)]
struct Stats {
    ack: Option<Histogram<u64>>,
    delivery: Option<Histogram<u64>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let run = now_ms();
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for i in 0..args.clients {
        let body: Value = http
            .post(format!("{}/api/auth/register", args.api))
            .json(&json!({"username": format!("lt{run}_{i}"), "password": "loadtest-password"}))
            .send()
            .await?
            .error_for_status()
            .context("register (raise AUTH_RATE_PER_MIN for many clients)")?
            .json()
            .await?;
        tokens.push(body["token"].as_str().context("token")?.to_owned());
        ids.push(body["user"]["id"].as_str().context("id")?.to_owned());
    }
    let body: Value = http
        .post(format!("{}/api/chat/channels", args.api))
        .bearer_auth(&tokens[0])
        .json(&json!({"name": format!("loadtest {run}"), "member_ids": ids[1..]}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let channel: ChannelId = body["channel"]["id"]
        .as_str()
        .context("channel id")?
        .parse()?;
    let expected = args.senders.min(args.clients) * args.messages;
    println!(
        "{} clients, {} senders x {} messages, channel {channel}",
        args.clients,
        args.senders.min(args.clients),
        args.messages
    );

    let stats = Arc::new(Mutex::new(Stats {
        ack: Some(Histogram::new(3)?),
        delivery: Some(Histogram::new(3)?),
    }));
    let started = Instant::now();
    // Nobody sends before every client is identified, so everyone can expect everything.
    let barrier = Arc::new(tokio::sync::Barrier::new(args.clients));
    let mut tasks = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let sends = if i < args.senders { args.messages } else { 0 };
        let url = format!("{}/gateway?v=1&encoding=msgpack", args.gateway);
        let stats = stats.clone();
        let interval = Duration::from_millis(args.interval_ms);
        let patience = interval * args.messages as u32 + Duration::from_secs(60);
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let plan = Plan {
                channel,
                sends,
                expected,
                interval,
                patience,
            };
            client(url, token, plan, barrier, stats).await
        }));
    }
    let mut failures = 0;
    for task in tasks {
        if let Err(err) = task.await? {
            eprintln!("client failed: {err:#}");
            failures += 1;
        }
    }
    let elapsed = started.elapsed();
    let stats = stats.lock().await;
    let (ack, delivery) = (stats.ack.as_ref(), stats.delivery.as_ref());
    for (name, h) in [("send->ACK", ack), ("send->delivery", delivery)] {
        if let Some(h) = h {
            println!(
                "{name:15} n={:>8} p50={:>6.2}ms p99={:>6.2}ms p99.9={:>6.2}ms max={:>6.2}ms",
                h.len(),
                h.value_at_quantile(0.5) as f64 / 1000.0,
                h.value_at_quantile(0.99) as f64 / 1000.0,
                h.value_at_quantile(0.999) as f64 / 1000.0,
                h.max() as f64 / 1000.0,
            );
        }
    }
    let delivered = delivery.map_or(0, Histogram::len);
    println!(
        "deliveries {delivered} in {:.1}s ({:.0}/s), exactly-once and in order: {}",
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64(),
        if failures == 0 { "yes" } else { "NO" }
    );
    if failures > 0 {
        bail!("{failures} clients failed their checks");
    }
    Ok(())
}

/// What one client sends and expects.
struct Plan {
    channel: ChannelId,
    sends: usize,
    expected: usize,
    interval: Duration,
    /// How long to wait for everything, from the start.
    patience: Duration,
}

/// One client: identify, wait for everyone, send its messages (and PING to stay
/// alive), receive `expected` messages exactly once with contiguous offsets.
async fn client(
    url: String,
    token: String,
    plan: Plan,
    barrier: Arc<tokio::sync::Barrier>,
    stats: Arc<Mutex<Stats>>,
) -> anyhow::Result<()> {
    let Plan {
        channel,
        sends,
        expected,
        interval,
        patience,
    } = plan;
    let connected = connect(&url, token).await;
    // Everyone reaches the barrier, even a client that failed, so nobody waits forever.
    barrier.wait().await;
    let (mut tx, mut rx, heartbeat) = connected?;
    let sender = tokio::spawn(async move {
        let ping = || WsMessage::Binary(encode(ClientEvent::Ping(Default::default()), None));
        let mut next_ping = tokio::time::Instant::now() + heartbeat;
        for i in 0..sends {
            if tokio::time::Instant::now() >= next_ping {
                tx.send(ping()).await?;
                next_ping += heartbeat;
            }
            let content = format!("{}", now_micros());
            let event = ClientEvent::SendMessage(SendMessage {
                channel_id: channel,
                content,
                nonce: Some(format!("{i}")),
                reply_to: None,
                attachment_ids: None,
            });
            tx.send(WsMessage::Binary(encode(event, Some(i as u32))))
                .await?;
            tokio::time::sleep(interval).await;
        }
        // Keep the connection alive until the receiver is done (it aborts this task).
        loop {
            tokio::time::sleep_until(next_ping).await;
            if tx.send(ping()).await.is_err() {
                break;
            }
            next_ping += heartbeat;
        }
        anyhow::Ok(())
    });
    let mut last_offset: Option<u64> = None;
    let mut seen: HashMap<u64, ()> = HashMap::new();
    let deadline = tokio::time::Instant::now() + patience;
    while seen.len() < expected {
        let msg = tokio::time::timeout_at(deadline, rx.next())
            .await
            .context("timed out waiting for messages")?
            .context("connection closed")??;
        let WsMessage::Binary(bytes) = msg else {
            continue;
        };
        let frame = codec::decode_server(&bytes, Encoding::MsgPack)?;
        let now = now_micros();
        match frame.event {
            ServerEvent::MessageReceived(data) => {
                let s = frame.s.context("channel event without s")?;
                if let Some(last) = last_offset {
                    if s != last + 1 {
                        bail!("offset gap: {last} -> {s}");
                    }
                }
                last_offset = Some(s);
                if seen.insert(data.message.id.get(), ()).is_some() {
                    bail!("duplicate message {}", data.message.id);
                }
                if let Ok(sent) = data.message.content.parse::<u64>() {
                    record(&stats, false, now.saturating_sub(sent)).await;
                }
            }
            ServerEvent::Ack(ack) => {
                if let Some(message) = ack.message {
                    if let Ok(sent) = message.content.parse::<u64>() {
                        record(&stats, true, now.saturating_sub(sent)).await;
                    }
                }
            }
            ServerEvent::Error(err) => bail!("ERROR {:?}: {}", err.code, err.message),
            _ => {}
        }
    }
    sender.abort();
    Ok(())
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    WsMessage,
>;
type Source = futures_util::stream::SplitStream<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

/// Connects and identifies; returns both halves and the PING interval.
async fn connect(url: &str, token: String) -> anyhow::Result<(Sink, Source, Duration)> {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("connect (raise the gateway's MAX_CONNECTIONS_PER_IP for many clients)")?;
    let (mut tx, mut rx) = ws.split();
    let identify = ClientEvent::Identify(Identify {
        token,
        status: None,
        positions: None,
    });
    tx.send(WsMessage::Binary(encode(identify, None))).await?;
    let heartbeat = loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), rx.next())
            .await
            .context("no READY")?
            .context("closed before READY")??;
        if let WsMessage::Binary(bytes) = msg {
            if let ServerEvent::Ready(ready) =
                codec::decode_server(&bytes, Encoding::MsgPack)?.event
            {
                break Duration::from_millis(ready.heartbeat_interval_ms / 2);
            }
        }
    };
    Ok((tx, rx, heartbeat))
}

fn encode(event: ClientEvent, id: Option<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode_client(&Frame { event, id, s: None }, Encoding::MsgPack, &mut out);
    out
}

async fn record(stats: &Mutex<Stats>, ack: bool, micros: u64) {
    let mut stats = stats.lock().await;
    let h = if ack {
        &mut stats.ack
    } else {
        &mut stats.delivery
    };
    if let Some(h) = h {
        let _ = h.record(micros.max(1));
    }
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn now_ms() -> u64 {
    now_micros() / 1000
}
