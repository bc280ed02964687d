//! `frame_differential`: our frame decoder against an independent one, tungstenite's,
//! on the same bytes.
//!
//! Input: `[limit selector][stream...]`. Two comparisons:
//!
//! 1. Headers, frame by frame: [`decode_header`] against tungstenite's
//!    `FrameHeader::parse`. When ours accepts a header, theirs reads the same FIN,
//!    opcode, mask, length and header size; when ours wants more bytes, so does theirs;
//!    when ours rejects, theirs either rejects too (a reserved opcode) or reads a header
//!    that breaks the very rule ours named (tungstenite checks RSV bits, masking and
//!    control-frame rules later, in its connection, not in the header parser).
//! 2. Messages: [`WsConn`] against tungstenite's `WebSocket` in the server role, with
//!    the same message and frame limit. Both yield the same messages, pings (with their
//!    payloads) and pongs, and the same close; then both wait for more bytes, or both
//!    fail the connection (close code 1002, 1007 or 1009).
//!
//! Documented differences, where RFC 6455 leaves room (each is normalized below, and
//! nothing else is):
//!
//! - **When a bad frame is rejected.** Ours fails as soon as the header (or the first
//!   impossible UTF-8 byte) shows the frame is bad; tungstenite reads the whole frame
//!   first. When ours failed and tungstenite still waits, the pending frame is completed
//!   with zero bytes and tungstenite must then fail too, with no extra message.
//! - **Which check comes first.** tungstenite checks sizes (1009) before RSV bits,
//!   masking and opcodes (1002); ours the other way round. Codes must agree unless one
//!   side says 1009. In a close frame, tungstenite checks the reason's UTF-8 (1007)
//!   before the code (1002); ours the other way round.
//! - **Close codes.** tungstenite answers a close frame with a code it does not allow
//!   by a close of its own (1002 "Protocol violation") instead of failing; ours fails
//!   with 1002. And tungstenite does not allow 1014 (registered by IANA after RFC 6455),
//!   which ours accepts.
//! - **Non-minimal length on a control frame.** A ping of 5 bytes sent with a 16-bit
//!   length breaks the sender's "minimal number of bytes MUST be used"; ours rejects it
//!   from the 7-bit length alone, tungstenite accepts it. Streams are compared up to the
//!   first such frame only.
//! - ours also limits the number of fragments per message; that limit is lifted here.

use std::io::{self, Cursor, Read, Write};

use gateway::core::ws::{decode_header, FrameError, FrameHeader, WsConfig, WsConn, WsEvent};
use tungstenite::protocol::frame::coding::CloseCode as TheirCloseCode;
use tungstenite::protocol::frame::FrameHeader as TheirHeader;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::Transcript;
use crate::input::Reader;
use crate::wire::PONG;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let max = [125, 1000, 4096, 65_536][usize::from(r.u8() & 3)];
    let stream = r.rest();
    compare_headers(stream);
    let stream = &stream[..comparable_len(stream)];
    compare_messages(stream, max);
}

// ---- headers ---------------------------------------------------------------------------

fn compare_headers(stream: &[u8]) {
    let mut at = 0;
    while at < stream.len() {
        let rest = &stream[at..];
        let mut cursor = Cursor::new(rest);
        let theirs = TheirHeader::parse(&mut cursor);
        match decode_header(rest) {
            Ok(Some(ours)) => {
                let Ok(Some((header, len))) = &theirs else {
                    panic!("at {at}: ours read {ours:?}, tungstenite {theirs:?}");
                };
                assert_same_header(&ours, header, *len, cursor.position(), at);
                let Some(next) = usize::try_from(ours.payload_len)
                    .ok()
                    .and_then(|len| (at + ours.header_len).checked_add(len))
                else {
                    return;
                };
                at = next;
            }
            Ok(None) => {
                assert!(
                    matches!(theirs, Ok(None)),
                    "at {at}: ours wants more bytes, tungstenite {theirs:?}"
                );
                return;
            }
            Err(e) => {
                check_rejected(e, rest, &theirs, at);
                return;
            }
        }
    }
}

