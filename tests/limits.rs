//! Limits against resource exhaustion, each attack run against a real server while a
//! bystander keeps being served (issue 9, item 4; docs/security.md lists them).

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::time::{Duration, Instant};

use common::{Client, Enc, Node};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const UPGRADE: &str = "GET /gateway?v=1&encoding=json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A masked client frame; `fin` false for all but the last fragment.
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    if payload.len() < 126 {
        out.push(0x80 | payload.len() as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A raw upgraded socket (JSON encoding), past the 101.
async fn upgraded(node: &Node) -> TcpStream {
    let mut tcp = TcpStream::connect(node.gateway_addr()).await.unwrap();
    tcp.write_all(UPGRADE.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    tcp
}

/// Reads server frames until a close frame; returns its code (None if the socket ended).
async fn close_code(tcp: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Parse complete frames in buf.
        let mut rest = &buf[..];
        while rest.len() >= 2 {
            let len = match rest[1] & 0x7f {
                126 if rest.len() >= 4 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
                127 if rest.len() >= 10 => (
                    u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n if n < 126 => (n as usize, 2),
                _ => break,
            };
            if rest.len() < len.1 + len.0 {
                break;
            }
            if rest[0] & 0x0f == 0x8 {
                let p = &rest[len.1..len.1 + len.0];
                return (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]));
            }
            rest = &rest[len.1 + len.0..];
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no close within 10 s"),
        }
    }
}

async fn bystander(node: &Node) -> (Client, u64) {
    let (_, token) = node.register("bystander").await;
    let group = node.group(&token, "calm", false, &[]).await;
    let (client, _) = Client::identify(node.gateway_addr(), &token).await;
    (client, group)
}

async fn still_served(client: &mut Client, group: u64) {
    client
        .send(json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": group, "content": "still here"}}))
        .await;
    assert_eq!(client.expect("ACK").await["id"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_that_never_finishes_is_closed_after_the_header_timeout() {
    let mut config = common::test_config();
    config.gateway.handshake_timeout_ms = 300;
    let node = Node::start_with(config).await;
    let (mut calm, group) = bystander(&node).await;
    let mut slow = TcpStream::connect(node.gateway_addr()).await.unwrap();
    slow.write_all(b"GET /gateway?v=1 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    still_served(&mut calm, group).await;
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(n, Ok(0) | Err(_)), "closed without an answer");
    assert!(started.elapsed() < Duration::from_secs(2));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_headers_get_431() {
    let node = Node::start().await;
    let mut tcp = TcpStream::connect(node.gateway_addr()).await.unwrap();
    let huge = format!(
        "GET /gateway?v=1 HTTP/1.1\r\nHost: x\r\nX-Junk: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    tcp.write_all(huge.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .unwrap()
        .ok();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 431"));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_ip_are_capped_with_429() {
    let mut config = common::test_config();
    config.gateway.max_connections_per_ip = 3;
    let node = Node::start_with(config).await;
    let (mut calm, group) = bystander(&node).await; // connection 1
    let a = Client::connect(node.gateway_addr(), Enc::MsgPack).await; // 2
    let b = Client::connect(node.gateway_addr(), Enc::MsgPack).await; // 3
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{}/gateway?v=1", node.gateway_addr())).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("expected 429, got {other:?}"),
    }
    still_served(&mut calm, group).await;
    drop(a);
    drop(b);
    // Freed slots are reusable.
    let mut ok = None;
    for _ in 0..50 {
        if let Ok(conn) =
            tokio_tungstenite::connect_async(format!("ws://{}/gateway?v=1", node.gateway_addr()))
                .await
        {
            ok = Some(conn);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok.is_some(), "a slot was released");
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_per_user_are_capped_with_4008() {
    let mut config = common::test_config();
    config.gateway.max_sessions_per_user = 2;
    let node = Node::start_with(config).await;
    let (_, token) = node.register("many").await;
    let (_one, _) = Client::identify(node.gateway_addr(), &token).await;
    let (_two, _) = Client::identify(node.gateway_addr(), &token).await;
    let mut three = Client::connect(node.gateway_addr(), Enc::MsgPack).await;
    three
        .send(json!({"t": "IDENTIFY", "d": {"token": token}}))
        .await;
    assert_eq!(three.expect_close().await, Some(4008));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_incomplete_is_closed_with_1008() {
    let mut config = common::test_config();
    config.gateway.session.partial_message_timeout_ms = 300;
    let node = Node::start_with(config).await;
    let (mut calm, group) = bystander(&node).await;
    let mut tcp = upgraded(&node).await;
    tcp.write_all(&frame(0x1, false, b"{\"t\":")).await.unwrap();
    still_served(&mut calm, group).await;
    assert_eq!(close_code(&mut tcp).await, Some(1008));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_in_very_many_tiny_fragments_is_bounded() {
    let node = Node::start().await;
    let (mut calm, group) = bystander(&node).await;
    let mut tcp = upgraded(&node).await;
    let mut bytes = frame(0x1, false, b"{");
    for _ in 0..2_000 {
        bytes.extend(frame(0x0, false, b" "));
    }
    let _ = tcp.write_all(&bytes).await;
    assert_eq!(close_code(&mut tcp).await, Some(1009));
    still_served(&mut calm, group).await;
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_a_decode_error_not_a_stack_overflow() {
    let node = Node::start().await;
    let (mut calm, group) = bystander(&node).await;
    let mut tcp = upgraded(&node).await;
    let deep = format!(
        "{{\"t\":\"PING\",\"d\":{{\"x\":{}{}}}}}",
        "[".repeat(30_000),
        "]".repeat(30_000)
    );
    // 60 KB: under the 64 KiB message cap, far over the nesting limit.
    let mut bytes = Vec::new();
    let payload = deep.as_bytes();
    let mask = [9u8, 8, 7, 6];
    bytes.push(0x81);
    bytes.push(0x80 | 126);
    bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    bytes.extend_from_slice(&mask);
    bytes.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&bytes).await.unwrap();
    assert_eq!(close_code(&mut tcp).await, Some(4002));
    still_served(&mut calm, group).await;
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off_and_the_channel_keeps_flowing() {
    let mut config = common::test_config();
    config.gateway.max_queued_bytes = 1024 * 1024;
    config.gateway.close_linger_ms = 2_000;
    config.gateway.session.frames_per_window = 100_000;
    config.chat.messages_per_window = 100_000;
    let node = Node::start_with(config).await;
    let (_, a_token) = node.register("talker").await;
    let (b_id, b_token) = node.register("sleeper").await;
    let (c_id, c_token) = node.register("reader").await;
    let group = node.group(&a_token, "busy", false, &[b_id, c_id]).await;

    // The sleeper: a small receive buffer, identifies, then never reads again.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut sleeper = socket.connect(node.gateway_addr()).await.unwrap();
    sleeper.write_all(UPGRADE.as_bytes()).await.unwrap();
    let identify = json!({"t": "IDENTIFY", "d": {"token": b_token}}).to_string();
    sleeper
        .write_all(&frame(0x1, true, identify.as_bytes()))
        .await
        .unwrap();

    let (mut talker, _) = Client::identify(node.gateway_addr(), &a_token).await;
    let (mut reader, _) = Client::identify(node.gateway_addr(), &c_token).await;
    let content = "x".repeat(3_900);
    let total = 1_500u32;
    // In batches, so the talker and the reader (who do read) never fall 1 MiB behind.
    let mut last = 0;
    for batch in 0..total / 50 {
        for i in 0..50 {
            talker
                .send(json!({"t": "SEND_MESSAGE", "id": batch * 50 + i, "d": {"channel_id": group, "content": content}}))
                .await;
        }
        for _ in 0..50 {
            talker.expect("ACK").await;
            talker.expect("MESSAGE_RECEIVED").await;
            let ev = reader.expect("MESSAGE_RECEIVED").await;
            let s = ev["s"].as_u64().unwrap();
            assert!(last == 0 || s == last + 1, "contiguous for the reader");
            last = s;
        }
    }
    // The sleeper was cut off: its stream ends (a 4010 close frame if it fit, then EOF
    // or a reset) well before it could have received everything.
    let started = Instant::now();
    let mut seen = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), sleeper.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => seen += n,
            Err(_) => panic!("the slow consumer was never disconnected"),
        }
    }
    assert!(
        seen < total as usize * 3_900,
        "it did not get everything: {seen} bytes"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    node.stack.shutdown().await;
}
