//! `frame_decoder`: arbitrary bytes into a fresh [`WsConn`] (post-upgrade), whole and
//! split at points taken from the input.
//!
//! Input: `[config selector][n & 15][n big-endian u16 split points][stream...]`.
//!
//! Checks: nothing panics; feeding the stream in one read or in pieces gives the same
//! events, the same frames written and the same final state; and the connection keeps
//! RFC 6455's rules on its own output: every written chunk is one valid server frame,
//! every ping is answered by one pong with its payload, at most one close frame is
//! written and nothing after it, a protocol error closes with its own code (1002, 1007
//! or 1009) and is the last event, and a peer's close is echoed with its code.

use gateway::core::ws::{WsConfig, WsConn, WsEvent};

use super::{ws_config, Transcript};
use crate::input::Reader;
use crate::wire::{CLOSE, PONG};

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let config = ws_config(r.u8());
    let n = usize::from(r.u8() & 0x0f);
    let points: Vec<u16> = (0..n).map(|_| r.u16()).collect();
    let stream = r.rest();

    let (whole, whole_state) = feed(&config, &[stream]);
    let chunks = split(stream, &points);
    let (pieces, pieces_state) = feed(&config, &chunks);
    assert_eq!(
        whole.events, pieces.events,
        "events differ when split at {points:?}"
    );
    assert_eq!(
        whole.frames, pieces.frames,
        "output differs when split at {points:?}"
    );
    let (mut whole_state, mut pieces_state) = (whole_state, pieces_state);
    if matches!(whole.events.last(), Some(WsEvent::ProtocolError { .. })) {
        // A frame that fails its UTF-8 check counts as received when it arrived whole
        // (it was complete), not when it failed mid-stream. Nothing reads the count
        // after a failure (it is heartbeat activity), so it is not compared then.
        whole_state.frames_received = 0;
        pieces_state.frames_received = 0;
    }
    assert_eq!(
        whole_state, pieces_state,
        "final state differs when split at {points:?}"
    );
    check_rules(&config, &whole);
}

/// The observable state of a connection after its input.
#[derive(Debug, PartialEq, Eq)]
struct State {
    frames_received: u64,
    has_partial_input: bool,
    is_closing: bool,
    close_sent: bool,
    close_received: bool,
    should_close_socket: bool,
    queued_bytes: usize,
}

fn feed(config: &WsConfig, chunks: &[&[u8]]) -> (Transcript, State) {
    let mut conn = WsConn::new(config.clone());
    let mut t = Transcript::default();
    for chunk in chunks {
        conn.handle_read(chunk);
        t.drain(&mut conn);
    }
    let state = State {
        frames_received: conn.frames_received(),
        has_partial_input: conn.has_partial_input(),
        is_closing: conn.is_closing(),
        close_sent: conn.close_sent(),
        close_received: conn.close_received(),
        should_close_socket: conn.should_close_socket(),
        queued_bytes: conn.queued_bytes(),
    };
    (t, state)
}

/// `stream` cut at `points` (each taken modulo the length + 1, in ascending order).
fn split<'a>(stream: &'a [u8], points: &[u16]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points
        .iter()
        .map(|&p| usize::from(p) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for cut in cuts {
        chunks.push(&stream[at..cut]);
        at = cut;
    }
    chunks.push(&stream[at..]);
    chunks
}

fn check_rules(config: &WsConfig, t: &Transcript) {
    // A close or a protocol error ends the input: it is the last event.
    if let Some(end) = t
        .events
        .iter()
        .position(|e| matches!(e, WsEvent::Close { .. } | WsEvent::ProtocolError { .. }))
    {
        assert_eq!(
            end + 1,
            t.events.len(),
            "events after the end: {:?}",
            t.events
        );
    }
    for event in &t.events {
        match event {
            WsEvent::Text(text) => {
                assert!(std::str::from_utf8(text).is_ok(), "Text not UTF-8");
                assert!(
                    text.len() <= config.max_message_bytes,
                    "message over the cap"
                );
            }
            WsEvent::Binary(data) => {
                assert!(
                    data.len() <= config.max_message_bytes,
                    "message over the cap"
                );
            }
            WsEvent::ProtocolError { code, .. } => {
                assert!(
                    matches!(code, 1002 | 1007 | 1009),
                    "protocol error with close code {code}"
                );
            }
            WsEvent::Ping | WsEvent::Pong | WsEvent::Close { .. } => {}
        }
    }

    // Output: pongs, then at most one close, last.
    let closes: Vec<usize> = (0..t.frames.len())
        .filter(|&i| t.frames[i].opcode == CLOSE)
        .collect();
    assert!(closes.len() <= 1, "{} close frames written", closes.len());
    if let Some(&i) = closes.first() {
        assert_eq!(
            i + 1,
            t.frames.len(),
            "frames written after the close frame"
        );
    }
    let pings = t.events.iter().filter(|e| **e == WsEvent::Ping).count();
    let pongs = t.frames.iter().filter(|f| f.opcode == PONG).count();
    assert_eq!(pings, pongs, "every ping gets one pong");
    assert_eq!(
        pongs + closes.len(),
        t.frames.len(),
        "only pongs and a close are written unprompted"
    );

    // The close frame matches how the input ended.
    let close = closes.first().map(|&i| &t.frames[i]);
    match t.events.last() {
        Some(WsEvent::ProtocolError { code, reason }) => {
            let frame = close.expect("a protocol error queues a close frame");
            assert_eq!(frame.close_code(), Ok(Some(*code)));
            assert_eq!(&frame.payload[2..], reason.as_bytes());
        }
        Some(WsEvent::Close { code, .. }) => {
            let frame = close.expect("a peer's close is answered");
            assert_eq!(
                frame.close_code(),
                Ok(*code),
                "the close echoes the peer's code"
            );
        }
        _ => assert!(close.is_none(), "a close frame without a reason to close"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{close_payload, masked, BINARY, PING, TEXT};

    fn input(selector: u8, points: &[u16], stream: &[u8]) -> Vec<u8> {
        let mut data = vec![selector, points.len() as u8];
        for p in points {
            data.extend_from_slice(&p.to_be_bytes());
        }
        data.extend_from_slice(stream);
        data
    }

    #[test]
    fn split_covers_the_stream() {
        let chunks = split(b"abcdef", &[4, 1, 100, 6]);
        assert_eq!(chunks.concat(), b"abcdef");
        assert_eq!(chunks.len(), 5);
    }

    #[test]
    fn valid_streams_pass() {
        let mut stream = masked(TEXT, "héllo".as_bytes());
        stream.extend(masked(PING, b"p"));
        stream.extend(masked(BINARY, &[0; 300]));
        stream.extend(masked(CLOSE, &close_payload(1000, "bye")));
        run(&input(2, &[1, 7, 9, 200], &stream));
    }

    #[test]
    fn protocol_errors_pass() {
        run(&input(0, &[3], &[0x83, 0x80, 1, 2, 3, 4]));
        run(&input(0, &[3], &masked(TEXT, &[0xff])));
        run(&input(0, &[], &masked(BINARY, &[0; 200])));
    }
}
