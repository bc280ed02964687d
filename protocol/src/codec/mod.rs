//! MessagePack and JSON encoding of envelopes `{t, d, id?, s?}` (PROTOCOL.md sections 1-2).
//!
//! Encoders append to a buffer the caller owns: the gateway encodes a channel event once
//! and sends the same bytes to every member. Decoders take untrusted bytes and never
//! panic; they tell apart a broken envelope (the gateway closes with 4002) from an
//! unknown event or bad data inside `d` (an `ERROR BAD_REQUEST`, the connection stays
//! open). This module knows nothing of WebSocket framing: that is the gateway's job.

mod error;
mod json;
mod msgpack;

use std::fmt;

pub use error::DecodeError;

use crate::events::{ClientEvent, DataDecoder, EventSet, Frame, ServerEvent};

/// The encoding of a connection, chosen by `?encoding=` on the gateway URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// One MessagePack map per binary WebSocket message (the default).
    #[default]
    MsgPack,
    /// One JSON object per text WebSocket message; ids are decimal strings.
    Json,
}

impl Encoding {
    /// The encoding named by the `encoding` query value (`msgpack` or `json`).
    pub fn from_query(value: &str) -> Option<Self> {
        match value {
            "msgpack" => Some(Self::MsgPack),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The query value that names this encoding.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MsgPack => "msgpack",
            Self::Json => "json",
        }
    }

