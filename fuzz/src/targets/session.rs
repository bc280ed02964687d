//! `session`: the session state machine driven by an arbitrary sequence of operations,
//! as the IO driver would: socket bytes, a fake clock, identify results, replies,
//! fanout frames, closes and polling.
//!
//! Input: `[mode][config selector][operation...]`, each operation a tag byte and its
//! fields ([`Op::read`]; [`Op::write`] is its inverse, for seeds). Client events are
//! encoded with the real codec and framed (masked, possibly fragmented, possibly in the
//! wrong encoding or opcode), so the fuzzer gets past the decoders quickly; raw bytes and
//! raw frames cover the rest.
//!
//! Checks: nothing panics, and what the session writes keeps the contract:
//!
//! - every `poll_transmit` chunk is one valid unmasked server frame;
//! - at most one close frame, and nothing after it (RFC 6455 5.5.1);
//! - a close the session starts carries a code of [`ALLOWED_CLOSE_CODES`]; an answer to
//!   the peer's close may echo the peer's code instead (RFC 6455 5.5.1), or be empty
//!   when the peer's was;
//! - on `/gateway`, every data frame is a binary (MessagePack) or text (JSON) message
//!   that `decode_server` accepts; on `/echo`, the messages the client sent, in order;
//! - no action after `Action::Closing`; after `handle_timeout(now)` the next timeout is
//!   later than `now` (a driver would otherwise spin on its timer).
//!
//! The peer's close codes come from a shadow `WsConn` fed the same bytes.

use gateway::core::session::{Action, Mode, Reply, Session, SessionConfig};
use gateway::core::ws::{frame, Opcode, WsConfig, WsConn, WsEvent};
use protocol::codec::{self, Encoding};
use protocol::events::client::{ChannelRef, Empty, Identify, SendMessage};
use protocol::events::server::{ChannelUser, ErrorData, MessagesLoaded, Ready};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::{ChannelId, CloseCode, ErrorCode, User, UserId};

use crate::input::{Reader, Writer};
use crate::wire::{client_frame, parse_server_frame, ServerFrame, BINARY, CLOSE, PING, PONG, TEXT};

/// Close codes the session may start a close with: those of PROTOCOL.md section 8
/// (4000, 4002-4005, 4008-4010, 1001, 1009), and the RFC 6455 codes of the WebSocket
/// layer (1000 normal, 1002 protocol error, 1007 invalid UTF-8), plus 1008 (policy
/// violation), which the session sends when a message stays incomplete for too long
/// (`SessionConfig::partial_message_timeout_ms`). 1008 is not in section 8's list.
pub const ALLOWED_CLOSE_CODES: &[u16] = &[
    1000, 1001, 1002, 1007, 1008, 1009, 4000, 4002, 4003, 4004, 4005, 4008, 4009, 4010,
];

/// The codes the IO driver closes with (drain, slow consumer, internal, rate limit).
const DRIVER_CLOSES: [CloseCode; 4] = [
    CloseCode::GoingAway,
    CloseCode::SlowConsumer,
    CloseCode::UnknownError,
    CloseCode::RateLimited,
];

/// A client event the fuzzer can send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `IDENTIFY` with this token.
    Identify(Vec<u8>),
    /// `PING`.
    Ping,
    /// `START_TYPING` in this channel.
    Typing(u32),
    /// `SEND_MESSAGE` with this content.
    Send(Vec<u8>),
    /// An envelope `{t, d: {}}` with this event name (usually unknown).
    Named(Vec<u8>),
}

/// How an event is put on the wire: bits of one byte.
pub mod how {
    /// Encode in the other encoding than the connection's.
    pub const OTHER_ENCODING: u8 = 1;
    /// Send as text when binary is expected and the other way round.
    pub const FLIP_OPCODE: u8 = 2;
    /// Bits 2-4: split the message into this many extra fragments.
    pub const FRAGMENTS_SHIFT: u8 = 2;
    /// A ping between fragments.
    pub const PING_BETWEEN: u8 = 0x20;
    /// Deliver the bytes one read per byte.
    pub const BYTE_BY_BYTE: u8 = 0x40;
}

