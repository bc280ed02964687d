//! One module per fuzz target; each has `pub fn run(data: &[u8])`, which panics when an
//! invariant breaks and returns otherwise.
//!
//! | target | what it feeds | what it checks |
//! |---|---|---|
//! | [`frame_decoder`] | bytes into `WsConn`, whole and split | no panic; same events and output however split |
//! | [`frame_differential`] | bytes into `WsConn` and tungstenite | same frames and messages, or both reject |
//! | [`handshake`] | bytes into `parse_request` | no panic; `consumed` within the buffer; prefix-stable |
//! | [`envelope`] | bytes into `decode_client`/`decode_server` | no panic; decode-encode-decode is the identity |
//! | [`session`] | operations on `Session` with a fake clock | no panic; only contract close codes, one close, nothing after it |

pub mod envelope;
pub mod frame_decoder;
pub mod frame_differential;
pub mod handshake;
pub mod session;

use gateway::core::ws::{WsConfig, WsConn, WsEvent};

use crate::wire::{parse_server_frame, ServerFrame};

/// Everything a connection did after some input: its events and what it wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The events, in order.
    pub events: Vec<WsEvent>,
    /// The frames written, one per `poll_transmit` chunk.
    pub frames: Vec<ServerFrame>,
}

impl Transcript {
    /// Takes every pending event and frame from `conn`. Panics if a chunk is not
    /// exactly one valid server frame.
    pub fn drain(&mut self, conn: &mut WsConn) {
        while let Some(event) = conn.poll_event() {
            self.events.push(event);
        }
        while let Some(chunk) = conn.poll_transmit() {
            match parse_server_frame(&chunk) {
                Ok(frame) => self.frames.push(frame),
                Err(e) => panic!("WsConn wrote an invalid frame ({e}): {chunk:?}"),
            }
        }
    }
}

/// Connection limits picked by one input byte, small enough for the fuzzer to reach.
pub fn ws_config(selector: u8) -> WsConfig {
    let max_message_bytes = [125, 1024, 65_536, 16][usize::from(selector & 3)];
    let mut config = WsConfig::with_max_message_bytes(max_message_bytes);
    match (selector >> 2) & 3 {
        1 => config.max_fragments = 1,
        2 => config.max_fragments = 3,
        _ => {}
    }
    config
}

/// Every target's name, as in `Cargo.toml` and `corpus/`.
pub const NAMES: [&str; 6] = [
    "frame_decoder",
    "frame_differential",
    "handshake",
    "envelope_msgpack",
    "envelope_json",
    "session",
];

/// Runs the target called `name` on one input; `false` when no target has that name.
pub fn run_named(name: &str, data: &[u8]) -> bool {
    match name {
        "frame_decoder" => frame_decoder::run(data),
        "frame_differential" => frame_differential::run(data),
        "handshake" => handshake::run(data),
        "envelope_msgpack" => envelope::run(data, protocol::Encoding::MsgPack),
        "envelope_json" => envelope::run(data, protocol::Encoding::Json),
        "session" => session::run(data),
        _ => return false,
    }
    true
}