    /// Whether messages travel as WebSocket text (JSON) rather than binary (MessagePack).
    pub const fn is_text(self) -> bool {
        matches!(self, Self::Json)
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decodes one message a client sent.
pub fn decode_client(bytes: &[u8], enc: Encoding) -> Result<Frame<ClientEvent>, DecodeError> {
    decode(bytes, enc)
}

/// Appends one client message to `out` (used by clients: the load tester, tests, bots).
pub fn encode_client(frame: &Frame<ClientEvent>, enc: Encoding, out: &mut Vec<u8>) {
    encode(&frame.event, frame.id, frame.s, enc, out);
}

/// Decodes one message the server sent (used by clients).
pub fn decode_server(bytes: &[u8], enc: Encoding) -> Result<Frame<ServerEvent>, DecodeError> {
    decode(bytes, enc)
}

/// Appends one envelope `{t, d, id?, s?}` to `out`.
///
/// Nothing is allocated beyond the growth of `out`, so a caller that reuses its buffer
/// encodes without allocating. Encoding our own types into a `Vec` cannot fail (no IO
/// error, every JSON map key is a string, no floats); should it ever, `out` is left as
/// it was and debug builds panic.
pub fn encode_server(
    event: &ServerEvent,
    id: Option<u32>,
    s: Option<u64>,
    enc: Encoding,
    out: &mut Vec<u8>,
) {
    encode(event, id, s, enc, out);
}

/// Appends the MessagePack envelope of `event`'s reply `t` (e.g. `ACK`) with request
/// `id`, reusing the `d` of `event`, an envelope already encoded by [`encode_server`]
/// whose data is the same map (`MESSAGE_RECEIVED`'s `{message}` is `ACK`'s): encode
/// once, for the channel and for the sender's reply. `false` (nothing appended) when
/// `event` is not a well-formed envelope.
pub fn encode_msgpack_reply(t: &str, event: &[u8], id: Option<u32>, out: &mut Vec<u8>) -> bool {
    let Some(d) = msgpack::data_of(event) else {
        return false;
    };
    let start = out.len();
    if msgpack::encode_with_data(t, d, id, out).is_err() {
        out.truncate(start);
        return false;
    }
    true
}

fn decode<E: EventSet>(bytes: &[u8], enc: Encoding) -> Result<Frame<E>, DecodeError> {
    match enc {
        Encoding::MsgPack => msgpack::decode(bytes),
        Encoding::Json => json::decode(bytes),
    }
}

fn encode<E: EventSet>(
    event: &E,
    id: Option<u32>,
    s: Option<u64>,
    enc: Encoding,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    let result = match enc {
        Encoding::MsgPack => msgpack::encode(event, id, s, out),
        Encoding::Json => json::encode(event, id, s, out),
    };
    debug_assert!(
        result.is_ok(),
        "encoding {} failed: {result:?}",
        event.wire_name()
    );
    if result.is_err() {
        out.truncate(start);
    }
}

/// The error an encoder can return; never seen in practice (see [`encode_server`]).
type EncodeError = Box<dyn std::error::Error + Send + Sync>;

/// The second half of decoding, common to both encodings: the envelope is sound, so
/// look up `t` and read `d` as that event's data.
fn finish<E: EventSet, D: DataDecoder>(
    t: &str,
    data: D,
    id: Option<u32>,
    s: Option<u64>,
) -> Result<Frame<E>, DecodeError> {
    match E::decode_data(t, data) {
        Some(Ok(event)) => Ok(Frame { event, id, s }),
        Some(Err(reason)) => Err(DecodeError::BadData {
            id,
            t: t.to_owned(),
            reason,
        }),
        None => Err(DecodeError::UnknownEvent {
            id,
            t: t.to_owned(),
        }),
    }
}

/// A serde error inside `d`, as a reason naming the field (`content: invalid type ...`).
fn reason<E: fmt::Display>(err: serde_path_to_error::Error<E>) -> String {
    let path = err.path().to_string();
    if path == "." {
        err.inner().to_string()
    } else {
        format!("{path}: {}", err.inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_reusing_an_events_data_is_byte_for_byte_the_reply_encoded_anew() {
        use crate::events::server::{Ack, MessageData};
        use crate::{ChannelId, Message, MessageId, User, UserId};
        let message = Message {
            id: MessageId::new(383_661_453_053_263_872),
            channel_id: ChannelId::new(7),
            author: User {
                id: UserId::new(9),
                username: "ann".into(),
                display_name: "Ann".into(),
                status: None,
            },
            content: "hello".into(),
            created_at: 1_795_539_221_000,
            edited_at: None,
            reply_to: None,
            attachments: vec![],
            reactions: vec![],
            nonce: Some("n1".into()),
        };
        let received = ServerEvent::MessageReceived(Box::new(MessageData {
            message: message.clone(),
        }));
        let mut event = Vec::new();
        encode_server(&received, None, Some(300), Encoding::MsgPack, &mut event);
        let ack = ServerEvent::Ack(Box::new(Ack {
            message: Some(message),
            channel: None,
        }));
        for id in [Some(7), None, Some(u32::MAX)] {
            let mut fresh = Vec::new();
            encode_server(&ack, id, None, Encoding::MsgPack, &mut fresh);
            let mut reused = Vec::new();
            assert!(encode_msgpack_reply("ACK", &event, id, &mut reused));
            assert_eq!(reused, fresh);
        }
        let mut out = vec![1];
        assert!(!encode_msgpack_reply("ACK", &[0xc1], Some(1), &mut out));
        assert_eq!(out, [1], "nothing appended for a bad envelope");
    }

    #[test]
    fn encoding_from_query() {
        assert_eq!(Encoding::from_query("msgpack"), Some(Encoding::MsgPack));
        assert_eq!(Encoding::from_query("json"), Some(Encoding::Json));
        assert_eq!(Encoding::from_query("JSON"), None);
        assert_eq!(Encoding::from_query(""), None);
        assert_eq!(Encoding::default(), Encoding::MsgPack);
        for enc in [Encoding::MsgPack, Encoding::Json] {
            assert_eq!(Encoding::from_query(enc.as_str()), Some(enc));
        }
        assert!(Encoding::Json.is_text());
        assert!(!Encoding::MsgPack.is_text());
    }

    #[test]
    fn encode_appends_without_touching_what_is_there() {
        let event = ServerEvent::Pong(Default::default());
        for enc in [Encoding::MsgPack, Encoding::Json] {
            let mut out = b"prefix".to_vec();
            encode_server(&event, Some(7), None, enc, &mut out);
            assert_eq!(&out[..6], b"prefix");
            let frame = decode_server(&out[6..], enc).unwrap();
            assert_eq!(frame.event, event);
            assert_eq!(frame.id, Some(7));
            assert_eq!(frame.s, None);
        }
    }

    #[test]
    fn every_name_is_unique_and_screaming_snake_case() {
        for names in [ClientEvent::NAMES, ServerEvent::NAMES] {
            let mut seen = std::collections::HashSet::new();
            for name in names {
                assert!(seen.insert(name), "{name} twice");
                assert!(
                    name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                    "{name}"
                );
            }
        }
        assert_eq!(ClientEvent::NAMES.len(), 14);
        assert_eq!(ServerEvent::NAMES.len(), 19);
    }
}