/// One thing the driver does to the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Bytes from the socket, as they are.
    Raw(Vec<u8>),
    /// One masked frame: the first header byte (FIN, RSV, opcode) and the payload.
    Frame {
        /// The first header byte.
        first: u8,
        /// The payload (masked on the wire).
        payload: Vec<u8>,
    },
    /// A client event, encoded and framed.
    Event {
        /// The event.
        event: EventKind,
        /// Its request id.
        id: Option<u32>,
        /// How it is framed ([`how`]).
        how: u8,
    },
    /// The clock moves on this many ms; then `handle_timeout`.
    Advance(u16),
    /// The clock jumps to `poll_timeout`; then `handle_timeout`.
    Timeout,
    /// IDENTIFY succeeded: `handle_ready`.
    Ready,
    /// IDENTIFY failed: `handle_identify_failed`.
    IdentifyFailed,
    /// A request finished: `handle_reply` (0: ACK, 1: an event, 2: ERROR with `text`).
    Reply {
        /// Which reply.
        kind: u8,
        /// The request id.
        id: Option<u32>,
        /// The error message.
        text: Vec<u8>,
    },
    /// Takes every action.
    Actions,
    /// Takes every frame to write.
    Transmit,
    /// The driver closes (one of the driver's codes).
    Close(u8),
    /// A fanout frame arrives (`handle_frame`).
    Fanout,
}

impl Op {
    const TAGS: u8 = 12;

    /// Reads one operation.
    pub fn read(r: &mut Reader<'_>) -> Op {
        match r.u8() % Self::TAGS {
            0 => Op::Raw(r.short_bytes().to_vec()),
            1 => Op::Frame {
                first: r.u8(),
                payload: r.short_bytes().to_vec(),
            },
            2 => {
                let event = match r.u8() % 5 {
                    0 => EventKind::Identify(r.short_bytes().to_vec()),
                    1 => EventKind::Ping,
                    2 => EventKind::Typing(r.u32()),
                    3 => EventKind::Send(r.short_bytes().to_vec()),
                    _ => EventKind::Named(r.short_bytes().to_vec()),
                };
                let id = r.opt_u32();
                Op::Event {
                    event,
                    id,
                    how: r.u8(),
                }
            }
            3 => Op::Advance(r.u16()),
            4 => Op::Timeout,
            5 => Op::Ready,
            6 => Op::IdentifyFailed,
            7 => Op::Reply {
                kind: r.u8(),
                id: r.opt_u32(),
                text: r.short_bytes().to_vec(),
            },
            8 => Op::Actions,
            9 => Op::Transmit,
            10 => Op::Close(r.u8()),
            _ => Op::Fanout,
        }
    }

    /// Writes the bytes [`Op::read`] reads back as this operation.
    pub fn write(&self, w: &mut Writer) {
        match self {
            Op::Raw(bytes) => {
                w.u8(0).short_bytes(bytes);
            }
            Op::Frame { first, payload } => {
                w.u8(1).u8(*first).short_bytes(payload);
            }
            Op::Event { event, id, how } => {
                w.u8(2);
                match event {
                    EventKind::Identify(token) => w.u8(0).short_bytes(token),
                    EventKind::Ping => w.u8(1),
                    EventKind::Typing(channel) => w.u8(2).u32(*channel),
                    EventKind::Send(content) => w.u8(3).short_bytes(content),
                    EventKind::Named(name) => w.u8(4).short_bytes(name),
                };
                w.opt_u32(*id).u8(*how);
            }
            Op::Advance(ms) => {
                w.u8(3).u16(*ms);
            }
            Op::Timeout => {
                w.u8(4);
            }
            Op::Ready => {
                w.u8(5);
            }
            Op::IdentifyFailed => {
                w.u8(6);
            }
            Op::Reply { kind, id, text } => {
                w.u8(7).u8(*kind).opt_u32(*id).short_bytes(text);
            }
            Op::Actions => {
                w.u8(8);
            }
            Op::Transmit => {
                w.u8(9);
            }
            Op::Close(code) => {
                w.u8(10).u8(*code);
            }
            Op::Fanout => {
                w.u8(11);
            }
        }
    }
}

/// The mode picked by one input byte.
pub fn mode(selector: u8) -> Mode {
    match selector % 3 {
        0 => Mode::Gateway(Encoding::MsgPack),
        1 => Mode::Gateway(Encoding::Json),
        _ => Mode::Echo,
    }
}