fn assert_same_header(ours: &FrameHeader, theirs: &TheirHeader, len: u64, pos: u64, at: usize) {
    let ctx = || format!("at {at}: ours {ours:?}, tungstenite {theirs:?} len {len}");
    assert_eq!(theirs.is_final, ours.fin, "{}", ctx());
    assert!(!(theirs.rsv1 || theirs.rsv2 || theirs.rsv3), "{}", ctx());
    assert_eq!(u8::from(theirs.opcode), ours.opcode.as_u8(), "{}", ctx());
    assert_eq!(theirs.mask, Some(ours.mask), "{}", ctx());
    assert_eq!(len, ours.payload_len, "{}", ctx());
    assert_eq!(pos, ours.header_len as u64, "{}", ctx());
}

/// Ours rejected the header at the start of `rest`: tungstenite must either wait, reject
/// a reserved opcode, or read a header that breaks the rule ours named.
fn check_rejected(
    e: FrameError,
    rest: &[u8],
    theirs: &tungstenite::Result<Option<(TheirHeader, u64)>>,
    at: usize,
) {
    let (header, len) = match theirs {
        Ok(None) => return,
        Ok(Some((header, len))) => (header, *len),
        Err(tungstenite::Error::Protocol(tungstenite::error::ProtocolError::InvalidOpcode(op))) => {
            assert!(
                matches!(op, 3..=7 | 11..=15),
                "at {at}: tungstenite rejected opcode {op}, ours said {e:?}"
            );
            return;
        }
        Err(other) => panic!("at {at}: ours {e:?}, tungstenite {other:?}"),
    };
    let control = u8::from(header.opcode) >= 8;
    let len7 = rest.get(1).map_or(0, |b| b & 0x7f);
    let broken = match e {
        FrameError::ReservedBits => header.rsv1 || header.rsv2 || header.rsv3,
        FrameError::Unmasked => header.mask.is_none(),
        FrameError::FragmentedControl => control && !header.is_final,
        FrameError::ControlTooLong => control && (len > 125 || len7 >= 126),
        FrameError::LengthOverflow => len >> 63 != 0,
        // A reserved opcode is an error of tungstenite's header parser itself.
        FrameError::ReservedOpcode => false,
        // A rule added to ours later: nothing to compare it with yet.
        _ => true,
    };
    assert!(
        broken,
        "at {at}: ours {e:?}, tungstenite read a valid {header:?} len {len}"
    );
}

/// How much of `stream` the message comparison looks at: up to the first control frame
/// whose length uses the 16- or 64-bit form (see the module doc).
fn comparable_len(stream: &[u8]) -> usize {
    let mut at = 0;
    while let (Some(&b0), Some(&b1)) = (stream.get(at), stream.get(at + 1)) {
        if b0 & 0x08 != 0 && b1 & 0x7f >= 126 {
            return at;
        }
        let mut cursor = Cursor::new(&stream[at..]);
        let Ok(Some((_, len))) = TheirHeader::parse(&mut cursor) else {
            break;
        };
        let Some(next) = usize::try_from(len)
            .ok()
            .and_then(|len| (at + cursor.position() as usize).checked_add(len))
            .filter(|&next| next <= stream.len())
        else {
            break;
        };
        at = next;
    }
    stream.len()
}

// ---- messages --------------------------------------------------------------------------

/// What a connection made of a stream, in a form both decoders share.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    Close(Option<u16>, String),
}

/// How the stream left the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Waiting for more bytes.
    Open,
    /// The peer's close arrived (the last event).
    Closed,
    /// The connection failed with this close code.
    Failed(u16),
}

