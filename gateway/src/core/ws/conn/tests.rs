//! Rule-by-rule tests of [`WsConn`], fed with masked client frames as byte slices, and
//! property tests: splitting the input anywhere changes nothing, and no input panics.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::core::ws::testutil::{client_close, client_frame, client_frame_raw};

const KEY: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];

fn conn() -> WsConn {
    WsConn::new(WsConfig::default())
}

fn feed(c: &mut WsConn, bytes: &[u8]) -> Vec<WsEvent> {
    c.handle_read(bytes);
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn text(s: &str) -> WsEvent {
    WsEvent::Text(Bytes::copy_from_slice(s.as_bytes()))
}

fn binary(b: &[u8]) -> WsEvent {
    WsEvent::Binary(Bytes::copy_from_slice(b))
}

fn error(code: u16) -> impl Fn(&WsEvent) -> bool {
    move |e| matches!(e, WsEvent::ProtocolError { code: c, .. } if *c == code)
}

/// Decodes unmasked server frames: `(first byte, payload)` each.
fn server_frames(c: &mut WsConn) -> Vec<(u8, Vec<u8>)> {
    let mut chunks = Vec::new();
    c.drain_into(&mut chunks);
    let wire: Vec<u8> = chunks.iter().flat_map(|b| b.iter().copied()).collect();
    let mut out = Vec::new();
    let mut rest = &wire[..];
    while !rest.is_empty() {
        assert_eq!(rest[1] & 0x80, 0, "server frames are unmasked");
        let (len, at) = match rest[1] {
            126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        out.push((rest[0], rest[at..at + len].to_vec()));
        rest = &rest[at + len..];
    }
    out
}

fn close_payload(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// Asserts that `wire` fails the connection with `code` and a matching close frame.
fn assert_fails_with(wire: &[u8], code: u16) {
    let mut c = conn();
    let events = feed(&mut c, wire);
    assert!(
        events.last().is_some_and(error(code)),
        "expected {code}, got {events:?}"
    );
    let frames = server_frames(&mut c);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].0, 0x88);
    assert_eq!(frames[0].1[..2], code.to_be_bytes());
    assert!(c.should_close_socket());
}

// ---- data messages ------------------------------------------------------------------

#[test]
fn single_frame_text_and_binary() {
    let mut c = conn();
    let mut wire = client_frame(0x1, true, "héllo".as_bytes(), KEY);
    wire.extend(client_frame(0x2, true, &[0, 1, 255], KEY));
    wire.extend(client_frame(0x1, true, b"", KEY));
    assert_eq!(
        feed(&mut c, &wire),
        [text("héllo"), binary(&[0, 1, 255]), text("")]
    );
    assert_eq!(c.frames_received(), 3);
    assert!(!c.is_closing());
}

#[test]
fn fragmented_message_reassembles() {
    let mut c = conn();
    let mut wire = client_frame(0x1, false, b"Hel", KEY);
    wire.extend(client_frame(0x0, false, b"", KEY));
    wire.extend(client_frame(0x0, true, b"lo", KEY));
    assert_eq!(feed(&mut c, &wire), [text("Hello")]);
    assert_eq!(c.frames_received(), 3);
}

#[test]
fn control_frames_interleave_with_fragments() {
    let mut c = conn();
    let mut wire = client_frame(0x2, false, b"ab", KEY);
    wire.extend(client_frame(0x9, true, b"p", KEY));
    wire.extend(client_frame(0xA, true, b"", KEY));
    wire.extend(client_frame(0x0, true, b"cd", KEY));
    assert_eq!(
        feed(&mut c, &wire),
        [WsEvent::Ping, WsEvent::Pong, binary(b"abcd")]
    );
    assert_eq!(server_frames(&mut c), [(0x8A, b"p".to_vec())]);
}

#[test]
fn payload_arriving_byte_by_byte() {
    let mut c = conn();
    let wire = client_frame(0x1, true, "€uro".as_bytes(), KEY);
    let mut events = Vec::new();
    for b in &wire {
        events.extend(feed(&mut c, std::slice::from_ref(b)));
    }
    assert_eq!(events, [text("€uro")]);
}

#[test]
fn continuation_without_a_message_is_1002() {
    assert_fails_with(&client_frame(0x0, true, b"x", KEY), 1002);
}

#[test]
fn new_message_during_a_fragmented_one_is_1002() {
    let mut wire = client_frame(0x1, false, b"a", KEY);
    wire.extend(client_frame(0x1, true, b"b", KEY));
    assert_fails_with(&wire, 1002);
}

// ---- limits -------------------------------------------------------------------------

#[test]
fn message_at_the_limit_is_accepted() {
    let mut c = WsConn::new(WsConfig::with_max_message_bytes(100));
    let mut wire = client_frame(0x2, false, &[1; 60], KEY);
    wire.extend(client_frame(0x0, true, &[2; 40], KEY));
    let events = feed(&mut c, &wire);
    assert!(matches!(&events[..], [WsEvent::Binary(b)] if b.len() == 100));
}

#[test]
fn declared_length_over_the_limit_is_1009_before_the_payload() {
    let mut c = WsConn::new(WsConfig::with_max_message_bytes(100));
    let wire = client_frame(0x2, true, &[0; 101], KEY);
    // Only the header (2 + 2-byte length + mask): the payload has not arrived.
    let events = feed(&mut c, &wire[..8]);
    assert!(events.last().is_some_and(error(1009)), "{events:?}");
    assert!(c.should_close_socket());
}

#[test]
fn reassembled_size_over_the_limit_is_1009() {
    let mut c = WsConn::new(WsConfig::with_max_message_bytes(100));
    let mut wire = client_frame(0x1, false, &[b'a'; 60], KEY);
    wire.extend(client_frame(0x0, true, &[b'b'; 41], KEY));
    let events = feed(&mut c, &wire);
    assert_eq!(events.len(), 1);
    assert!(error(1009)(&events[0]), "{events:?}");
}

#[test]
fn too_many_fragments_is_1009() {
    let config = WsConfig {
        max_message_bytes: 1000,
        max_fragments: 3,
    };
    let mut c = WsConn::new(config);
    let mut wire = client_frame(0x2, false, b"a", KEY);
    wire.extend(client_frame(0x0, false, b"", KEY));
    wire.extend(client_frame(0x0, false, b"", KEY));
    assert_eq!(feed(&mut c, &wire), []);
    let events = feed(&mut c, &client_frame(0x0, true, b"", KEY));
    assert!(events.last().is_some_and(error(1009)), "{events:?}");
}

// ---- UTF-8 --------------------------------------------------------------------------

#[test]
fn code_point_split_across_fragments_is_fine() {
    let euro = "€".as_bytes();
    let mut c = conn();
    let mut wire = client_frame(0x1, false, &euro[..1], KEY);
    wire.extend(client_frame(0x0, false, &euro[1..2], KEY));
    wire.extend(client_frame(0x0, true, &euro[2..], KEY));
    assert_eq!(feed(&mut c, &wire), [text("€")]);
}

#[test]
fn invalid_utf8_fails_fast_inside_a_frame() {
    let mut c = conn();
    let mut payload = b"valid ".to_vec();
    payload.push(0xff);
    payload.extend_from_slice(&[b'x'; 100]);
    let wire = client_frame(0x1, true, &payload, KEY);
    // Header plus the first 7 payload bytes: the 0xff is in, the rest of the frame not.
    let events = feed(&mut c, &wire[..2 + 4 + 7]);
    assert!(events.last().is_some_and(error(1007)), "{events:?}");
}

#[test]
fn invalid_utf8_fails_fast_in_a_later_fragment() {
    let mut c = conn();
    let mut wire = client_frame(0x1, false, b"ok", KEY);
    wire.extend(client_frame(0x0, false, &[0xed, 0xa0, 0x80], KEY)); // a surrogate
    let events = feed(&mut c, &wire);
    assert!(events.last().is_some_and(error(1007)), "{events:?}");
}

#[test]
fn truncated_code_point_at_message_end_is_1007() {
    assert_fails_with(&client_frame(0x1, true, &[b'a', 0xe2, 0x82], KEY), 1007);
    let mut wire = client_frame(0x1, false, b"a", KEY);
    wire.extend(client_frame(0x0, true, &[0xe2], KEY));
    assert_fails_with(&wire, 1007);
}

#[test]
fn binary_is_not_utf8_checked() {
    let mut c = conn();
    assert_eq!(
        feed(&mut c, &client_frame(0x2, true, &[0xff, 0xfe], KEY)),
        [binary(&[0xff, 0xfe])]
    );
}

// ---- frame-level violations ---------------------------------------------------------

#[test]
fn header_violations_are_1002() {
    for wire in [
        client_frame_raw(0xC1, b"rsv1", KEY),                    // RSV1
        client_frame_raw(0x81 | 0x20, b"rsv2", KEY),             // RSV2
        client_frame(0x3, true, b"", KEY),                       // reserved data opcode
        client_frame(0xB, true, b"", KEY),                       // reserved control opcode
        client_frame(0x9, false, b"", KEY),                      // fragmented ping
        client_frame(0x9, true, &[0; 126], KEY),                 // ping too long
        vec![0x81, 0x02, b'h', b'i'],                            // not masked
        vec![0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], // 64-bit top bit
    ] {
        assert_fails_with(&wire, 1002);
    }
}

#[test]
fn messages_before_a_violation_are_delivered() {
    let mut c = conn();
    let mut wire = client_frame(0x1, true, b"first", KEY);
    wire.extend(client_frame_raw(0xC1, b"bad", KEY));
    wire.extend(client_frame(0x1, true, b"never", KEY));
    let events = feed(&mut c, &wire);
    assert_eq!(events[0], text("first"));
    assert!(error(1002)(&events[1]));
    assert_eq!(events.len(), 2);
}

#[test]
fn answer_to_a_message_precedes_the_close_of_a_later_error() {
    // One read holds a message and a bad frame: the echo queued while handling the
    // message must go out before the close that the bad frame causes.
    let mut c = conn();
    let mut wire = client_frame(0x1, true, b"hello", KEY);
    wire.extend(client_frame(0x3, true, b"", KEY));
    c.handle_read(&wire);
    assert_eq!(c.poll_event(), Some(text("hello")));
    assert!(c.send_text(b"hello"));
    assert!(c.poll_event().is_some_and(|e| error(1002)(&e)));
    assert_eq!(c.poll_event(), None);
    let frames = server_frames(&mut c);
    assert_eq!(frames[0], (0x81, b"hello".to_vec()));
    assert_eq!(frames[1].0, 0x88);
}

#[test]
fn input_after_a_protocol_error_is_ignored() {
    let mut c = conn();
    feed(&mut c, &client_frame(0x0, true, b"x", KEY));
    server_frames(&mut c);
    assert_eq!(feed(&mut c, &client_frame(0x1, true, b"late", KEY)), []);
    assert_eq!(feed(&mut c, &client_close(Some(1000), b"")), []);
    assert!(server_frames(&mut c).is_empty(), "no second close");
}

// ---- ping / pong --------------------------------------------------------------------

#[test]
fn ping_is_answered_with_the_same_payload() {
    let mut c = conn();
    let payload = [7u8; 125];
    assert_eq!(
        feed(&mut c, &client_frame(0x9, true, &payload, KEY)),
        [WsEvent::Ping]
    );
    assert_eq!(server_frames(&mut c), [(0x8A, payload.to_vec())]);
}

#[test]
fn pong_is_an_event_and_needs_no_answer() {
    let mut c = conn();
    assert_eq!(
        feed(&mut c, &client_frame(0xA, true, b"unsolicited", KEY)),
        [WsEvent::Pong]
    );
    assert!(server_frames(&mut c).is_empty());
    assert_eq!(c.frames_received(), 1);
}

// ---- close handshake ----------------------------------------------------------------

#[test]
fn peer_close_with_code_is_echoed() {
    let mut c = conn();
    let events = feed(&mut c, &client_close(Some(4001), "bye".as_bytes()));
    assert_eq!(
        events,
        [WsEvent::Close {
            code: Some(4001),
            reason: "bye".to_owned()
        }]
    );
    assert_eq!(server_frames(&mut c), [(0x88, close_payload(4001))]);
    assert!(c.close_received() && c.close_sent() && c.should_close_socket());
    assert!(!c.send_text(b"too late"));
    assert_eq!(feed(&mut c, &client_frame(0x1, true, b"ignored", KEY)), []);
}

#[test]
fn peer_close_without_code_is_echoed_empty() {
    let mut c = conn();
    let events = feed(&mut c, &client_close(None, b""));
    assert_eq!(
        events,
        [WsEvent::Close {
            code: None,
            reason: String::new()
        }]
    );
    assert_eq!(server_frames(&mut c), [(0x88, Vec::new())]);
}

#[test]
fn bad_close_payloads() {
    assert_fails_with(&client_frame(0x8, true, &[0x03], KEY), 1002);
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert_fails_with(&client_close(Some(code), b""), 1002);
    }
    assert_fails_with(&client_close(Some(1000), &[0xce, 0xba, 0xff]), 1007);
}

