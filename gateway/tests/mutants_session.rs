//! Session state machine, heartbeat and rate limiter tests that kill the mutants
//! cargo-mutants found alive (docs/mutants.md): the JSON path, frame-level heartbeat
//! activity, fanout before READY, grid alignment of the frame limiter, and the
//! accessors the driver relies on (`encoding`, `queued_bytes`, `is_closing`,
//! `should_close_socket`).
//!
//! Written against the public API only, with client frames built byte by byte.

use bytes::Bytes;
use gateway::core::heartbeat::Heartbeat;
use gateway::core::ratelimit::WindowLimiter;
use gateway::core::session::{Action, Mode, Session, SessionConfig};
use protocol::codec::{self, Encoding};
use protocol::events::client::{Empty, Identify};
use protocol::events::server::Ready;
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::{ErrorCode, User, UserId};

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;

/// A masked client frame; `fin` false starts or continues a fragmented message.
fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mask = [0x11, 0x22, 0x33, 0x44];
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&u16::try_from(n).expect("under 64 KiB").to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn encoded(event: ClientEvent, id: Option<u32>, enc: Encoding) -> Vec<u8> {
    let mut payload = Vec::new();
    codec::encode_client(&Frame { event, id, s: None }, enc, &mut payload);
    payload
}

fn identify_event() -> ClientEvent {
    ClientEvent::Identify(Identify {
        token: "t".into(),
        status: None,
        positions: None,
    })
}

fn identify_frame() -> Vec<u8> {
    client_frame(
        BINARY,
        true,
        &encoded(identify_event(), None, Encoding::MsgPack),
    )
}

/// The unmasked server frames written so far: (opcode, payload).
fn written(session: &mut Session) -> Vec<(u8, Vec<u8>)> {
    let mut bytes = Vec::new();
    while let Some(chunk) = session.poll_transmit() {
        bytes.extend_from_slice(&chunk);
    }
    let mut frames = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 2 {
        let opcode = rest[0] & 0x0f;
        let (len, header) = match rest[1] & 0x7f {
            126 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 => panic!("no test writes 64 KiB"),
            n => (usize::from(n), 2),
        };
        frames.push((opcode, rest[header..header + len].to_vec()));
        rest = &rest[header + len..];
    }
    assert!(rest.is_empty(), "a partial frame was written");
    frames
}

fn close_code(session: &mut Session) -> Option<u16> {
    written(session)
        .into_iter()
        .find(|(op, _)| *op == CLOSE)
        .map(|(_, p)| u16::from_be_bytes([p[0], p[1]]))
}

fn ready() -> Ready {
    Ready {
        session_id: "1".into(),
        user: User {
            id: UserId::new(42),
            username: "ann".into(),
            display_name: "Ann".into(),
            status: None,
        },
        channels: vec![],
        blocked_user_ids: vec![],
        heartbeat_interval_ms: 30_000,
        resync: vec![],
    }
}

fn gateway(enc: Encoding) -> Session {
    Session::new(Mode::Gateway(enc), &SessionConfig::default(), 0)
}

/// A MessagePack session identified at t=1 (heartbeat deadline 45_001), output drained.
fn identified() -> Session {
    let mut s = gateway(Encoding::MsgPack);
    s.handle_read(&identify_frame(), 1);
    assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
    s.handle_ready(UserId::new(42), ready());
    assert_eq!(written(&mut s).len(), 1, "READY");
    assert_eq!(s.poll_timeout(), Some(45_001));
    s
}

#[test]
fn heartbeat_reports_its_interval() {
    assert_eq!(Heartbeat::new(30_000, 5).interval_ms(), 30_000);
    assert_eq!(Heartbeat::new(7, 0).interval_ms(), 7);
}

#[test]
fn limiter_window_starts_exactly_one_window_later() {
    // The grid is [0, 1000), [1000, 2000): frames at 1000 open the second window, so
    // they count against 1500, not against the (empty) first window.
    let mut rl = WindowLimiter::new(2, 1_000, 0);
    assert!(rl.allow(1_000));
    assert!(rl.allow(1_000));
    assert!(!rl.allow(1_500), "3 frames within [1000, 2000)");
}

