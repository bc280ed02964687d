//! MessagePack envelope forms that the encoder never writes but a client may send, and
//! which kill the mutants cargo-mutants found alive in `protocol::codec`
//! (docs/mutants.md): map16/map32 envelopes, 32-bit lengths, every extension size,
//! map16 values inside unknown keys, `s: nil`, and `Display` for [`Encoding`].
//!
//! Each message ends with an `id` after the unusual value, so a value skipped with the
//! wrong length shows up as a wrong id or a malformed message.

use protocol::codec::{decode_client, DecodeError, Encoding};
use protocol::events::client::Empty;
use protocol::events::ClientEvent;

/// `"t": "PING", "d": {}` as two key-value pairs.
const T_AND_D: &[u8] = &[0xa1, b't', 0xa4, b'P', b'I', b'N', b'G', 0xa1, b'd', 0x80];

/// `"id": 9` as a key-value pair.
const ID_9: &[u8] = &[0xa2, b'i', b'd', 0x09];

/// A fixmap envelope: `t`, `d`, the `extra_pairs` pairs in `extra`, then `id: 9`.
fn envelope(extra_pairs: u8, extra: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | (3 + extra_pairs)];
    out.extend_from_slice(T_AND_D);
    out.extend_from_slice(extra);
    out.extend_from_slice(ID_9);
    out
}

fn assert_ping_with_id_9(bytes: &[u8]) {
    match decode_client(bytes, Encoding::MsgPack) {
        Ok(frame) => {
            assert_eq!(frame.event, ClientEvent::Ping(Empty {}), "{bytes:x?}");
            assert_eq!(frame.id, Some(9), "{bytes:x?}");
        }
        Err(err) => panic!("{bytes:x?}: {err}"),
    }
}

#[test]
fn encoding_displays_as_its_query_value() {
    assert_eq!(Encoding::MsgPack.to_string(), "msgpack");
    assert_eq!(Encoding::Json.to_string(), "json");
    assert_eq!(format!("?encoding={}", Encoding::Json), "?encoding=json");
}

#[test]
fn envelope_may_be_a_map16_or_a_map32() {
    let mut map16 = vec![0xde, 0x00, 0x03];
    map16.extend_from_slice(T_AND_D);
    map16.extend_from_slice(ID_9);
    assert_ping_with_id_9(&map16);

    let mut map32 = vec![0xdf, 0x00, 0x00, 0x00, 0x03];
    map32.extend_from_slice(T_AND_D);
    map32.extend_from_slice(ID_9);
    assert_ping_with_id_9(&map32);
}

#[test]
fn a_map32_envelope_counts_its_pairs() {
    // Declares 4 pairs but holds 3: the scan runs out of bytes.
    let mut short = vec![0xdf, 0x00, 0x00, 0x00, 0x04];
    short.extend_from_slice(T_AND_D);
    short.extend_from_slice(ID_9);
    assert!(matches!(
        decode_client(&short, Encoding::MsgPack),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn s_may_be_nil_or_an_integer() {
    let s_nil = envelope(1, &[0xa1, b's', 0xc0]);
    let frame = decode_client(&s_nil, Encoding::MsgPack).unwrap();
    assert_eq!((frame.id, frame.s), (Some(9), None));

    let s_int = envelope(1, &[0xa1, b's', 0xcd, 0x01, 0x00]);
    let frame = decode_client(&s_int, Encoding::MsgPack).unwrap();
    assert_eq!((frame.id, frame.s), (Some(9), Some(256)));

    let s_text = envelope(1, &[0xa1, b's', 0xa1, b'1']);
    assert!(matches!(
        decode_client(&s_text, Encoding::MsgPack),
        Err(DecodeError::Malformed(_))
    ));
}

#[test]
fn values_with_32_bit_lengths_are_skipped_exactly() {
    let extra = [
        // "x": bin32 of 3 bytes
        &[0xa1, b'x', 0xc6, 0, 0, 0, 3, 1, 2, 3][..],
        // "y": array32 of 2 integers
        &[0xa1, b'y', 0xdd, 0, 0, 0, 2, 0x01, 0x02],
        // "z": map32 of 1 pair
        &[0xa1, b'z', 0xdf, 0, 0, 0, 1, 0xa1, b'k', 0x05],
        // "w": str32 of 2 characters
        &[0xa1, b'w', 0xdb, 0, 0, 0, 2, b'o', b'k'],
        // "e": ext32 of 2 bytes (type byte, then data)
        &[0xa1, b'e', 0xc9, 0, 0, 0, 2, 0x01, 0xaa, 0xbb],
    ]
    .concat();
    assert_ping_with_id_9(&envelope(5, &extra));
}

#[test]
fn t_may_be_a_str32() {
    let mut bytes = vec![0x83, 0xa1, b't', 0xdb, 0, 0, 0, 4];
    bytes.extend_from_slice(b"PING");
    bytes.extend_from_slice(&[0xa1, b'd', 0x80]);
    bytes.extend_from_slice(ID_9);
    assert_ping_with_id_9(&bytes);
}

#[test]
fn map16_values_count_two_values_per_pair() {
    for pairs in [1u8, 3] {
        let mut extra = vec![0xa1, b'm', 0xde, 0x00, pairs];
        for i in 0..pairs {
            extra.extend_from_slice(&[0xa1, b'a' + i, i]);
        }
        assert_ping_with_id_9(&envelope(1, &extra));
    }
}

#[test]
fn every_extension_size_is_skipped_exactly() {
    // (marker, length prefix, data length): the type byte comes on top of the data.
    let forms: [(u8, &[u8], usize); 8] = [
        (0xd4, &[], 1),
        (0xd5, &[], 2),
        (0xd6, &[], 4),
        (0xd7, &[], 8),
        (0xd8, &[], 16),
        (0xc7, &[3], 3),
        (0xc8, &[0, 5], 5),
        (0xc9, &[0, 0, 0, 6], 6),
    ];
    for (marker, len, data) in forms {
        let mut extra = vec![0xa1, b'x', marker];
        extra.extend_from_slice(len);
        extra.push(0x01); // the extension type
        extra.extend(std::iter::repeat_n(0xee, data));
        assert_ping_with_id_9(&envelope(1, &extra));
        // One data byte short: the id is swallowed, so the message is malformed.
        let short = envelope(1, &extra[..extra.len() - 1]);
        assert!(
            decode_client(&short, Encoding::MsgPack).is_err_and(|e| e.close_code().is_some()),
            "{marker:x}"
        );
    }
}