fn compare_messages(stream: &[u8], max: usize) {
    let (mut ours, our_end, why) = run_ours(stream, max);
    let (mut theirs, mut their_end) = run_theirs(stream, max);

    // tungstenite replaces a disallowed close code by its own 1002 close.
    let substitute = Ev::Close(Some(1002), "Protocol violation".into());
    if let Some(Ev::Close(Some(code), _)) = ours.last() {
        if !TheirCloseCode::from(*code).is_allowed() {
            *ours.last_mut().expect("just matched") = substitute.clone();
        }
    }
    if our_end == End::Failed(1002)
        && their_end == End::Closed
        && theirs.last() == Some(&substitute)
    {
        theirs.pop();
        their_end = End::Failed(1002);
    }

    if let (End::Failed(code), End::Open) = (our_end, their_end) {
        // Ours rejected early: finish the frame tungstenite is waiting for.
        let padded = complete_pending_frame(stream, max);
        let (theirs, their_end) = run_theirs(&padded, max);
        assert_eq!(ours, theirs, "events differ (tungstenite given {padded:?})");
        let End::Failed(their_code) = their_end else {
            panic!("ours failed with {code}, tungstenite {their_end:?} on the completed frame {padded:?}");
        };
        assert!(
            codes_agree(code, their_code, why),
            "ours failed with {code}, tungstenite with {their_code}"
        );
        return;
    }
    assert_eq!(ours, theirs, "events differ");
    match (our_end, their_end) {
        (End::Failed(a), End::Failed(b)) => {
            assert!(
                codes_agree(a, b, why),
                "ours failed with {a} ({why}), tungstenite with {b}"
            )
        }
        (a, b) => assert_eq!(a, b, "ends differ"),
    }
}

/// Whether two failure codes agree, given the order in which each side checks (module
/// doc); `why` is ours' reason.
fn codes_agree(ours: u16, theirs: u16, why: &str) -> bool {
    ours == theirs
        || ours == 1009
        || theirs == 1009
        // A close frame with a disallowed code and a reason that is not UTF-8: ours checks
        // the code first, tungstenite the reason.
        || (ours == 1002 && theirs == 1007 && why == "invalid close code")
}

/// Ours on `stream`: the events, the end, and the reason of a failure.
fn run_ours(stream: &[u8], max: usize) -> (Vec<Ev>, End, &'static str) {
    let mut conn = WsConn::new(WsConfig {
        max_message_bytes: max,
        max_fragments: usize::MAX,
    });
    conn.handle_read(stream);
    let mut t = Transcript::default();
    t.drain(&mut conn);
    let mut pongs = t.frames.into_iter().filter(|f| f.opcode == PONG);
    let mut events = Vec::new();
    let mut end = End::Open;
    let mut why = "";
    for event in t.events {
        events.push(match event {
            WsEvent::Text(b) => Ev::Text(b.to_vec()),
            WsEvent::Binary(b) => Ev::Binary(b.to_vec()),
            WsEvent::Ping => Ev::Ping(pongs.next().expect("a pong per ping").payload),
            WsEvent::Pong => Ev::Pong,
            WsEvent::Close { code, reason } => {
                end = End::Closed;
                Ev::Close(code, reason)
            }
            WsEvent::ProtocolError { code, reason } => {
                end = End::Failed(code);
                why = reason;
                continue;
            }
        });
    }
    (events, end, why)
}

fn run_theirs(stream: &[u8], max: usize) -> (Vec<Ev>, End) {
    let config = WebSocketConfig {
        max_message_size: Some(max),
        max_frame_size: Some(max),
        ..WebSocketConfig::default()
    };
    let wire = Wire {
        input: Cursor::new(stream),
    };
    let mut ws = WebSocket::from_raw_socket(wire, Role::Server, Some(config));
    let mut events = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => events.push(Ev::Text(text.into_bytes())),
            Ok(Message::Binary(data)) => events.push(Ev::Binary(data)),
            Ok(Message::Ping(data)) => events.push(Ev::Ping(data)),
            Ok(Message::Pong(_)) => events.push(Ev::Pong),
            Ok(Message::Close(frame)) => {
                events.push(match frame {
                    None => Ev::Close(None, String::new()),
                    Some(f) => Ev::Close(Some(f.code.into()), f.reason.into_owned()),
                });
                return (events, End::Closed);
            }
            Ok(Message::Frame(_)) => panic!("tungstenite read a raw frame"),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                return (events, End::Open)
            }
            Err(tungstenite::Error::Protocol(_)) => return (events, End::Failed(1002)),
            Err(tungstenite::Error::Utf8) => return (events, End::Failed(1007)),
            Err(tungstenite::Error::Capacity(_)) => return (events, End::Failed(1009)),
            Err(other) => panic!("unexpected tungstenite error {other:?}"),
        }
    }
}