#[test]
fn limiter_stays_on_the_grid_after_a_long_gap() {
    let mut rl = WindowLimiter::new(2, 1_000, 0);
    assert!(rl.allow(0));
    assert!(rl.allow(1));
    // Three windows later: the window is [3000, 4000), whatever came before.
    assert!(rl.allow(3_000));
    assert!(rl.allow(3_000));
    assert!(!rl.allow(3_999), "3 frames within [3000, 4000)");
}

#[test]
fn encoding_follows_the_mode() {
    assert_eq!(
        gateway(Encoding::MsgPack).encoding(),
        Some(Encoding::MsgPack)
    );
    assert_eq!(gateway(Encoding::Json).encoding(), Some(Encoding::Json));
    let echo = Session::new(Mode::Echo, &SessionConfig::default(), 0);
    assert_eq!(echo.encoding(), None);
}

#[test]
fn json_gateway_decodes_text_and_answers_in_text() {
    let mut s = gateway(Encoding::Json);
    let payload = encoded(identify_event(), None, Encoding::Json);
    s.handle_read(&client_frame(TEXT, true, &payload), 1);
    assert!(
        written(&mut s).is_empty(),
        "a gateway message is not echoed"
    );
    assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
    s.handle_ready(UserId::new(42), ready());
    let sent = written(&mut s);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, TEXT);
    let frame = codec::decode_server(&sent[0].1, Encoding::Json).unwrap();
    assert!(matches!(frame.event, ServerEvent::Ready(_)));
    // A JSON PING is answered with a JSON PONG carrying the id.
    let ping = encoded(ClientEvent::Ping(Empty {}), Some(4), Encoding::Json);
    s.handle_read(&client_frame(TEXT, true, &ping), 2);
    let sent = written(&mut s);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, TEXT);
    let frame = codec::decode_server(&sent[0].1, Encoding::Json).unwrap();
    assert_eq!(frame.id, Some(4));
    assert!(matches!(frame.event, ServerEvent::Pong(_)));
}

#[test]
fn a_fragment_is_heartbeat_activity() {
    let mut s = identified();
    let payload = encoded(ClientEvent::Ping(Empty {}), None, Encoding::MsgPack);
    let (head, tail) = payload.split_at(2);
    // The first fragment completes a frame but not a message.
    s.handle_read(&client_frame(BINARY, false, head), 40_000);
    s.handle_timeout(45_001);
    assert!(!s.is_closing(), "the fragment at 40 000 moved the deadline");
    // The partial-message timer (30 s from 40 000) comes before the heartbeat's.
    assert_eq!(s.poll_timeout(), Some(70_000));
    s.handle_read(&client_frame(CONTINUATION, true, tail), 50_000);
    assert_eq!(s.poll_timeout(), Some(95_000));
    assert!(!s.is_closing());
}

#[test]
fn bytes_that_do_not_complete_a_frame_are_not_activity() {
    let mut s = identified();
    // One byte of a frame header: no frame, so no proof of life.
    s.handle_read(&[0x82], 40_000);
    assert!(!s.is_closing());
    s.handle_timeout(45_001);
    assert_eq!(close_code(&mut s), Some(4009));
}

#[test]
fn fanout_frames_wait_for_ready() {
    let frame = Bytes::from_static(&[0x82, 0x01, 0x07]);
    let mut s = gateway(Encoding::MsgPack);
    s.handle_frame(frame.clone());
    assert!(written(&mut s).is_empty(), "before IDENTIFY");
    s.handle_read(&identify_frame(), 1);
    s.handle_frame(frame.clone());
    assert!(written(&mut s).is_empty(), "while IDENTIFY is checked");
    s.handle_ready(UserId::new(42), ready());
    assert_eq!(written(&mut s).len(), 1, "READY only");
    s.handle_frame(frame);
    assert_eq!(written(&mut s), vec![(BINARY, vec![0x07])]);
}

