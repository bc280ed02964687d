//! Inputs the fuzz targets in `fuzz/` (scripts/fuzz.sh) found worth keeping, fed through
//! the public API of the WebSocket core.
//!
//! None of them crashed the gateway: they broke an early version of a harness or sit on
//! a documented difference between our frame decoder and tungstenite's, and they pin the
//! behaviour the harnesses rely on. A crash found later is added here the same way: the
//! fuzzer's bytes verbatim, then what the contract says must happen.

use gateway::core::ws::{WsConfig, WsConn, WsEvent};

/// Feeds `reads` in order and returns every event and every written frame.
fn run(config: WsConfig, reads: &[&[u8]]) -> (Vec<WsEvent>, Vec<Vec<u8>>) {
    let mut conn = WsConn::new(config);
    let mut events = Vec::new();
    let mut written = Vec::new();
    for read in reads {
        conn.handle_read(read);
        events.extend(std::iter::from_fn(|| conn.poll_event()));
        written.extend(std::iter::from_fn(|| conn.poll_transmit()).map(|b| b.to_vec()));
    }
    (events, written)
}

/// `frame_differential` (found in the first minute): a ping, then a close frame whose
/// code (1839) is reserved and whose reason is not UTF-8. tungstenite checks the reason
/// first (1007); we check the code first and fail with 1002. Either is a protocol error;
/// ours must answer the ping, then close 1002 and ignore the bytes that follow.
#[test]
fn close_with_reserved_code_and_non_utf8_reason_fails_1002() {
    let stream: &[u8] = &[
        0x89, 0x84, 0x18, 0x47, 0x21, 0x37, 0x3d, 0x01, 0x81, 0xfa, // ping "%F\xa0\xcd"
        0x88, 0x89, 0x84, 0x18, 0x47, 0x21, 0x83, 0x37, 0xfa, 0x21, 0x3d, 0x56, 0x39, 0x37,
        0x3d, // close 1839, reason starting with 0xbd
        0xfa, 0x4b, 0x93, 0x4f, 0x5a, 0x3a, 0x83, 0x09, 0xfa, 0xfa, 0x21, 0xbd, 0x5b, 0x96,
        0x4e, // garbage after it
    ];
    let (events, written) = run(WsConfig::with_max_message_bytes(125), &[stream]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], WsEvent::Ping);
    assert!(
        matches!(events[1], WsEvent::ProtocolError { code: 1002, .. }),
        "{events:?}"
    );
    assert_eq!(written.len(), 2);
    assert_eq!(
        written[0],
        [0x8a, 0x04, 0x25, 0x46, 0xa0, 0xcd],
        "pong, same payload"
    );
    assert_eq!(
        &written[1][..4],
        &[0x88, written[1][1], 0x03, 0xea],
        "close 1002"
    );
}

/// `frame_differential` (a harness overflow): a binary frame declaring a 64-bit length
/// just under 2^63. It is over any message limit: close 1009 at once, without waiting
/// for (or reserving room for) the payload.
#[test]
fn declared_length_near_2_pow_63_closes_1009_at_the_header() {
    let stream: &[u8] = &[
        0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa, 1, 2, 3, 4, 5,
    ];
    let (events, written) = run(WsConfig::default(), &[stream]);
    assert!(
        matches!(
            events.as_slice(),
            [WsEvent::ProtocolError { code: 1009, .. }]
        ),
        "{events:?}"
    );
    assert_eq!(&written[0][2..4], &1009u16.to_be_bytes());
}

/// `frame_decoder` seed `text_bad_utf8` split after its first payload byte: a text frame
/// whose UTF-8 breaks mid-frame gives the same events and the same close frame whether
/// it arrives in one read or streams in (one fails on the whole payload, the other at
/// the first impossible byte).
#[test]
fn bad_utf8_fails_the_same_whole_or_split() {
    // Text "a\xc3(" masked with 37 fa 21 3d.
    let frame: &[u8] = &[0x81, 0x83, 0x37, 0xfa, 0x21, 0x3d, 0x56, 0x39, 0x09];
    let config = WsConfig::with_max_message_bytes(1024);
    let whole = run(config.clone(), &[frame]);
    let split = run(config, &[&frame[..7], &frame[7..]]);
    assert_eq!(whole, split);
    assert!(
        matches!(
            whole.0.as_slice(),
            [WsEvent::ProtocolError { code: 1007, .. }]
        ),
        "{:?}",
        whole.0
    );
}