#[test]
fn valid_close_codes_are_accepted() {
    for code in [1000u16, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
        let mut c = conn();
        let events = feed(&mut c, &client_close(Some(code), b""));
        assert_eq!(
            events,
            [WsEvent::Close {
                code: Some(code),
                reason: String::new()
            }]
        );
    }
}

#[test]
fn server_close_is_queued_once_and_stops_data() {
    let mut c = conn();
    assert!(c.send_text(b"before"));
    c.close(1001, "going away");
    c.close(4000, "again");
    assert!(!c.send_binary(b"after"));
    assert!(!c.send_ping(b""));
    assert!(c.is_closing() && c.close_sent() && !c.should_close_socket());
    let frames = server_frames(&mut c);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], (0x81, b"before".to_vec()));
    let mut expected = close_payload(1001);
    expected.extend_from_slice(b"going away");
    assert_eq!(frames[1], (0x88, expected));

    // Data still arriving before the peer's close is delivered; pings are not answered.
    let mut wire = client_frame(0x1, true, b"in flight", KEY);
    wire.extend(client_frame(0x9, true, b"", KEY));
    assert_eq!(feed(&mut c, &wire), [text("in flight"), WsEvent::Ping]);
    // The peer's answer completes the handshake without a second close from us.
    feed(&mut c, &client_close(Some(1001), b""));
    assert!(c.should_close_socket());
    assert!(server_frames(&mut c).is_empty());
}