#[test]
fn queued_bytes_counts_what_is_not_taken() {
    let mut s = identified();
    assert_eq!(s.queued_bytes(), 0);
    s.handle_frame(Bytes::from_static(&[0x82, 0x01, 0x07]));
    s.handle_frame(Bytes::from_static(&[0x82, 0x02, 0x07, 0x08]));
    assert_eq!(s.queued_bytes(), 7);
    assert!(s.poll_transmit().is_some());
    assert_eq!(s.queued_bytes(), 4);
    assert!(s.poll_transmit().is_some());
    assert_eq!(s.queued_bytes(), 0);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn server_close_is_closing_but_keeps_the_socket_for_the_answer() {
    let mut s = identified();
    assert!(!s.is_closing());
    assert!(!s.should_close_socket());
    s.close(protocol::CloseCode::GoingAway);
    assert!(s.is_closing());
    assert!(
        !s.should_close_socket(),
        "the client's close has not arrived"
    );
    assert_eq!(close_code(&mut s), Some(1001));
    s.close(protocol::CloseCode::GoingAway);
    assert!(written(&mut s).is_empty(), "one close frame only");
}

#[test]
fn peer_close_is_answered_and_ends_the_socket() {
    let mut s = identified();
    let mut payload = 1000u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    s.handle_read(&client_frame(CLOSE, true, &payload), 2);
    assert!(s.is_closing());
    assert!(s.should_close_socket());
    assert_eq!(s.poll_action(), Some(Action::Closing));
    assert_eq!(close_code(&mut s), Some(1000));
}

#[test]
fn a_protocol_error_ends_the_socket() {
    let mut s = identified();
    // An unmasked client frame.
    s.handle_read(&[0x82, 0x00], 2);
    assert!(s.is_closing());
    assert!(s.should_close_socket());
    assert_eq!(close_code(&mut s), Some(1002));
}

#[test]
fn a_bad_identify_is_an_error_but_other_bad_events_before_it_close_4003() {
    // IDENTIFY whose token is not a string: BAD_REQUEST, the client may retry.
    let mut payload = Vec::new();
    payload.extend_from_slice(&[0x82, 0xa1, b't', 0xa8]);
    payload.extend_from_slice(b"IDENTIFY");
    payload.extend_from_slice(&[0xa1, b'd', 0x81, 0xa5]);
    payload.extend_from_slice(b"token");
    payload.push(0x07);
    let mut s = gateway(Encoding::MsgPack);
    s.handle_read(&client_frame(BINARY, true, &payload), 1);
    let sent = written(&mut s);
    assert_eq!(sent.len(), 1);
    match codec::decode_server(&sent[0].1, Encoding::MsgPack)
        .unwrap()
        .event
    {
        ServerEvent::Error(e) => {
            assert_eq!(e.code, ErrorCode::BadRequest);
            assert!(e.message.starts_with("IDENTIFY: token: "), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    assert!(!s.is_closing());
    assert_eq!(s.poll_action(), None);

    // An unknown event before IDENTIFY: 4003, no error event.
    let mut s = gateway(Encoding::MsgPack);
    let unknown = [
        0x82, 0xa1, b't', 0xa4, b'N', b'O', b'P', b'E', 0xa1, b'd', 0x80,
    ];
    s.handle_read(&client_frame(BINARY, true, &unknown), 1);
    let sent = written(&mut s);
    assert_eq!(sent.len(), 1, "only the close frame: {sent:?}");
    assert_eq!(sent[0].0, CLOSE);
    assert_eq!(&sent[0].1[..2], &4003u16.to_be_bytes());
    assert_eq!(s.poll_action(), Some(Action::Closing));
}

#[test]
fn an_unknown_event_error_names_the_event() {
    let mut s = identified();
    let unknown = [
        0x83, 0xa1, b't', 0xa4, b'N', b'O', b'P', b'E', 0xa1, b'd', 0x80, 0xa2, b'i', b'd', 0x07,
    ];
    s.handle_read(&client_frame(BINARY, true, &unknown), 2);
    let sent = written(&mut s);
    assert_eq!(sent.len(), 1);
    let frame = codec::decode_server(&sent[0].1, Encoding::MsgPack).unwrap();
    assert_eq!(frame.id, Some(7));
    match frame.event {
        ServerEvent::Error(e) => {
            assert_eq!(e.code, ErrorCode::BadRequest);
            assert_eq!(e.message, "unknown event type `NOPE`");
        }
        other => panic!("{other:?}"),
    }
    assert!(!s.is_closing());
}