/// Session limits picked by one input byte: the contract's defaults when it is 0,
/// tight limits (3 frames per second, 1 s heartbeats, 256-byte messages) that the
/// fuzzer reaches quickly otherwise.
pub fn session_config(selector: u8) -> SessionConfig {
    if selector == 0 {
        return SessionConfig::default();
    }
    SessionConfig {
        heartbeat_interval_ms: 1_000,
        identify_timeout_ms: 500,
        frames_per_window: 3,
        frame_window_ms: 1_000,
        ws: WsConfig::with_max_message_bytes(if selector & 1 == 1 { 256 } else { 4096 }),
        partial_message_timeout_ms: 300,
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let mode = mode(r.u8());
    let config = session_config(r.u8());
    let mut h = Harness::new(mode, config);
    while !r.is_empty() {
        let op = Op::read(&mut r);
        h.apply(op);
    }
    h.actions();
    h.transmit();
}

/// The session under test, the fake clock, and what has been observed so far.
struct Harness {
    mode: Mode,
    config: SessionConfig,
    session: Session,
    now: u64,
    /// Decodes the same client bytes, to know which close codes the peer sent.
    shadow: WsConn,
    peer_closes: Vec<Option<u16>>,
    /// Messages the client sent (what `/echo` may send back), in order.
    peer_messages: Vec<WsEvent>,
    echoed: usize,
    close_written: bool,
    closing_taken: bool,
}

impl Harness {
    fn new(mode: Mode, config: SessionConfig) -> Self {
        Self {
            mode,
            session: Session::new(mode, &config, 0),
            shadow: WsConn::new(config.ws.clone()),
            config,
            now: 0,
            peer_closes: Vec::new(),
            peer_messages: Vec::new(),
            echoed: 0,
            close_written: false,
            closing_taken: false,
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Raw(bytes) => self.read(&bytes),
            Op::Frame { first, payload } => {
                let mut wire = Vec::new();
                client_frame(first, crate::wire::MASK, &payload, &mut wire);
                self.read(&wire);
            }
            Op::Event { event, id, how } => self.send_event(&event, id, how),
            Op::Advance(ms) => {
                self.now += u64::from(ms);
                self.timeout();
            }
            Op::Timeout => {
                if let Some(at) = self.session.poll_timeout() {
                    self.now = self.now.max(at);
                    self.timeout();
                }
            }
            Op::Ready => self.session.handle_ready(UserId::new(42), self.ready()),
            Op::IdentifyFailed => self.session.handle_identify_failed(),
            Op::Reply { kind, id, text } => {
                let reply = match kind % 3 {
                    0 => Reply::Ack(Box::default()),
                    1 => Reply::Event(ServerEvent::MessagesLoaded(Box::new(MessagesLoaded {
                        channel_id: ChannelId::new(7),
                        messages: Vec::new(),
                    }))),
                    _ => Reply::Error(ErrorData {
                        code: ErrorCode::BadRequest,
                        message: String::from_utf8_lossy(&text).into_owned(),
                        retry_after_ms: None,
                    }),
                };
                self.session.handle_reply(id, reply);
            }
            Op::Actions => self.actions(),
            Op::Transmit => self.transmit(),
            Op::Close(code) => {
                self.session
                    .close(DRIVER_CLOSES[usize::from(code) % DRIVER_CLOSES.len()]);
            }
            Op::Fanout => self.fanout(),
        }
    }

    fn ready(&self) -> Ready {
        Ready {
            session_id: "1".into(),
            user: User {
                id: UserId::new(42),
                username: "fuzz".into(),
                display_name: "Fuzz".into(),
                status: None,
            },
            channels: Vec::new(),
            blocked_user_ids: Vec::new(),
            heartbeat_interval_ms: self.config.heartbeat_interval_ms,
            resync: Vec::new(),
        }
    }

    /// Socket bytes into the session and the shadow decoder.
    fn read(&mut self, bytes: &[u8]) {
        self.session.handle_read(bytes, self.now);
        self.shadow.handle_read(bytes);
        while let Some(event) = self.shadow.poll_event() {
            match event {
                WsEvent::Close { code, .. } => self.peer_closes.push(code),
                WsEvent::Text(_) | WsEvent::Binary(_) => self.peer_messages.push(event),
                WsEvent::Ping | WsEvent::Pong | WsEvent::ProtocolError { .. } => {}
            }
        }
        while self.shadow.poll_transmit().is_some() {}
    }

    fn timeout(&mut self) {
        self.session.handle_timeout(self.now);
        if let Some(next) = self.session.poll_timeout() {
            assert!(
                next > self.now,
                "after handle_timeout({}) the next timeout is {next}",
                self.now
            );
        }
    }

    fn encoding(&self) -> Encoding {
        match self.mode {
            Mode::Gateway(enc) => enc,
            Mode::Echo => Encoding::MsgPack,
        }
    }

    fn send_event(&mut self, event: &EventKind, id: Option<u32>, how: u8) {
        let mut enc = self.encoding();
        if how & how::OTHER_ENCODING != 0 {
            enc = match enc {
                Encoding::MsgPack => Encoding::Json,
                Encoding::Json => Encoding::MsgPack,
            };
        }
        let mut payload = Vec::new();
        match client_event(event) {
            Some(event) => codec::encode_client(&Frame { event, id, s: None }, enc, &mut payload),
            None => named_envelope(event, id, enc, &mut payload),
        }
        let mut opcode = if enc.is_text() { TEXT } else { BINARY };
        if how & how::FLIP_OPCODE != 0 {
            opcode ^= TEXT | BINARY;
        }
        let fragments = usize::from((how >> how::FRAGMENTS_SHIFT) & 7) + 1;
        let size = payload.len().div_ceil(fragments).max(1);
        let mut wire = Vec::new();
        let pieces: Vec<&[u8]> = if payload.is_empty() {
            vec![&[]]
        } else {
            payload.chunks(size).collect()
        };
        for (i, piece) in pieces.iter().enumerate() {
            let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
            let op = if i == 0 { opcode } else { 0 };
            client_frame(fin | op, crate::wire::MASK, piece, &mut wire);
            if how & how::PING_BETWEEN != 0 && fin == 0 {
                client_frame(0x80 | PING, crate::wire::MASK, b"mid", &mut wire);
            }
        }
        if how & how::BYTE_BY_BYTE != 0 {
            for byte in wire {
                self.read(&[byte]);
            }
        } else {
            self.read(&wire);
        }
    }

    fn fanout(&mut self) {
        let enc = self.encoding();
        let mut payload = Vec::new();
        let event = ServerEvent::TypingStarted(ChannelUser {
            channel_id: ChannelId::new(7),
            user_id: UserId::new(9),
        });
        codec::encode_server(&event, None, None, enc, &mut payload);
        let opcode = if enc.is_text() {
            Opcode::Text
        } else {
            Opcode::Binary
        };
        self.session.handle_frame(frame(opcode, &payload));
    }

    fn actions(&mut self) {
        while let Some(action) = self.session.poll_action() {
            assert!(!self.closing_taken, "{action:?} after Action::Closing");
            if action == Action::Closing {
                self.closing_taken = true;
                assert!(self.session.is_closing(), "Closing while not closing");
            }
        }
    }

    fn transmit(&mut self) {
        while let Some(chunk) = self.session.poll_transmit() {
            let frame = parse_server_frame(&chunk)
                .unwrap_or_else(|e| panic!("session wrote an invalid frame ({e}): {chunk:?}"));
            self.check_written(frame);
        }
    }

    fn check_written(&mut self, frame: ServerFrame) {
        assert!(
            !self.close_written,
            "{frame:?} written after the close frame"
        );
        match frame.opcode {
            CLOSE => {
                self.close_written = true;
                let code = frame
                    .close_code()
                    .unwrap_or_else(|e| panic!("bad close frame ({e}): {frame:?}"));
                let allowed = match code {
                    Some(code) => {
                        ALLOWED_CLOSE_CODES.contains(&code)
                            || self.peer_closes.contains(&Some(code))
                    }
                    None => self.peer_closes.contains(&None),
                };
                assert!(
                    allowed,
                    "close code {code:?} (peer sent {:?}): {:?}",
                    self.peer_closes,
                    String::from_utf8_lossy(&frame.payload)
                );
            }
            PONG => {}
            PING => panic!("the session does not ping"),
            opcode => match self.mode {
                Mode::Gateway(enc) => {
                    let want = if enc.is_text() { TEXT } else { BINARY };
                    assert_eq!(opcode, want, "{enc} data frame with opcode {opcode}");
                    if let Err(e) = codec::decode_server(&frame.payload, enc) {
                        panic!("the session wrote an envelope that does not decode: {e}");
                    }
                }
                Mode::Echo => {
                    let want = self.peer_messages.get(self.echoed);
                    let got = match opcode {
                        TEXT => WsEvent::Text(frame.payload.into()),
                        _ => WsEvent::Binary(frame.payload.into()),
                    };
                    assert_eq!(want, Some(&got), "echo #{} differs", self.echoed);
                    self.echoed += 1;
                }
            },
        }
    }
}

/// The typed event, or `None` for an envelope with a free-form name.
fn client_event(event: &EventKind) -> Option<ClientEvent> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Some(match event {
        EventKind::Identify(token) => ClientEvent::Identify(Identify {
            token: text(token),
            status: None,
            positions: None,
        }),
        EventKind::Ping => ClientEvent::Ping(Empty {}),
        EventKind::Typing(channel) => ClientEvent::StartTyping(ChannelRef {
            channel_id: ChannelId::new(u64::from(*channel)),
        }),
        EventKind::Send(content) => ClientEvent::SendMessage(SendMessage {
            channel_id: ChannelId::new(7),
            content: text(content),
            nonce: None,
            reply_to: None,
            attachment_ids: None,
        }),
        EventKind::Named(_) => return None,
    })
}