#[test]
fn close_with_a_code_not_for_the_wire_has_no_status() {
    let mut c = conn();
    c.close(1006, "abnormal");
    assert_eq!(server_frames(&mut c), [(0x88, Vec::new())]);
}

#[test]
fn long_close_reason_is_cut_to_fit() {
    let mut c = conn();
    c.close(4000, &"x".repeat(300));
    let frames = server_frames(&mut c);
    assert_eq!(frames[0].1.len(), 125);
}

// ---- output queue -------------------------------------------------------------------

#[test]
fn send_frame_shares_the_allocation() {
    let shared = frame::frame(Opcode::Binary, &[1; 200]);
    let mut a = conn();
    let mut b = conn();
    assert!(a.send_frame(shared.clone()));
    assert!(b.send_frame(shared.clone()));
    assert_eq!(a.queued_bytes(), shared.len());
    let out = a.poll_transmit().unwrap();
    assert_eq!(out.as_ptr(), shared.as_ptr());
    assert_eq!(a.queued_bytes(), 0);
    assert_eq!(b.poll_transmit().unwrap().as_ptr(), shared.as_ptr());
}

#[test]
fn queued_bytes_and_drain() {
    let mut c = conn();
    c.send_text(b"abc");
    c.send_binary(&[0; 300]);
    assert!(c.send_ping(b"hb"));
    assert!(!c.send_ping(&[0; 126]));
    assert_eq!(c.queued_bytes(), (2 + 3) + (4 + 300) + (2 + 2));
    let mut out = Vec::new();
    c.drain_into(&mut out);
    assert_eq!(out.len(), 3);
    assert_eq!(c.queued_bytes(), 0);
    assert_eq!(c.poll_transmit(), None);
}

