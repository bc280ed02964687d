//! Each `DecodeError` case, from hand-written MessagePack bytes (and JSON text), so that
//! the tests do not depend on our own encoder.

use protocol::codec::{decode_client, decode_server, DecodeError, Encoding};
use protocol::events::client::{Empty, SendMessage};
use protocol::events::ClientEvent;
use protocol::ids::ChannelId;
use protocol::CloseCode;

/// A msgpack fixstr (< 32 bytes).
fn s(text: &str) -> Vec<u8> {
    assert!(text.len() < 32);
    let mut out = vec![0xa0 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

/// A msgpack fixmap from already-encoded key-value pairs.
fn map(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    assert!(pairs.len() < 16);
    let mut out = vec![0x80 | pairs.len() as u8];
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.extend_from_slice(v);
    }
    out
}

fn client(bytes: &[u8]) -> Result<protocol::events::Frame<ClientEvent>, DecodeError> {
    decode_client(bytes, Encoding::MsgPack)
}

fn assert_malformed(result: Result<impl std::fmt::Debug, DecodeError>, what: &str) {
    match result {
        Err(err @ DecodeError::Malformed(_)) => {
            assert_eq!(err.close_code(), Some(CloseCode::DecodeError), "{what}");
        }
        other => panic!("{what}: expected Malformed, got {other:?}"),
    }
}

#[test]
fn a_valid_ping_decodes() {
    let bytes = map(&[
        (s("t"), s("PING")),
        (s("d"), map(&[])),
        (s("id"), vec![0x2a]),
    ]);
    let frame = client(&bytes).unwrap();
    assert_eq!(frame.event, ClientEvent::Ping(Empty {}));
    assert_eq!(frame.id, Some(42));
    assert_eq!(frame.s, None);
}

#[test]
fn not_a_map() {
    assert_malformed(client(&[]), "empty input");
    assert_malformed(client(&[0x93, 0x01, 0x02, 0x03]), "array");
    assert_malformed(client(&s("PING")), "string");
    assert_malformed(client(&[0xc0]), "nil");
    assert_malformed(client(b"{\"t\":\"PING\",\"d\":{}}"), "JSON sent as msgpack");
}

#[test]
fn t_missing_or_not_a_string() {
    assert_malformed(client(&map(&[(s("d"), map(&[]))])), "t missing");
    assert_malformed(
        client(&map(&[(s("t"), vec![0x01]), (s("d"), map(&[]))])),
        "t integer",
    );
    assert_malformed(
        client(&map(&[(s("t"), vec![0xc0]), (s("d"), map(&[]))])),
        "t nil",
    );
    // Binary is not a string, even when its bytes spell a name.
    let bin = vec![0xc4, 4, b'P', b'I', b'N', b'G'];
    assert_malformed(
        client(&map(&[(s("t"), bin), (s("d"), map(&[]))])),
        "t binary",
    );
}

#[test]
fn d_missing_or_not_a_map() {
    assert_malformed(client(&map(&[(s("t"), s("PING"))])), "d missing");
    assert_malformed(
        client(&map(&[(s("t"), s("PING")), (s("d"), vec![0x90])])),
        "d array",
    );
    assert_malformed(
        client(&map(&[(s("t"), s("PING")), (s("d"), vec![0xc0])])),
        "d nil",
    );
    // The envelope is checked before the event name.
    assert_malformed(
        client(&map(&[(s("t"), s("NOPE")), (s("d"), vec![0x01])])),
        "unknown t, bad d",
    );
}

#[test]
fn id_must_be_a_uint32() {
    let with_id = |id: Vec<u8>| map(&[(s("t"), s("PING")), (s("d"), map(&[])), (s("id"), id)]);
    // 2^32 as uint64.
    assert_malformed(
        client(&with_id(vec![0xcf, 0, 0, 0, 1, 0, 0, 0, 0])),
        "id = 2^32",
    );
    assert_malformed(client(&with_id(vec![0xff])), "id = -1");
    assert_malformed(client(&with_id(s("7"))), "id string");
    assert_malformed(client(&with_id(vec![0xca, 0x40, 0xe0, 0, 0])), "id float");
    assert_eq!(
        client(&with_id(vec![0xce, 0xff, 0xff, 0xff, 0xff]))
            .unwrap()
            .id,
        Some(u32::MAX)
    );
}

#[test]
fn s_must_be_a_uint64() {
    let with_s =
        |s_value: Vec<u8>| map(&[(s("t"), s("PING")), (s("d"), map(&[])), (s("s"), s_value)]);
    assert_malformed(
        client(&with_s(vec![0xd3, 0xff, 0, 0, 0, 0, 0, 0, 0])),
        "negative i64",
    );
    assert_malformed(client(&with_s(s("1"))), "string");
    let max = client(&with_s(vec![
        0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]));
    assert_eq!(max.unwrap().s, Some(u64::MAX));
}

#[test]
fn invalid_utf8_anywhere_is_malformed() {
    let bad = vec![0xa2, 0xc3, 0x28]; // a fixstr holding an invalid two-byte sequence
    let send = |d: Vec<u8>| map(&[(s("t"), s("SEND_MESSAGE")), (s("d"), d)]);
    assert_malformed(
        client(&map(&[(s("t"), bad.clone()), (s("d"), map(&[]))])),
        "in t",
    );
    assert_malformed(
        client(&send(map(&[
            (s("channel_id"), vec![0x01]),
            (s("content"), bad.clone()),
        ]))),
        "in content",
    );
    assert_malformed(
        client(&map(&[
            (s("t"), s("PING")),
            (s("d"), map(&[])),
            (s("x"), bad.clone()),
        ])),
        "in an unknown envelope key's value",
    );
    assert_malformed(
        client(&map(&[
            (s("t"), s("PING")),
            (s("d"), map(&[(bad.clone(), vec![0x01])])),
        ])),
        "as a key inside d",
    );
    assert_malformed(
        client(&map(&[
            (s("t"), s("PING")),
            (s("d"), map(&[(s("deep"), vec![0x91, 0x91, 0xa1, 0xff])])),
        ])),
        "nested in arrays",
    );
}

#[test]
fn trailing_bytes_are_malformed() {
    let mut bytes = map(&[(s("t"), s("PING")), (s("d"), map(&[]))]);
    bytes.push(0xc0);
    assert_malformed(client(&bytes), "trailing nil");
    assert_malformed(
        decode_client(b"{\"t\":\"PING\",\"d\":{}} x", Encoding::Json),
        "JSON trailing",
    );
}

#[test]
fn too_deep_is_malformed_not_a_stack_overflow() {
    for depth in [40, 100_000] {
        let mut deep = vec![0x91; depth];
        deep.push(0x90);
        let bytes = map(&[(s("t"), s("PING")), (s("d"), map(&[(s("x"), deep)]))]);
        assert_malformed(client(&bytes), "deep arrays");
    }
    let json = format!(
        r#"{{"t":"PING","d":{{"x":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_malformed(decode_client(json.as_bytes(), Encoding::Json), "deep JSON");
    let json = format!(
        r#"{{"t":"PING","d":{{"x":{}{}}}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert_malformed(
        decode_client(json.as_bytes(), Encoding::Json),
        "40 levels of JSON",
    );
}

#[test]
fn unknown_t_keeps_the_request_id() {
    let bytes = map(&[
        (s("t"), s("LAUNCH_ROCKETS")),
        (s("d"), map(&[])),
        (s("id"), vec![0x09]),
    ]);
    let err = client(&bytes).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownEvent {
            id: Some(9),
            t: "LAUNCH_ROCKETS".into()
        }
    );
    assert_eq!(err.request_id(), Some(9));
    assert_eq!(err.close_code(), None);
    // A server event name is unknown to the client decoder, and the other way round.
    let ready = map(&[(s("t"), s("PONG")), (s("d"), map(&[]))]);
    assert!(matches!(
        client(&ready),
        Err(DecodeError::UnknownEvent { id: None, .. })
    ));
    let ping = map(&[(s("t"), s("PING")), (s("d"), map(&[]))]);
    assert!(matches!(
        decode_server(&ping, Encoding::MsgPack),
        Err(DecodeError::UnknownEvent { .. })
    ));
}

#[test]
fn wrong_type_in_d_is_bad_data_naming_the_field() {
    let bytes = map(&[
        (s("t"), s("SEND_MESSAGE")),
        (
            s("d"),
            map(&[(s("channel_id"), vec![0x01]), (s("content"), vec![0x05])]),
        ),
        (s("id"), vec![0x03]),
    ]);
    match client(&bytes).unwrap_err() {
        DecodeError::BadData { id, t, reason } => {
            assert_eq!(id, Some(3));
            assert_eq!(t, "SEND_MESSAGE");
            assert!(reason.starts_with("content: "), "{reason}");
        }
        other => panic!("expected BadData, got {other:?}"),
    }
}

#[test]
fn missing_field_in_d_is_bad_data_naming_the_field() {
    let bytes = map(&[
        (s("t"), s("SEND_MESSAGE")),
        (s("d"), map(&[(s("channel_id"), vec![0x01])])),
    ]);
    let err = client(&bytes).unwrap_err();
    assert!(
        matches!(&err, DecodeError::BadData { reason, .. } if reason.contains("`content`")),
        "{err:?}"
    );
    let data = err.error_data().unwrap();
    assert_eq!(data.code, protocol::ErrorCode::BadRequest);
    assert!(data.message.contains("content"), "{}", data.message);
}

#[test]
fn nested_bad_fields_are_named_by_path() {
    // IDENTIFY with a `positions` value that is not a number.
    let bytes = map(&[
        (s("t"), s("IDENTIFY")),
        (
            s("d"),
            map(&[
                (s("token"), s("x")),
                (s("positions"), map(&[(vec![0x07], s("oops"))])),
            ]),
        ),
    ]);
    match client(&bytes).unwrap_err() {
        DecodeError::BadData { reason, .. } => {
            assert!(reason.starts_with("positions."), "{reason}")
        }
        other => panic!("expected BadData, got {other:?}"),
    }
    // An attachment id out of a u64's range, in JSON.
    let json =
        r#"{"t":"SEND_MESSAGE","d":{"channel_id":"1","content":"hi","attachment_ids":["1","-2"]}}"#;
    match decode_client(json.as_bytes(), Encoding::Json).unwrap_err() {
        DecodeError::BadData { reason, .. } => {
            assert!(reason.starts_with("attachment_ids[1]: "), "{reason}")
        }
        other => panic!("expected BadData, got {other:?}"),
    }
    // A bad enum value.
    let json = r#"{"t":"SET_STATUS","d":{"status":"busy"},"id":5}"#;
    match decode_client(json.as_bytes(), Encoding::Json).unwrap_err() {
        DecodeError::BadData { id, reason, .. } => {
            assert_eq!(id, Some(5));
            assert!(reason.starts_with("status: "), "{reason}");
        }
        other => panic!("expected BadData, got {other:?}"),
    }
}

#[test]
fn unknown_keys_are_ignored_in_the_envelope_and_in_d() {
    let bytes = map(&[
        (s("v"), vec![0x02]),
        (s("t"), s("SEND_MESSAGE")),
        (
            s("d"),
            map(&[
                (s("future"), map(&[(s("a"), vec![0x90])])),
                (s("channel_id"), vec![0xcd, 0x01, 0x00]),
                (s("content"), s("hello")),
                (s("nonce"), vec![0xc0]),
            ]),
        ),
        (vec![0x01], vec![0xc3]),
        (s("id"), vec![0x01]),
    ]);
    let frame = client(&bytes).unwrap();
    assert_eq!(
        frame.event,
        ClientEvent::SendMessage(SendMessage {
            channel_id: ChannelId::new(256),
            content: "hello".into(),
            nonce: None,
            reply_to: None,
            attachment_ids: None,
        })
    );
    assert_eq!(frame.id, Some(1));
}

#[test]
fn json_envelope_errors() {
    let json = |text: &str| decode_client(text.as_bytes(), Encoding::Json);
    assert_malformed(json(""), "empty");
    assert_malformed(json("[1,2]"), "array");
    assert_malformed(json(r#"{"t":1,"d":{}}"#), "t number");
    assert_malformed(json(r#"{"t":"PING"}"#), "d missing");
    assert_malformed(json(r#"{"t":"PING","d":[]}"#), "d array");
    assert_malformed(json(r#"{"t":"PING","d":{},"id":4294967296}"#), "id = 2^32");
    assert_malformed(
        decode_client(b"{\"t\":\"PI\xffNG\",\"d\":{}}", Encoding::Json),
        "bad UTF-8",
    );
    assert!(matches!(
        json(r#"{"t":"NOPE","d":{},"id":2}"#),
        Err(DecodeError::UnknownEvent { id: Some(2), .. })
    ));
    assert_eq!(
        json(r#"{"t":"PING","d":{"x":1},"zzz":[]}"#).unwrap().event,
        ClientEvent::Ping(Empty {})
    );
}
