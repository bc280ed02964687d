//! RFC 6455 WebSocket, written sans-IO.
//!
//! Layer4 speaks the WebSocket protocol itself instead of wrapping a library, so that the
//! hot path (one encoded frame shared by every recipient, vectored writes, byte caps) is
//! ours to shape. Nothing here touches a socket, a runtime or a clock: the IO driver feeds
//! bytes in and writes out what the core hands back.
//!
//! - [`handshake`]: parse the HTTP/1.1 upgrade request, write the 101 / 4xx answers.
//! - [`frame`]: the frame header codec, masking, and [`frame::frame`] (header + payload in
//!   one `Bytes`, built once and cloned to every recipient).
//! - [`conn`]: [`WsConn`], the per-connection state machine: reassembly, UTF-8 checks,
//!   control frames, the close handshake, the outbound queue.
//!
//! What it is not: permessage-deflate is not negotiated (the contract makes it optional),
//! and there is no client side (frames we decode must be masked, frames we write are not).
//!
//! ```text
//!  socket bytes ─► handshake::parse_request ─► write_accept ─► socket
//!                                 │ consumed..
//!                                 ▼
//!  socket bytes ─► WsConn::handle_read ─► poll_event ─► session layer
//!                  WsConn::send_* / close ─► poll_transmit ─► socket (vectored)
//! ```

mod close;
pub mod conn;
pub mod frame;
pub mod handshake;
mod mask;
mod query;
mod response;
mod utf8;

#[cfg(test)]
mod testutil;

pub use close::is_valid_close_code;
pub use conn::{WsConfig, WsConn, WsEvent};
pub use frame::{decode_header, encode_header, frame, FrameError, FrameHeader, Opcode};
pub use handshake::{parse_request, HandshakeError, UpgradeRequest};
pub use mask::apply_mask;
pub use response::{accept_key, write_accept, write_not_found, write_reject};
