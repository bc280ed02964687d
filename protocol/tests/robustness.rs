//! Decoding untrusted bytes never panics: arbitrary bytes, mutated valid frames, and
//! well-formed envelopes around arbitrary data. It also classifies: an envelope that is
//! sound never comes back `Malformed`.

mod strategies;

use proptest::collection::vec;
use proptest::prelude::*;
use protocol::codec::{
    decode_client, decode_server, encode_client, encode_server, DecodeError, Encoding,
};
use protocol::events::ClientEvent;
use protocol::limits::MAX_NESTING_DEPTH;

const ENCODINGS: [Encoding; 2] = [Encoding::MsgPack, Encoding::Json];

fn decode_both(bytes: &[u8]) {
    for enc in ENCODINGS {
        let _ = decode_client(bytes, enc);
        let _ = decode_server(bytes, enc);
    }
}

/// One change to a valid message.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        match *m {
            Mutation::Set(i, b) if len > 0 => bytes[i % len] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (len + 1), b),
            Mutation::Remove(i) if len > 0 => {
                bytes.remove(i % len);
            }
            Mutation::Truncate(i) => bytes.truncate(i % (len + 1)),
            _ => {}
        }
    }
}

/// Arbitrary MessagePack values, UTF-8 strings only, nested a few levels.
fn msgpack_value() -> impl Strategy<Value = rmpv::Value> {
    use rmpv::Value;
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        strategies::text().prop_map(Value::from),
        vec(any::<u8>(), 0..8).prop_map(Value::from),
        (any::<i8>(), vec(any::<u8>(), 0..8)).prop_map(|(t, d)| Value::Ext(t, d)),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((inner.clone(), inner), 0..4).prop_map(Value::Map),
        ]
    })
}

/// A `d` map: the fields some event has, with arbitrary values, plus arbitrary keys.
fn msgpack_data() -> impl Strategy<Value = rmpv::Value> {
    let field = prop_oneof![
        Just("channel_id"),
        Just("message_id"),
        Just("content"),
        Just("token"),
        Just("status"),
        Just("positions"),
        Just("nonce"),
        Just("reply_to"),
        Just("attachment_ids"),
        Just("emoji"),
        Just("before"),
        Just("after"),
        Just("around"),
        Just("limit"),
        Just("message"),
        Just("user"),
    ];
    let key = prop_oneof![field.prop_map(rmpv::Value::from), msgpack_value()];
    vec((key, msgpack_value()), 0..6).prop_map(rmpv::Value::Map)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        decode_both(&bytes);
    }

    #[test]
    fn mutated_client_frames_never_panic(
        frame in strategies::frame(strategies::client_event()),
        mutations in vec(mutation(), 1..4),
    ) {
        for enc in ENCODINGS {
            let mut bytes = Vec::new();
            encode_client(&frame, enc, &mut bytes);
            mutate(&mut bytes, &mutations);
            decode_both(&bytes);
        }
    }

    #[test]
    fn mutated_server_frames_never_panic(
        frame in strategies::frame(strategies::server_event()),
        mutations in vec(mutation(), 1..4),
    ) {
        for enc in ENCODINGS {
            let mut bytes = Vec::new();
            encode_server(&frame.event, frame.id, frame.s, enc, &mut bytes);
            mutate(&mut bytes, &mutations);
            decode_both(&bytes);
        }
    }

    /// A sound envelope with a known `t` decodes, or fails as `BadData` with the
    /// request id kept: never `Malformed`, never `UnknownEvent`.
    #[test]
    fn sound_envelopes_are_never_malformed(
        t in proptest::sample::select(ClientEvent::NAMES),
        d in msgpack_data(),
        id in any::<u32>(),
    ) {
        let envelope = rmpv::Value::Map(vec![
            ("t".into(), t.into()),
            ("d".into(), d.clone()),
            ("id".into(), id.into()),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &envelope).unwrap();
        match decode_client(&bytes, Encoding::MsgPack) {
            Ok(frame) => {
                prop_assert_eq!(frame.event.name(), t);
                prop_assert_eq!(frame.id, Some(id));
            }
            Err(DecodeError::BadData { id: got, t: got_t, .. }) => {
                prop_assert_eq!(got, Some(id));
                prop_assert_eq!(got_t, t);
            }
            Err(other) => prop_assert!(false, "{:?} for d = {}", other, d),
        }

        // The same through JSON, where it can be expressed (string keys, no binary).
        if let Ok(json_d) = serde_json::to_value(&d) {
            if json_d.is_object() && nesting(&json_d) < MAX_NESTING_DEPTH {
                let text = serde_json::json!({"t": t, "d": json_d, "id": id}).to_string();
                let result = decode_client(text.as_bytes(), Encoding::Json);
                let kept = match &result {
                    Ok(frame) => frame.id == Some(id),
                    Err(DecodeError::BadData { id: got, .. }) => *got == Some(id),
                    Err(_) => false,
                };
                prop_assert!(kept, "{:?} for {}", result, text);
            }
        }
    }
}

fn nesting(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(a) => 1 + a.iter().map(nesting).max().unwrap_or(0),
        serde_json::Value::Object(m) => 1 + m.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}
