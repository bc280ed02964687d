//! Bad input over real sockets: each gets the error or close code of PROTOCOL.md
//! section 8, and the server keeps serving everyone else.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::time::Duration;

use common::{Client, Enc, Node};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A bystander that must keep working while others misbehave.
async fn bystander_still_served(node: &Node, client: &mut Client, group: u64) {
    client
        .send(json!({"t": "SEND_MESSAGE", "id": 77, "d": {"channel_id": group, "content": "still fine"}}))
        .await;
    assert_eq!(client.expect("ACK").await["id"], 77);
    let _ = node;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_get_their_close_codes() {
    let node = Node::start().await;
    let (_, token) = node.register("alice").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut bystander, _) = Client::identify(node.gateway_addr(), &token).await;
    let addr = node.gateway_addr();

    // Malformed MessagePack: 4002.
    let (mut c, _) = Client::identify(addr, &token).await;
    c.send_raw(WsMessage::Binary(vec![0xc1, 0xff, 0x00])).await;
    assert_eq!(c.expect_close().await, Some(4002));

    // A map whose `t` is not a string: 4002.
    let (mut c, _) = Client::identify(addr, &token).await;
    c.send(json!({"t": 5, "d": {}})).await;
    assert_eq!(c.expect_close().await, Some(4002));

    // Not a map at all: 4002.
    let (mut c, _) = Client::identify(addr, &token).await;
    c.send(json!([1, 2, 3])).await;
    assert_eq!(c.expect_close().await, Some(4002));

    // A request before IDENTIFY: 4003.
    let mut c = Client::connect(addr, Enc::MsgPack).await;
    c.send(json!({"t": "SEND_MESSAGE", "d": {"channel_id": group, "content": "x"}}))
        .await;
    assert_eq!(c.expect_close().await, Some(4003));

    // A bad token and an expired token: 4004.
    let mut c = Client::connect(addr, Enc::MsgPack).await;
    c.send(json!({"t": "IDENTIFY", "d": {"token": "not-a-jwt"}}))
        .await;
    assert_eq!(c.expect_close().await, Some(4004));
    let expired = service::auth::jwt::issue(
        b"test-secret-test-secret-test-secret!",
        protocol::UserId::new(1),
        1_000,
        60,
    )
    .unwrap();
    let mut c = Client::connect(addr, Enc::MsgPack).await;
    c.send(json!({"t": "IDENTIFY", "d": {"token": expired}}))
        .await;
    assert_eq!(c.expect_close().await, Some(4004));

    // A second IDENTIFY: 4005.
    let (mut c, _) = Client::identify(addr, &token).await;
    c.send(json!({"t": "IDENTIFY", "d": {"token": token}}))
        .await;
    assert_eq!(c.expect_close().await, Some(4005));

    // Over the 64 KiB message cap: 1009.
    let (mut c, _) = Client::identify(addr, &token).await;
    c.send_raw(WsMessage::Binary(vec![0x80; 70 * 1024])).await;
    assert_eq!(c.expect_close().await, Some(1009));

    bystander_still_served(&node, &mut bystander, group).await;
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_keep_the_connection_open() {
    let node = Node::start().await;
    let (_, token) = node.register("alice").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut c, _) = Client::identify(node.gateway_addr(), &token).await;

    // Unknown `t`: ERROR BAD_REQUEST with the request id.
    c.send(json!({"t": "FLY_TO_THE_MOON", "id": 1, "d": {}}))
        .await;
    let err = c.expect("ERROR").await;
    assert_eq!(
        (err["id"].clone(), err["d"]["code"].clone()),
        (json!(1), json!("BAD_REQUEST"))
    );

    // A wrong type inside `d`: BAD_REQUEST naming the field.
    c.send(json!({"t": "SEND_MESSAGE", "id": 2, "d": {"channel_id": "nope", "content": 5}}))
        .await;
    let err = c.expect("ERROR").await;
    assert_eq!(err["d"]["code"], "BAD_REQUEST");
    assert_eq!(err["id"], 2);

    // A missing field.
    c.send(json!({"t": "SEND_MESSAGE", "id": 3, "d": {"channel_id": group}}))
        .await;
    let err = c.expect("ERROR").await;
    assert!(
        err["d"]["message"].as_str().unwrap().contains("content"),
        "{err}"
    );

    // Blank and too long content.
    c.send(json!({"t": "SEND_MESSAGE", "id": 4, "d": {"channel_id": group, "content": "   "}}))
        .await;
    assert_eq!(c.expect("ERROR").await["d"]["code"], "BAD_REQUEST");
    c.send(json!({"t": "SEND_MESSAGE", "id": 5, "d": {"channel_id": group, "content": "x".repeat(4001)}})).await;
    assert_eq!(c.expect("ERROR").await["d"]["code"], "TOO_LARGE");

    // A channel that does not exist: NOT_FOUND. Two cursors: BAD_REQUEST.
    c.send(json!({"t": "SEND_MESSAGE", "id": 6, "d": {"channel_id": 12345, "content": "hi"}}))
        .await;
    assert_eq!(c.expect("ERROR").await["d"]["code"], "NOT_FOUND");
    c.send(json!({"t": "FETCH_MESSAGES", "id": 7, "d": {"channel_id": group, "before": 1, "after": 2}})).await;
    assert_eq!(c.expect("ERROR").await["d"]["code"], "BAD_REQUEST");

    // An error without an id still comes back, without an id.
    c.send(json!({"t": "SEND_MESSAGE", "d": {"channel_id": group, "content": ""}}))
        .await;
    let err = c.expect("ERROR").await;
    assert!(err.get("id").is_none() || err["id"].is_null());

    // PING -> PONG with the id; the connection is still fine.
    c.send(json!({"t": "PING", "id": 8, "d": {}})).await;
    assert_eq!(c.expect("PONG").await["id"], 8);
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmasked_client_frame_is_a_protocol_error() {
    let node = Node::start().await;
    let mut tcp = TcpStream::connect(node.gateway_addr()).await.unwrap();
    tcp.write_all(
        b"GET /gateway?v=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "RFC 6455 example accept key"
    );
    // An unmasked binary frame.
    tcp.write_all(&[0x82, 0x01, 0x00]).await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(n >= 4, "a close frame");
    assert_eq!(buf[0], 0x88);
    assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), 1002);
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_upgrade_requests_get_400_with_a_reason() {
    let node = Node::start().await;
    let cases = [
        ("GET /gateway HTTP/1.1", "13", "version"),
        ("GET /gateway?v=2 HTTP/1.1", "13", "version"),
        ("GET /gateway?v=1&encoding=xml HTTP/1.1", "13", "encoding"),
        ("POST /gateway?v=1 HTTP/1.1", "13", ""),
        ("GET /gateway?v=1 HTTP/1.1", "8", ""),
    ];
    for (line, version, reason) in cases {
        let mut tcp = TcpStream::connect(node.gateway_addr()).await.unwrap();
        let req = format!(
            "{line}\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: {version}\r\n\r\n"
        );
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("HTTP/1.1 400"),
            "{line} v{version}: {text}"
        );
        assert!(
            text.to_lowercase().contains(reason),
            "{line}: reason in {text}"
        );
    }
    // /echo is off by default.
    let mut tcp = TcpStream::connect(node.gateway_addr()).await.unwrap();
    tcp.write_all(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 404"));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_and_frame_rate_limit_close_with_their_codes() {
    let mut config = common::test_config();
    config.gateway.session.identify_timeout_ms = 300;
    config.gateway.session.heartbeat_interval_ms = 400;
    config.gateway.session.frames_per_window = 10;
    let node = Node::start_with(config).await;
    let (_, token) = node.register("alice").await;
    let addr = node.gateway_addr();

    // No IDENTIFY in time: 4003.
    let mut c = Client::connect(addr, Enc::MsgPack).await;
    assert_eq!(c.expect_close().await, Some(4003));

    // Silence for 1.5 heartbeat intervals: 4009; PINGs keep it alive before that.
    let (mut c, ready) = Client::identify(addr, &token).await;
    assert_eq!(ready["heartbeat_interval_ms"], 400);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.send(json!({"t": "PING", "d": {}})).await;
        c.expect("PONG").await;
    }
    assert_eq!(c.expect_close().await, Some(4009));

    // More data frames than allowed (PING not counted): 4008.
    let (mut c, _) = Client::identify(addr, &token).await;
    for _ in 0..20 {
        c.send(json!({"t": "PING", "d": {}})).await;
    }
    for i in 0..12 {
        c.send(json!({"t": "STOP_TYPING", "id": i, "d": {"channel_id": 1}}))
            .await;
    }
    assert_eq!(c.expect_close().await, Some(4008));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_with_1001() {
    let node = Node::start().await;
    let (_, token) = node.register("alice").await;
    let (mut c, _) = Client::identify(node.gateway_addr(), &token).await;
    let stack = node.stack;
    let stopping = tokio::spawn(stack.shutdown());
    assert_eq!(c.expect_close().await, Some(1001));
    drop(c);
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_per_channel_are_rate_limited_with_retry_after() {
    let mut config = common::test_config();
    config.chat.messages_per_window = 2;
    let node = Node::start_with(config).await;
    let (_, token) = node.register("alice").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut c, _) = Client::identify(node.gateway_addr(), &token).await;
    for i in 0..2 {
        c.send(json!({"t": "SEND_MESSAGE", "id": i, "d": {"channel_id": group, "content": "hi"}}))
            .await;
        assert_eq!(c.expect("ACK").await["id"], i);
    }
    c.send(json!({"t": "SEND_MESSAGE", "id": 9, "d": {"channel_id": group, "content": "hi"}}))
        .await;
    let err = c.expect("ERROR").await;
    assert_eq!(err["d"]["code"], "RATE_LIMITED");
    assert!(err["d"]["retry_after_ms"].as_u64().unwrap() > 0);
    node.stack.shutdown().await;
}
