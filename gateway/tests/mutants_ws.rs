//! WebSocket codec tests that kill the mutants cargo-mutants found alive in
//! `gateway::core::ws` (docs/mutants.md): limits at exactly their boundary (a single
//! frame of `max_message_bytes`, a 125-byte ping, a request head of exactly
//! `max_head_bytes`) and the state accessors the driver reads (`config`, `is_closing`,
//! `close_sent`, `close_received`).
//!
//! Written against the public API only, with client frames built byte by byte.

use gateway::core::ws::{parse_request, HandshakeError, WsConfig, WsConn, WsEvent};

const KEY: [u8; 4] = [0xa1, 0x5e, 0x07, 0x3c];

/// A masked client frame (payloads under 64 KiB).
fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&u16::try_from(n).expect("under 64 KiB").to_be_bytes());
        }
    }
    out.extend_from_slice(&KEY);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    out
}

fn feed(conn: &mut WsConn, bytes: &[u8]) -> Vec<WsEvent> {
    conn.handle_read(bytes);
    std::iter::from_fn(|| conn.poll_event()).collect()
}

/// Everything written so far, concatenated.
fn written(conn: &mut WsConn) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = conn.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    out
}

#[test]
fn config_is_the_one_given() {
    let config = WsConfig {
        max_message_bytes: 1_000,
        max_fragments: 3,
    };
    let conn = WsConn::new(config.clone());
    assert_eq!(conn.config(), config);
}

#[test]
fn a_single_frame_of_exactly_the_limit_is_accepted() {
    for (opcode, payload) in [(0x1, vec![b'a'; 100]), (0x2, vec![7; 100])] {
        let mut c = WsConn::new(WsConfig::with_max_message_bytes(100));
        let events = feed(&mut c, &client_frame(opcode, true, &payload));
        match &events[..] {
            [WsEvent::Text(b)] | [WsEvent::Binary(b)] => assert_eq!(&b[..], &payload[..]),
            other => panic!("{other:?}"),
        }
        assert!(!c.is_closing());
    }
}

#[test]
fn a_first_fragment_of_exactly_the_limit_is_accepted() {
    let mut c = WsConn::new(WsConfig::with_max_message_bytes(100));
    let mut wire = client_frame(0x2, false, &[1; 100]);
    wire.extend(client_frame(0x0, true, &[]));
    let events = feed(&mut c, &wire);
    assert!(
        matches!(&events[..], [WsEvent::Binary(b)] if b.len() == 100),
        "{events:?}"
    );
}

#[test]
fn ping_payload_limit_is_125_bytes_inclusive() {
    let mut c = WsConn::new(WsConfig::default());
    assert!(c.send_ping(&[9; 125]));
    let out = written(&mut c);
    assert_eq!(&out[..2], &[0x89, 125]);
    assert_eq!(out.len(), 2 + 125);
    assert!(!c.send_ping(&[9; 126]));
    assert!(written(&mut c).is_empty());
}

#[test]
fn closing_state_after_our_close() {
    let mut c = WsConn::new(WsConfig::default());
    assert!(!c.is_closing());
    assert!(!c.close_sent());
    assert!(!c.close_received());
    c.close(1001, "bye");
    assert!(c.is_closing(), "our close alone is closing");
    assert!(c.close_sent());
    assert!(!c.close_received());
    assert!(!c.should_close_socket());
}

#[test]
fn closing_state_after_the_peer_close() {
    let mut c = WsConn::new(WsConfig::default());
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"done");
    let events = feed(&mut c, &client_frame(0x8, true, &payload));
    assert_eq!(
        events,
        vec![WsEvent::Close {
            code: Some(1000),
            reason: "done".into()
        }]
    );
    assert!(c.is_closing());
    assert!(c.close_received());
    assert!(c.close_sent(), "the close was answered");
    assert!(c.should_close_socket());
}

#[test]
fn closing_state_after_a_protocol_error() {
    let mut c = WsConn::new(WsConfig::default());
    // A reserved opcode.
    let events = feed(&mut c, &client_frame(0x3, true, &[]));
    assert!(
        matches!(events[..], [WsEvent::ProtocolError { code: 1002, .. }]),
        "{events:?}"
    );
    assert!(c.is_closing());
    assert!(c.close_sent());
    assert!(!c.close_received());
    assert!(c.should_close_socket());
}

#[test]
fn a_request_head_of_exactly_the_limit_is_accepted() {
    let head = b"GET /gateway HTTP/1.1\r\n\
        Host: chat.example\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    let request = parse_request(head, head.len())
        .expect("valid")
        .expect("complete");
    assert_eq!(request.consumed, head.len());
    assert_eq!(request.path, "/gateway");
    assert_eq!(
        parse_request(head, head.len() - 1),
        Err(HandshakeError::HeadersTooLarge)
    );
}
