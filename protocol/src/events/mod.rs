//! Events and the envelope `{t, d, id?, s?}` (PROTOCOL.md section 2).

pub mod client;
pub mod server;

pub use client::ClientEvent;
pub use server::ServerEvent;

/// One message on the socket: an event with its request id and channel offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<E> {
    /// The event (`t` and `d`).
    pub event: E,
    /// Request id, echoed in the reply.
    pub id: Option<u32>,
    /// Channel offset, on channel events only.
    pub s: Option<u64>,
}

impl<E> Frame<E> {
    /// A frame with no request id and no offset.
    pub fn new(event: E) -> Self {
        Self {
            event,
            id: None,
            s: None,
        }
    }
}
