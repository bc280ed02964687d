//! Encode once, fan out zero-copy (DESIGN.md idea 4).
//!
//! An [`EncodedEvent`] wraps one publication and builds its complete WebSocket frame
//! (header + MessagePack or JSON envelope) at most once per encoding, the first time a
//! recipient of that encoding needs it. Every recipient then gets a clone of the same
//! `Bytes`: a reference count, not a copy.

use std::sync::{Arc, OnceLock};

use bus::Publication;
use bytes::Bytes;
use protocol::codec::{self, Encoding};
use protocol::events::ServerEvent;

use crate::core::ws::{self, Opcode};
use crate::fanout::outbox::Priority;

/// One event, framed lazily per encoding.
#[derive(Debug)]
pub struct EncodedEvent {
    publication: Arc<Publication>,
    msgpack: OnceLock<Bytes>,
    json: OnceLock<Bytes>,
}

impl EncodedEvent {
    /// Wraps a publication; nothing is encoded yet.
    pub fn new(publication: Arc<Publication>) -> Self {
        Self {
            publication,
            msgpack: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    /// The publication.
    pub fn publication(&self) -> &Publication {
        &self.publication
    }

    /// The complete WebSocket frame for `encoding`, built on first use.
    pub fn frame(&self, encoding: Encoding) -> Bytes {
        let (cell, opcode) = match encoding {
            Encoding::MsgPack => (&self.msgpack, Opcode::Binary),
            Encoding::Json => (&self.json, Opcode::Text),
        };
        cell.get_or_init(|| {
            let mut payload = Vec::with_capacity(256);
            let p = &self.publication;
            codec::encode_server(&p.event, None, p.offset, encoding, &mut payload);
            ws::frame(opcode, &payload)
        })
        .clone()
    }

    /// Whether the event may be dropped under queue pressure.
    pub fn priority(&self) -> Priority {
        match self.publication.event {
            ServerEvent::TypingStarted(_)
            | ServerEvent::TypingStopped(_)
            | ServerEvent::ReadReceiptUpdated(_)
            | ServerEvent::UserStatusChanged(_) => Priority::Droppable,
            _ => Priority::Required,
        }
    }
}
