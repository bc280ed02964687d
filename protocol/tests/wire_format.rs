//! The bytes on the wire match PROTOCOL.md: structs are maps (never arrays), ids are
//! uint64 in MessagePack and decimal strings in JSON (map keys too), optional fields may
//! be absent or null.

use std::collections::BTreeMap;

use protocol::codec::{decode_client, decode_server, encode_client, encode_server, Encoding};
use protocol::events::client::{Identify, SendMessage};
use protocol::events::server::MessageData;
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::ids::{ChannelId, MessageId, UserId};
use protocol::{Message, User, UserStatus};
use serde_json::json;

fn message() -> Message {
    Message {
        id: MessageId::new(175_928_847_299_117_063),
        channel_id: ChannelId::new(41_771_983_423_143_937),
        author: User {
            id: UserId::new(80_351_110_224_678_912),
            username: "ada".into(),
            display_name: "Ada".into(),
            status: Some(UserStatus::Online),
        },
        content: "Hello \"world\" ☃".into(),
        created_at: 1_720_000_000_000,
        edited_at: None,
        reply_to: Some(MessageId::new(175_928_847_299_117_000)),
        attachments: vec![],
        reactions: vec![],
        nonce: Some("n-1".into()),
    }
}

fn received() -> ServerEvent {
    ServerEvent::MessageReceived(Box::new(MessageData { message: message() }))
}

#[test]
fn json_message_received_matches_the_contract() {
    let mut out = Vec::new();
    encode_server(&received(), None, Some(12), Encoding::Json, &mut out);
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        value,
        json!({
            "t": "MESSAGE_RECEIVED",
            "d": {"message": {
                "id": "175928847299117063",
                "channel_id": "41771983423143937",
                "author": {"id": "80351110224678912", "username": "ada", "display_name": "Ada", "status": "online"},
                "content": "Hello \"world\" ☃",
                "created_at": 1_720_000_000_000u64,
                "reply_to": "175928847299117000",
                "attachments": [],
                "reactions": [],
                "nonce": "n-1"
            }},
            "s": 12
        })
    );
    // The envelope keys come first and in order, so a reader can dispatch early.
    assert!(out.starts_with(b"{\"t\":\"MESSAGE_RECEIVED\",\"d\":{"));
}

#[test]
fn json_identify_positions_have_string_keys() {
    let text = r#"{"t":"IDENTIFY","d":{"token":"jwt","status":"offline","positions":{"41771983423143937":17,"2":0}},"id":1}"#;
    let frame = decode_client(text.as_bytes(), Encoding::Json).unwrap();
    let positions = BTreeMap::from([
        (ChannelId::new(41_771_983_423_143_937), 17),
        (ChannelId::new(2), 0),
    ]);
    let want = Frame::new(ClientEvent::Identify(Identify {
        token: "jwt".into(),
        status: Some(UserStatus::Offline),
        positions: Some(positions),
    }))
    .with_id(1);
    assert_eq!(frame, want);

    let mut out = Vec::new();
    encode_client(&want, Encoding::Json, &mut out);
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        value["d"]["positions"],
        json!({"2": 0, "41771983423143937": 17})
    );
    assert_eq!(value["id"], json!(1));
}

#[test]
fn json_accepts_numeric_ids_and_null_optionals() {
    let text = r#"{"t":"SEND_MESSAGE","d":{"channel_id":5,"content":"hi","nonce":null,"reply_to":null,"attachment_ids":null},"id":null}"#;
    let frame = decode_client(text.as_bytes(), Encoding::Json).unwrap();
    assert_eq!(
        frame,
        Frame::new(ClientEvent::SendMessage(SendMessage {
            channel_id: ChannelId::new(5),
            content: "hi".into(),
            nonce: None,
            reply_to: None,
            attachment_ids: None,
        }))
    );
}

#[test]
fn msgpack_exact_bytes_of_a_small_frame() {
    let mut out = Vec::new();
    encode_server(
        &ServerEvent::Pong(Default::default()),
        Some(1),
        None,
        Encoding::MsgPack,
        &mut out,
    );
    assert_eq!(
        out,
        [
            &[0x83, 0xa1, b't', 0xa4][..],
            b"PONG",
            &[0xa1, b'd', 0x80, 0xa2, b'i', b'd', 0x01]
        ]
        .concat()
    );
}

#[test]
fn msgpack_structs_are_maps_and_ids_are_uint64() {
    let mut out = Vec::new();
    encode_server(
        &received(),
        Some(4),
        Some(1 << 40),
        Encoding::MsgPack,
        &mut out,
    );
    let value = rmpv::decode::read_value(&mut &out[..]).unwrap();
    let keys: Vec<&str> = value
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["t", "d", "id", "s"]);
    assert_eq!(value["t"].as_str(), Some("MESSAGE_RECEIVED"));
    assert_eq!(value["id"].as_u64(), Some(4));
    assert_eq!(value["s"].as_u64(), Some(1 << 40));
    let msg = &value["d"]["message"];
    assert!(msg.is_map(), "structs must be maps, not arrays: {msg}");
    assert_eq!(msg["id"].as_u64(), Some(175_928_847_299_117_063));
    assert_eq!(msg["author"]["id"].as_u64(), Some(80_351_110_224_678_912));
    assert_eq!(msg["author"]["status"].as_str(), Some("online"));
    assert_eq!(msg["reply_to"].as_u64(), Some(175_928_847_299_117_000));
    assert!(msg["attachments"].as_array().unwrap().is_empty());
    // Absent optionals are left out, not written as nil.
    assert!(msg
        .as_map()
        .unwrap()
        .iter()
        .all(|(k, _)| k.as_str() != Some("edited_at")));
}

#[test]
fn msgpack_accepts_a_map_written_by_another_encoder() {
    // What a JavaScript client (@msgpack/msgpack) sends: ids as uint64, nil optionals.
    let value = rmpv::Value::Map(vec![
        ("t".into(), "SEND_MESSAGE".into()),
        (
            "d".into(),
            rmpv::Value::Map(vec![
                (
                    "channel_id".into(),
                    rmpv::Value::from(41_771_983_423_143_937u64),
                ),
                ("content".into(), "hi".into()),
                ("reply_to".into(), rmpv::Value::Nil),
                (
                    "attachment_ids".into(),
                    rmpv::Value::Array(vec![7u64.into()]),
                ),
            ]),
        ),
        ("id".into(), 65_536u32.into()),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &value).unwrap();
    let frame = decode_client(&bytes, Encoding::MsgPack).unwrap();
    assert_eq!(frame.id, Some(65_536));
    match frame.event {
        ClientEvent::SendMessage(d) => {
            assert_eq!(d.channel_id, ChannelId::new(41_771_983_423_143_937));
            assert_eq!(d.attachment_ids.unwrap()[0].get(), 7);
            assert_eq!(d.reply_to, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_encoding_for_every_recipient() {
    // The gateway encodes a channel event once; decoding those bytes gives it back.
    let mut out = Vec::new();
    encode_server(&received(), None, Some(3), Encoding::MsgPack, &mut out);
    let frame = decode_server(&out, Encoding::MsgPack).unwrap();
    assert!(frame.event.is_channel_event());
    assert_eq!(
        frame.event.channel_id(),
        Some(ChannelId::new(41_771_983_423_143_937))
    );
    assert_eq!(frame.s, Some(3));
}
