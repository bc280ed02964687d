//! The seed corpus: a handful of valid (and a few typically invalid) inputs per target,
//! built from the real encoders so that they stay valid as the protocol grows.
//!
//! `examples/write_corpus.rs` writes them to `corpus/<target>/<name>`; the tests below
//! run each through its target. Keep them small: the whole corpus stays under 100 KB.

use protocol::codec::{self, Encoding};
use protocol::events::client::{ChannelRef, Empty, FetchMessages, Identify, SendMessage};
use protocol::events::server::{ChannelUser, ErrorData, MessagesLoaded, Ready};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::{ChannelId, ErrorCode, User, UserId};

use crate::input::Writer;
use crate::targets::session::{how, EventKind, Op};
use crate::wire::{close_payload, masked, BINARY, CLOSE, CONTINUATION, MASK, PING, PONG, TEXT};

/// One seed: the target it is for, a file name, and the bytes.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The target (a name of [`crate::targets::NAMES`]).
    pub target: &'static str,
    /// The file name under `corpus/<target>/`.
    pub name: &'static str,
    /// The input.
    pub data: Vec<u8>,
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let streams = streams();
    for (name, selector, points, stream) in &streams {
        let mut data = vec![*selector, points.len() as u8];
        for p in points {
            data.extend_from_slice(&p.to_be_bytes());
        }
        data.extend_from_slice(stream);
        seeds.push(Seed {
            target: "frame_decoder",
            name,
            data,
        });
        let mut data = vec![*selector];
        data.extend_from_slice(stream);
        seeds.push(Seed {
            target: "frame_differential",
            name,
            data,
        });
    }
    for (name, selector, request) in requests() {
        let mut data = vec![selector];
        data.extend_from_slice(&request);
        seeds.push(Seed {
            target: "handshake",
            name,
            data,
        });
    }
    for (target, enc) in [
        ("envelope_msgpack", Encoding::MsgPack),
        ("envelope_json", Encoding::Json),
    ] {
        for (name, data) in envelopes(enc) {
            seeds.push(Seed { target, name, data });
        }
    }
    for (name, mode, config, ops) in sessions() {
        let mut w = Writer::default();
        w.u8(mode).u8(config);
        for op in &ops {
            op.write(&mut w);
        }
        seeds.push(Seed {
            target: "session",
            name,
            data: w.out,
        });
    }
    seeds
}

