//! Encode once, fan out zero-copy (DESIGN.md idea 3).
//!
//! A [`Framed`] wraps one publication as a shard receives it and builds its complete
//! WebSocket frame at most once per encoding, the first time a recipient of that
//! encoding needs it: the MessagePack frame from the bytes the publisher already
//! encoded (header + payload, no re-encoding), the JSON frame by encoding the event
//! (only if a local session speaks JSON). Every recipient then gets a clone of the same
//! `Bytes`: a reference count, not a copy.

use std::cell::OnceCell;
use std::sync::Arc;

use bus::Publication;
use bytes::Bytes;
use protocol::codec::{self, Encoding};
use protocol::events::ServerEvent;

use crate::core::ws::{self, Opcode};

/// One publication, framed lazily per encoding.
#[derive(Debug)]
pub struct Framed {
    publication: Arc<Publication>,
    msgpack: OnceCell<Bytes>,
    json: OnceCell<Bytes>,
}

impl Framed {
    /// Wraps a publication; nothing is framed yet.
    pub fn new(publication: Arc<Publication>) -> Self {
        Self {
            publication,
            msgpack: OnceCell::new(),
            json: OnceCell::new(),
        }
    }

    /// The publication.
    pub fn publication(&self) -> &Publication {
        &self.publication
    }

    /// The complete WebSocket frame for `encoding`, built on first use.
    pub fn frame(&self, encoding: Encoding) -> Bytes {
        match encoding {
            Encoding::MsgPack => self
                .msgpack
                .get_or_init(|| ws::frame(Opcode::Binary, &self.publication.msgpack)),
            Encoding::Json => self.json.get_or_init(|| {
                let mut payload = Vec::with_capacity(512);
                let p = &self.publication;
                codec::encode_server(&p.event, None, p.offset, Encoding::Json, &mut payload);
                ws::frame(Opcode::Text, &payload)
            }),
        }
        .clone()
    }

    /// Whether the event may be dropped under queue pressure (DESIGN.md idea 5).
    pub fn droppable(&self) -> bool {
        matches!(
            self.publication.event,
            ServerEvent::TypingStarted(_)
                | ServerEvent::TypingStopped(_)
                | ServerEvent::ReadReceiptUpdated(_)
                | ServerEvent::UserStatusChanged(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use protocol::events::client::Empty;
    use protocol::ChannelId;

    use super::*;

    #[test]
    fn frames_once_per_encoding_and_shares_the_bytes() {
        let p = Arc::new(Publication::channel_event(
            ChannelId::new(1),
            4,
            ServerEvent::Pong(Empty {}),
        ));
        let framed = Framed::new(p.clone());
        let a = framed.frame(Encoding::MsgPack);
        let b = framed.frame(Encoding::MsgPack);
        assert_eq!(a.as_ptr(), b.as_ptr(), "the same allocation");
        assert_eq!(&a[2..], &p.msgpack[..], "the publisher's bytes, framed");
        let json = framed.frame(Encoding::Json);
        assert_eq!(json[0], 0x81, "a text frame");
        let text = std::str::from_utf8(&json[2..]).unwrap();
        assert!(text.contains("\"s\":4"), "{text}");
        assert!(!framed.droppable());
    }
}