/// `stream` with zero bytes appended to complete the frame whose header or payload it
/// ends inside (walking frames with tungstenite's header parser). Unchanged when the
/// stream ends on a frame boundary or at a header tungstenite rejects.
fn complete_pending_frame(stream: &[u8], max: usize) -> Vec<u8> {
    let mut buf = stream.to_vec();
    let mut at = 0;
    while at < buf.len() {
        let mut cursor = Cursor::new(&buf[at..]);
        match TheirHeader::parse(&mut cursor) {
            Ok(Some((_, len))) => {
                if len > max as u64 {
                    break;
                }
                let end = at + cursor.position() as usize + len as usize;
                if end > buf.len() {
                    buf.resize(end, 0);
                }
                at = end;
            }
            // A header cut short: one more byte (at most 14 rounds).
            Ok(None) => buf.push(0),
            Err(_) => break,
        }
    }
    buf
}

/// A socket for tungstenite: reads `input`, then "would block"; writes go nowhere (the
/// pong payloads are compared through `Message::Ping`).
struct Wire<'a> {
    input: Cursor<&'a [u8]>,
}

impl Read for Wire<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.input.read(buf)? {
            0 if !buf.is_empty() => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for Wire<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{close_payload, masked, BINARY, CLOSE, PING, TEXT};

    fn input(selector: u8, stream: &[u8]) -> Vec<u8> {
        let mut data = vec![selector];
        data.extend_from_slice(stream);
        data
    }

    #[test]
    fn valid_stream_agrees() {
        let mut s = masked(TEXT, b"hi");
        s.extend(masked(PING, b"x"));
        s.extend(masked(CLOSE, &close_payload(1000, "")));
        let (ours, end, _) = run_ours(&s, 125);
        assert_eq!(end, End::Closed);
        assert_eq!(ours.len(), 3);
        run(&input(0, &s));
    }

    #[test]
    fn early_rejections_agree() {
        // Unmasked, cut short; RSV bit; text with invalid UTF-8 cut short.
        run(&input(1, &[0x81, 0x05, b'h']));
        run(&input(1, &[0xc1, 0x85]));
        let mut t = masked(TEXT, &[b'a', 0xff, b'b', b'c']);
        t.truncate(t.len() - 1);
        run(&input(1, &t));
        // A 4096-byte frame over a 1000-byte limit, header only.
        run(&input(1, &masked(BINARY, &[0; 4096])[..8]));
    }

    #[test]
    fn close_code_differences_are_normalized() {
        run(&input(0, &masked(CLOSE, &close_payload(1014, "gw"))));
        run(&input(0, &masked(CLOSE, &close_payload(1005, ""))));
    }

    #[test]
    fn close_with_bad_code_and_bad_reason() {
        // Found by the fuzzer: code 1839 (reserved) and a reason that is not UTF-8.
        let mut payload = 1839u16.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0xff, 0xfe]);
        run(&input(0, &masked(CLOSE, &payload)));
    }

    #[test]
    fn huge_declared_length_ends_the_walk() {
        // Found by the fuzzer (a harness bug): a 64-bit length near usize::MAX.
        let mut s = vec![0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa];
        s.extend_from_slice(&[1, 2, 3, 4, 5]);
        assert_eq!(comparable_len(&s), s.len());
        run(&input(3, &s));
    }

    #[test]
    fn non_minimal_control_length_is_cut() {
        let ping = [0x89, 0xfe, 0x00, 0x01, 1, 2, 3, 4, 9];
        assert_eq!(comparable_len(&ping), 0);
        run(&input(0, &ping));
    }
}