/// `{t: name, d: {}, id?}` in `enc`, written by hand (the codec only encodes known events).
fn named_envelope(event: &EventKind, id: Option<u32>, enc: Encoding, out: &mut Vec<u8>) {
    let EventKind::Named(name) = event else {
        return;
    };
    let name = String::from_utf8_lossy(name);
    match enc {
        Encoding::Json => {
            let mut map = serde_json_map(&name);
            if let Some(id) = id {
                map.push_str(&format!(",\"id\":{id}"));
            }
            map.push('}');
            out.extend_from_slice(map.as_bytes());
        }
        Encoding::MsgPack => {
            out.push(if id.is_some() { 0x83 } else { 0x82 });
            out.extend_from_slice(&[0xa1, b't']);
            let len = name.len().min(255);
            out.extend_from_slice(&[0xd9, len as u8]);
            out.extend_from_slice(&name.as_bytes()[..len]);
            out.extend_from_slice(&[0xa1, b'd', 0x80]);
            if let Some(id) = id {
                out.extend_from_slice(&[0xa2, b'i', b'd', 0xce]);
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

/// `{"t":"<name escaped>","d":{}` (the caller closes the brace).
fn serde_json_map(name: &str) -> String {
    let mut s = String::from("{\"t\":\"");
    for c in name.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push_str("\",\"d\":{}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(mode: u8, config: u8, ops: &[Op]) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(mode).u8(config);
        for op in ops {
            op.write(&mut w);
        }
        w.out
    }

    #[test]
    fn ops_round_trip() {
        let ops = [
            Op::Raw(vec![1, 2]),
            Op::Frame {
                first: 0x81,
                payload: b"x".to_vec(),
            },
            Op::Event {
                event: EventKind::Named(b"NOPE".to_vec()),
                id: Some(3),
                how: 0x24,
            },
            Op::Advance(500),
            Op::Timeout,
            Op::Ready,
            Op::IdentifyFailed,
            Op::Reply {
                kind: 2,
                id: None,
                text: b"no".to_vec(),
            },
            Op::Actions,
            Op::Transmit,
            Op::Close(1),
            Op::Fanout,
        ];
        let data = input(0, 0, &ops);
        let mut r = Reader::new(&data[2..]);
        for op in &ops {
            assert_eq!(&Op::read(&mut r), op);
        }
        assert!(r.is_empty());
    }

    #[test]
    fn identify_ready_and_requests() {
        for mode in [0, 1] {
            run(&input(
                mode,
                0,
                &[
                    Op::Event {
                        event: EventKind::Identify(b"token".to_vec()),
                        id: None,
                        how: 0,
                    },
                    Op::Actions,
                    Op::Ready,
                    Op::Event {
                        event: EventKind::Ping,
                        id: Some(1),
                        how: how::BYTE_BY_BYTE,
                    },
                    Op::Event {
                        event: EventKind::Send(b"hello".to_vec()),
                        id: Some(2),
                        how: 3 << how::FRAGMENTS_SHIFT | how::PING_BETWEEN,
                    },
                    Op::Reply {
                        kind: 0,
                        id: Some(2),
                        text: Vec::new(),
                    },
                    Op::Event {
                        event: EventKind::Named(b"NOPE".to_vec()),
                        id: Some(3),
                        how: 0,
                    },
                    Op::Fanout,
                    Op::Transmit,
                    Op::Close(0),
                ],
            ));
        }
    }

    #[test]
    fn timeouts_and_echo() {
        run(&input(
            0,
            1,
            &[Op::Timeout, Op::Advance(2_000), Op::Transmit],
        ));
        run(&input(
            2,
            1,
            &[
                Op::Frame {
                    first: 0x81,
                    payload: b"echo".to_vec(),
                },
                Op::Frame {
                    first: 0x02,
                    payload: vec![1],
                },
                Op::Timeout,
                Op::Transmit,
            ],
        ));
    }

    #[test]
    fn peer_close_is_echoed() {
        run(&input(
            0,
            0,
            &[
                Op::Frame {
                    first: 0x88,
                    payload: crate::wire::close_payload(3000, "custom"),
                },
                Op::Transmit,
            ],
        ));
    }
}