// ---- properties ---------------------------------------------------------------------

/// One client frame of a valid stream.
#[derive(Debug, Clone)]
enum Piece {
    Message {
        text: bool,
        /// Payload of each fragment (one entry: unfragmented).
        fragments: Vec<Vec<u8>>,
        /// Control frames to send before fragment `i` (i >= 1).
        pings: Vec<usize>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn piece() -> impl Strategy<Value = Piece> {
    let text_fragments = ("\\PC{0,40}", proptest::collection::vec(0usize..200, 0..4)).prop_map(
        |(s, cuts): (String, Vec<usize>)| {
            // Cut at byte positions: code points may be split across fragments.
            let bytes = s.into_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut out = Vec::new();
            let mut start = 0;
            for cut in cuts {
                out.push(bytes[start..cut].to_vec());
                start = cut;
            }
            out.push(bytes[start..].to_vec());
            out
        },
    );
    let binary_fragments =
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..4);
    prop_oneof![
        (text_fragments, proptest::collection::vec(1usize..4, 0..3)).prop_map(
            |(fragments, pings)| Piece::Message {
                text: true,
                fragments,
                pings
            }
        ),
        (binary_fragments, proptest::collection::vec(1usize..4, 0..3)).prop_map(
            |(fragments, pings)| Piece::Message {
                text: false,
                fragments,
                pings
            }
        ),
        proptest::collection::vec(any::<u8>(), 0..126).prop_map(Piece::Ping),
        proptest::collection::vec(any::<u8>(), 0..126).prop_map(Piece::Pong),
    ]
}

fn encode(pieces: &[Piece], key: [u8; 4]) -> Vec<u8> {
    let mut wire = Vec::new();
    for p in pieces {
        match p {
            Piece::Message {
                text,
                fragments,
                pings,
            } => {
                let last = fragments.len() - 1;
                for (i, f) in fragments.iter().enumerate() {
                    if i > 0 && pings.contains(&i) {
                        wire.extend(client_frame(0x9, true, b"mid", key));
                    }
                    let op = match (i, text) {
                        (0, true) => 0x1,
                        (0, false) => 0x2,
                        _ => 0x0,
                    };
                    wire.extend(client_frame(op, i == last, f, key));
                }
            }
            Piece::Ping(p) => wire.extend(client_frame(0x9, true, p, key)),
            Piece::Pong(p) => wire.extend(client_frame(0xA, true, p, key)),
        }
    }
    wire
}

fn run_in_pieces(wire: &[u8], cuts: &[usize]) -> (Vec<WsEvent>, Vec<u8>) {
    let mut c = conn();
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        let cut = cut.clamp(start, wire.len());
        events.extend(feed(&mut c, &wire[start..cut]));
        start = cut;
    }
    events.extend(feed(&mut c, &wire[start..]));
    let mut out = Vec::new();
    c.drain_into(&mut out);
    (events, out.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn split_points_do_not_change_events(
        pieces in proptest::collection::vec(piece(), 1..8),
        key in any::<[u8; 4]>(),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..12),
    ) {
        let wire = encode(&pieces, key);
        let (whole, whole_out) = run_in_pieces(&wire, &[]);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.sort_unstable();
        let (split, split_out) = run_in_pieces(&wire, &cuts);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole_out, split_out);
        // A valid stream yields exactly its messages and control frames, no error.
        let no_error = whole.iter().all(|e| !matches!(e, WsEvent::ProtocolError { .. }));
        prop_assert!(no_error, "{:?}", whole);
        let messages = whole
            .iter()
            .filter(|e| matches!(e, WsEvent::Text(_) | WsEvent::Binary(_)))
            .count();
        let expected = pieces.iter().filter(|p| matches!(p, Piece::Message { .. })).count();
        prop_assert_eq!(messages, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..2048),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..8),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let (events, _) = run_in_pieces(&data, &cuts);
        // At most one error, and it is the last event.
        let errors = events.iter().filter(|e| matches!(e, WsEvent::ProtocolError { .. })).count();
        prop_assert!(errors <= 1);
        if errors == 1 {
            let last_is_error = matches!(events.last(), Some(WsEvent::ProtocolError { .. }));
            prop_assert!(last_is_error, "{:?}", events);
        }
    }

    #[test]
    fn masked_frames_with_garbage_headers_never_panic(
        b0 in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
    ) {
        let wire = client_frame_raw(b0, &payload, key);
        let (_events, _) = run_in_pieces(&wire, &[3, 7]);
    }
}