type Stream = (&'static str, u8, Vec<u16>, Vec<u8>);

/// Client byte streams: (name, limit selector, split points, bytes).
fn streams() -> Vec<Stream> {
    let cat = |parts: &[Vec<u8>]| parts.concat();
    let fragment = |first: u8, payload: &[u8]| {
        let mut out = Vec::new();
        crate::wire::client_frame(first, MASK, payload, &mut out);
        out
    };
    let mut unmasked_tail = masked(TEXT, b"ok");
    unmasked_tail.extend_from_slice(&[0x81, 0x02, b'n', b'o']);
    vec![
        ("text_hello", 1, vec![3], masked(TEXT, b"Hello")),
        (
            "fragmented_text_with_ping",
            1,
            vec![1, 9, 14],
            cat(&[
                fragment(TEXT, "h\u{e9}".as_bytes()),
                masked(PING, b"ping"),
                fragment(0x80 | CONTINUATION, b"llo"),
            ]),
        ),
        (
            "binary_16bit_length",
            2,
            vec![2, 4, 100],
            masked(BINARY, &[0xab; 300]),
        ),
        (
            "pong_then_close",
            0,
            vec![],
            cat(&[
                masked(PONG, b""),
                masked(CLOSE, &close_payload(1000, "bye")),
            ]),
        ),
        ("close_empty", 0, vec![1], masked(CLOSE, b"")),
        ("unmasked_after_text", 1, vec![6], unmasked_tail),
        (
            "text_bad_utf8",
            1,
            vec![7],
            masked(TEXT, &[b'a', 0xc3, 0x28]),
        ),
        ("too_big_for_125", 0, vec![], masked(BINARY, &[0; 200])),
        ("reserved_opcode", 1, vec![], masked(0x3, b"x")),
    ]
}

/// Upgrade requests: (name, limit selector, bytes).
fn requests() -> Vec<(&'static str, u8, Vec<u8>)> {
    let valid = "GET /gateway?v=1&encoding=msgpack HTTP/1.1\r\n\
                 Host: localhost:3001\r\n\
                 Upgrade: websocket\r\n\
                 Connection: keep-alive, Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\
                 Origin: http://localhost\r\n\r\n";
    let mut with_frame = valid.as_bytes().to_vec();
    with_frame.extend(masked(TEXT, b"early"));
    vec![
        ("valid", 2, valid.as_bytes().to_vec()),
        ("valid_then_frame", 2, with_frame),
        (
            "json_echo_query",
            2,
            valid
                .replace(
                    "/gateway?v=1&encoding=msgpack",
                    "/echo?a=%20b+c&encoding=json",
                )
                .into_bytes(),
        ),
        (
            "http10",
            2,
            valid.replace("HTTP/1.1", "HTTP/1.0").into_bytes(),
        ),
        (
            "bad_version",
            2,
            valid.replace("Version: 13", "Version: 8").into_bytes(),
        ),
        ("over_limit", 0, valid.as_bytes().to_vec()),
        ("partial", 3, valid.as_bytes()[..40].to_vec()),
    ]
}

fn envelopes(enc: Encoding) -> Vec<(&'static str, Vec<u8>)> {
    let client = |event: ClientEvent, id: Option<u32>| {
        let mut out = Vec::new();
        codec::encode_client(&Frame { event, id, s: None }, enc, &mut out);
        out
    };
    let server = |event: ServerEvent, id: Option<u32>, s: Option<u64>| {
        let mut out = Vec::new();
        codec::encode_server(&event, id, s, enc, &mut out);
        out
    };
    let user = User {
        id: UserId::new(1 << 40),
        username: "ann".into(),
        display_name: "Ann \u{1f600}".into(),
        status: None,
    };
    let mut positions = std::collections::BTreeMap::new();
    positions.insert(ChannelId::new(123_456_789_012), 41);
    vec![
        (
            "identify",
            client(
                ClientEvent::Identify(Identify {
                    token: "eyJhbGciOiJIUzI1NiJ9.e30.sig".into(),
                    status: None,
                    positions: Some(positions),
                }),
                None,
            ),
        ),
        ("ping_with_id", client(ClientEvent::Ping(Empty {}), Some(7))),
        (
            "send_message",
            client(
                ClientEvent::SendMessage(SendMessage {
                    channel_id: ChannelId::new(99),
                    content: "hello \u{e9}".into(),
                    nonce: Some("n1".into()),
                    reply_to: None,
                    attachment_ids: None,
                }),
                Some(u32::MAX),
            ),
        ),
        (
            "fetch_messages",
            client(
                ClientEvent::FetchMessages(FetchMessages {
                    channel_id: ChannelId::new(5),
                    before: None,
                    after: None,
                    around: None,
                    limit: Some(20),
                }),
                Some(2),
            ),
        ),
        (
            "start_typing",
            client(
                ClientEvent::StartTyping(ChannelRef {
                    channel_id: ChannelId::new(5),
                }),
                None,
            ),
        ),
        (
            "ready",
            server(
                ServerEvent::Ready(Box::new(Ready {
                    session_id: "s1".into(),
                    user,
                    channels: Vec::new(),
                    blocked_user_ids: vec![UserId::new(3)],
                    heartbeat_interval_ms: 30_000,
                    resync: vec![ChannelId::new(4)],
                })),
                None,
                None,
            ),
        ),
        (
            "error",
            server(
                ServerEvent::Error(ErrorData {
                    code: ErrorCode::RateLimited,
                    message: "slow down".into(),
                    retry_after_ms: Some(1500),
                }),
                Some(9),
                None,
            ),
        ),
        (
            "typing_started_with_offset",
            server(
                ServerEvent::TypingStarted(ChannelUser {
                    channel_id: ChannelId::new(5),
                    user_id: UserId::new(6),
                }),
                None,
                Some(u64::MAX),
            ),
        ),
        (
            "messages_loaded",
            server(
                ServerEvent::MessagesLoaded(Box::new(MessagesLoaded {
                    channel_id: ChannelId::new(5),
                    messages: Vec::new(),
                })),
                Some(2),
                None,
            ),
        ),
    ]
}

type SessionSeed = (&'static str, u8, u8, Vec<Op>);

/// Session scripts: (name, mode selector, config selector, operations).
fn sessions() -> Vec<SessionSeed> {
    let identify = Op::Event {
        event: EventKind::Identify(b"token".to_vec()),
        id: None,
        how: 0,
    };
    let ping = |id| Op::Event {
        event: EventKind::Ping,
        id,
        how: 0,
    };
    let typing = Op::Event {
        event: EventKind::Typing(5),
        id: Some(1),
        how: 0,
    };
    let happy = || {
        vec![
            identify.clone(),
            Op::Actions,
            Op::Ready,
            ping(Some(1)),
            Op::Event {
                event: EventKind::Send(b"hello".to_vec()),
                id: Some(2),
                how: 2 << how::FRAGMENTS_SHIFT | how::PING_BETWEEN,
            },
            Op::Actions,
            Op::Reply {
                kind: 0,
                id: Some(2),
                text: Vec::new(),
            },
            Op::Fanout,
            Op::Event {
                event: EventKind::Named(b"NOPE".to_vec()),
                id: Some(3),
                how: 0,
            },
            Op::Transmit,
            Op::Advance(29_000),
            ping(None),
            Op::Close(0),
            Op::Transmit,
            Op::Frame {
                first: 0x80 | CLOSE,
                payload: close_payload(1001, ""),
            },
            Op::Transmit,
        ]
    };
    vec![
        ("happy_msgpack", 0, 0, happy()),
        ("happy_json", 1, 0, happy()),
        (
            "identify_timeout",
            0,
            2,
            vec![Op::Timeout, Op::Actions, Op::Transmit],
        ),
        (
            "identify_failed",
            1,
            2,
            vec![
                Op::Event {
                    event: EventKind::Identify(Vec::new()),
                    id: Some(1),
                    how: how::BYTE_BY_BYTE,
                },
                Op::IdentifyFailed,
                Op::Actions,
                Op::Transmit,
            ],
        ),
        (
            "rate_limited",
            0,
            2,
            vec![
                identify.clone(),
                Op::Ready,
                typing.clone(),
                typing.clone(),
                typing.clone(),
                typing,
                Op::Transmit,
            ],
        ),
        (
            "heartbeat_timeout",
            0,
            2,
            vec![identify.clone(), Op::Ready, Op::Timeout, Op::Transmit],
        ),
        (
            "partial_message_timeout",
            2,
            1,
            vec![
                Op::Frame {
                    first: TEXT,
                    payload: b"part".to_vec(),
                },
                Op::Timeout,
                Op::Transmit,
            ],
        ),
        (
            "echo",
            2,
            1,
            vec![
                Op::Frame {
                    first: 0x80 | TEXT,
                    payload: b"echo me".to_vec(),
                },
                Op::Frame {
                    first: 0x80 | BINARY,
                    payload: vec![0, 1, 2],
                },
                Op::Transmit,
            ],
        ),
        (
            "wrong_encoding",
            1,
            0,
            vec![
                Op::Event {
                    event: EventKind::Identify(b"t".to_vec()),
                    id: None,
                    how: how::OTHER_ENCODING | how::FLIP_OPCODE,
                },
                Op::Transmit,
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{run_named, NAMES};

    #[test]
    fn every_seed_passes_its_target() {
        for seed in all() {
            assert!(run_named(seed.target, &seed.data), "{}", seed.target);
        }
    }

    #[test]
    fn every_target_has_seeds_and_names_are_unique() {
        let seeds = all();
        for target in NAMES {
            assert!(seeds.iter().any(|s| s.target == target), "{target}");
        }
        let mut seen = std::collections::HashSet::new();
        for s in &seeds {
            assert!(seen.insert((s.target, s.name)), "{}/{}", s.target, s.name);
        }
        let total: usize = seeds.iter().map(|s| s.data.len()).sum();
        assert!(total < 100_000, "corpus of {total} bytes");
    }

    #[test]
    fn committed_corpus_passes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for target in NAMES {
            let Ok(dir) = std::fs::read_dir(root.join(target)) else {
                continue;
            };
            for entry in dir {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                assert!(run_named(target, &data), "{}", path.display());
            }
        }
    }
}
