//! The session state machine of PROTOCOL.md sections 4-8, sans-IO.
//!
//! A [`Session`] owns one connection's WebSocket state ([`WsConn`]), its heartbeat, its
//! frame rate limit and its identify state. The driver feeds it bytes
//! ([`Session::handle_read`]), the clock ([`Session::handle_timeout`]) and the results
//! of the work it asked for ([`Session::handle_ready`], [`Session::handle_reply`]);
//! it polls what to do ([`Session::poll_action`]), what to write
//! ([`Session::poll_transmit`]) and when to wake up ([`Session::poll_timeout`]).
//! Nothing here reads a clock, touches a socket or awaits: tests drive it with byte
//! slices and a fake clock.
//!
//! It is not the chat logic: permission checks, storage and fanout happen in the
//! driver's request handler (`crate::handler`) and the `service` crate.

use std::collections::VecDeque;

use bytes::Bytes;
use protocol::codec::{self, Encoding};
use protocol::events::client::{Empty, Identify};
use protocol::events::server::{Ack, ErrorData, Ready};
use protocol::events::{ClientEvent, ServerEvent};
use protocol::{CloseCode, UserId};

use crate::core::heartbeat::Heartbeat;
use crate::core::ratelimit::WindowLimiter;
use crate::core::ws::{WsConfig, WsConn, WsEvent};

/// Encode buffer capacity kept between events.
const SCRATCH_KEEP: usize = 16 * 1024;

thread_local! {
    /// The buffer replies and READY are encoded into before they are framed: one per
    /// thread (a shard's sessions share it), not one per connection.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's encode buffer, empty; a buffer grown past
/// [`SCRATCH_KEEP`] (a large READY or page of history) is not kept.
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut buf = cell.take();
        buf.clear();
        let result = f(&mut buf);
        if buf.capacity() <= SCRATCH_KEEP {
            cell.replace(buf);
        }
        result
    })
}

/// Session limits and timers; defaults are the contract's.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Announced in READY; silence for 1.5 of it closes with 4009.
    pub heartbeat_interval_ms: u64,
    /// Time allowed before IDENTIFY (4003 after it).
    pub identify_timeout_ms: u64,
    /// Data frames (PING not counted) allowed per window (4008 over it).
    pub frames_per_window: u32,
    /// The window of `frames_per_window`.
    pub frame_window_ms: u64,
    /// WebSocket limits (inbound message cap, fragments).
    pub ws: WsConfig,
    /// How long a message may stay incomplete (fragments or payload trickling in)
    /// before the connection is closed with 1008.
    pub partial_message_timeout_ms: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval_ms: protocol::limits::HEARTBEAT_INTERVAL_MS,
            identify_timeout_ms: protocol::limits::IDENTIFY_TIMEOUT_MS,
            frames_per_window: protocol::limits::FRAMES_PER_WINDOW,
            frame_window_ms: protocol::limits::FRAME_WINDOW_MS,
            ws: WsConfig::default(),
            partial_message_timeout_ms: 30_000,
        }
    }
}

/// What the session speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/gateway`: the Layer4 protocol in this encoding.
    Gateway(Encoding),
    /// `/echo`: every message sent back unchanged (conformance testing only).
    Echo,
}

/// Work the session asks the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Check the token, load the user's state, then call [`Session::handle_ready`] or
    /// [`Session::handle_identify_failed`].
    Identify(Identify),
    /// Run a request of an identified user, then call [`Session::handle_reply`] with
    /// the same `id`.
    Request {
        /// The request id to echo.
        id: Option<u32>,
        /// The request.
        event: ClientEvent,
    },
    /// The connection is closing: stop delivering events to it.
    Closing,
}

/// The result of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Success: `ACK` with this data, sent only when the request had an id.
    Ack(Box<Ack>),
    /// Success: `ACK` with this data, which is also the `d` of `event`, the MessagePack
    /// envelope of the channel event the request published: a MessagePack session
    /// sends those bytes again rather than encoding the message a second time.
    AckFrom {
        /// The data, for a JSON session (or should `event` not be an envelope).
        ack: Box<Ack>,
        /// The published event, encoded.
        event: Bytes,
    },
    /// Success with its own event (`MESSAGES_LOADED`), always sent.
    Event(ServerEvent),
    /// Failure: `ERROR`, always sent.
    Error(ErrorData),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingIdentify { deadline: u64 },
    Identifying,
    Ready { user: UserId },
    Closed,
}

/// One client connection's protocol state.
#[derive(Debug)]
pub struct Session {
    mode: Mode,
    state: State,
    ws: WsConn,
    heartbeat: Heartbeat,
    frames: WindowLimiter,
    actions: VecDeque<Action>,
    /// The `id` of the IDENTIFY being answered: READY carries it (PROTOCOL.md section 2).
    identify_id: Option<u32>,
    partial_timeout_ms: u64,
    /// When the current incomplete message started arriving.
    partial_since: Option<u64>,
    /// The code of the close we sent, if we closed.
    closed_with: Option<CloseCode>,
}

impl Session {
    /// A new session whose upgrade completed at `now`.
    pub fn new(mode: Mode, config: &SessionConfig, now: u64) -> Self {
        Self {
            mode,
            state: State::AwaitingIdentify {
                deadline: now.saturating_add(config.identify_timeout_ms),
            },
            ws: WsConn::new(config.ws.clone()),
            heartbeat: Heartbeat::new(config.heartbeat_interval_ms, now),
            frames: WindowLimiter::new(config.frames_per_window, config.frame_window_ms, now),
            actions: VecDeque::new(),
            identify_id: None,
            partial_timeout_ms: config.partial_message_timeout_ms,
            partial_since: None,
            closed_with: None,
        }
    }

    /// The encoding of server frames, `None` for the echo endpoint.
    pub fn encoding(&self) -> Option<Encoding> {
        match self.mode {
            Mode::Gateway(enc) => Some(enc),
            Mode::Echo => None,
        }
    }

    /// The identified user.
    pub fn user(&self) -> Option<UserId> {
        match self.state {
            State::Ready { user } => Some(user),
            _ => None,
        }
    }

    /// Bytes arrived from the socket at `now`.
    pub fn handle_read(&mut self, data: &[u8], now: u64) {
        // Always fed to the codec, even after our close: the peer's answering close
        // frame is what ends the handshake (`should_close_socket`).
        self.ws.handle_read(data);
        let frames_before = self.ws.frames_received();
        while let Some(event) = self.ws.poll_event() {
            if self.state == State::Closed {
                // Keep draining the codec, but act on nothing after a close.
                continue;
            }
            self.heartbeat.on_frame(now);
            match event {
                WsEvent::Text(payload) if self.mode == Mode::Echo => {
                    self.ws.send_text(&payload);
                }
                WsEvent::Binary(payload) if self.mode == Mode::Echo => {
                    self.ws.send_binary(&payload);
                }
                WsEvent::Text(payload) | WsEvent::Binary(payload) => self.on_message(&payload, now),
                WsEvent::Ping | WsEvent::Pong => {}
                WsEvent::Close { .. } | WsEvent::ProtocolError { .. } => self.enter_closed(),
            }
        }
        if self.ws.frames_received() != frames_before && self.state != State::Closed {
            // Every frame is activity, fragments of a message still arriving included.
            self.heartbeat.on_frame(now);
        }
        self.partial_since = match self.partial_since {
            _ if !self.ws.has_partial_input() => None,
            Some(since) => Some(since),
            None => Some(now),
        };
    }

    /// The clock reached `now` (call at [`Session::poll_timeout`] or later).
    pub fn handle_timeout(&mut self, now: u64) {
        if self
            .partial_deadline()
            .is_some_and(|deadline| now >= deadline)
        {
            self.partial_since = None;
            return self.close(CloseCode::PolicyViolation);
        }
        if self.mode == Mode::Echo {
            return;
        }
        match self.state {
            State::AwaitingIdentify { deadline } if now >= deadline => {
                self.close(CloseCode::NotIdentified)
            }
            State::Identifying | State::Ready { .. } if self.heartbeat.expired(now) => {
                self.close(CloseCode::HeartbeatTimeout)
            }
            _ => {}
        }
    }

    /// When to call [`Session::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let state = match self.state {
            State::AwaitingIdentify { deadline } if self.mode != Mode::Echo => Some(deadline),
            State::Identifying | State::Ready { .. } if self.mode != Mode::Echo => {
                Some(self.heartbeat.deadline())
            }
            _ => None,
        };
        state.into_iter().chain(self.partial_deadline()).min()
    }

    fn partial_deadline(&self) -> Option<u64> {
        self.partial_since
            .filter(|_| self.state != State::Closed)
            .map(|since| since.saturating_add(self.partial_timeout_ms))
    }

    /// The next piece of work for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// IDENTIFY succeeded: sends READY (the driver queues the replay after it).
    pub fn handle_ready(&mut self, user: UserId, ready: Ready) {
        if self.state != State::Identifying {
            return;
        }
        self.state = State::Ready { user };
        let id = self.identify_id.take();
        self.send_event(&ServerEvent::Ready(Box::new(ready)), id);
    }

    /// IDENTIFY failed (bad or expired token, unknown user): close 4004.
    pub fn handle_identify_failed(&mut self) {
        if self.state == State::Identifying {
            self.close(CloseCode::AuthenticationFailed);
        }
    }

    /// A request finished.
    pub fn handle_reply(&mut self, id: Option<u32>, reply: Reply) {
        if self.state == State::Closed {
            return;
        }
        match reply {
            Reply::Ack(ack) => {
                if id.is_some() {
                    self.send_event(&ServerEvent::Ack(ack), id);
                }
            }
            Reply::AckFrom { ack, event } => {
                if id.is_none() {
                    return;
                }
                let sent = self.encoding() == Some(Encoding::MsgPack)
                    && with_scratch(|buf| {
                        let encoded = codec::encode_msgpack_reply("ACK", &event, id, buf);
                        if encoded {
                            self.ws.send_binary(buf);
                        }
                        encoded
                    });
                if !sent {
                    self.send_event(&ServerEvent::Ack(ack), id);
                }
            }
            Reply::Event(event) => self.send_event(&event, id),
            Reply::Error(error) => self.send_event(&ServerEvent::Error(error), id),
        }
    }

    /// Queues an already-framed event from fanout (the same bytes every recipient
    /// gets). Ignored once the connection is closing.
    pub fn handle_frame(&mut self, frame: Bytes) {
        if matches!(self.state, State::Ready { .. }) && !self.ws.is_closing() {
            self.ws.send_frame(frame);
        }
    }

    /// Closes with `code` (drain: 1001; slow consumer: 4010; protocol faults).
    pub fn close(&mut self, code: CloseCode) {
        if self.state == State::Closed && self.ws.is_closing() {
            return;
        }
        self.ws.close(code.code(), code.reason());
        self.closed_with.get_or_insert(code);
        self.enter_closed();
    }

    /// The next chunk of bytes to write.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.ws.poll_transmit()
    }

    /// Bytes queued and not yet written.
    pub fn queued_bytes(&self) -> usize {
        self.ws.queued_bytes()
    }

    /// Fills `out` with queued bytes for one vectored write; see
    /// [`WsConn::transmit_slices`].
    pub fn transmit_slices<'a>(&'a self, out: &mut [std::io::IoSlice<'a>]) -> usize {
        self.ws.transmit_slices(out)
    }

    /// `written` queued bytes reached the socket.
    pub fn advance_transmit(&mut self, written: usize) {
        self.ws.advance_transmit(written);
    }

    /// Gives back the memory of empty queues and buffers; the shard calls it on idle
    /// connections now and then.
    pub fn shrink(&mut self) {
        self.ws.shrink();
        if self.actions.is_empty() {
            self.actions = VecDeque::new();
        }
    }

    /// A channel event no longer fits this connection's queue: drop what is queued and
    /// close with 4010, so the close frame goes out first and the memory is freed.
    pub fn close_slow_consumer(&mut self) {
        if !self.ws.close_sent() {
            self.ws.discard_queued();
        }
        self.close(CloseCode::SlowConsumer);
    }

    /// Whether the close handshake is over (or cannot happen): flush, read out what the
    /// client already sent, and close the socket.
    pub fn should_close_socket(&self) -> bool {
        self.ws.should_close_socket()
    }

    /// The close code the session itself chose (not a close answered for the peer, nor
    /// a WebSocket protocol error, which the codec closes with 1002/1007/1009).
    pub fn closed_with(&self) -> Option<CloseCode> {
        self.closed_with
    }

    /// Whether a close frame has been queued or received.
    pub fn is_closing(&self) -> bool {
        self.state == State::Closed || self.ws.is_closing()
    }

    fn enter_closed(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.actions.clear();
            self.actions.push_back(Action::Closing);
        }
    }

    fn on_message(&mut self, payload: &[u8], now: u64) {
        let Mode::Gateway(encoding) = self.mode else {
            return;
        };
        let frame = match codec::decode_client(payload, encoding) {
            Ok(frame) => frame,
            // The protocol crate decides what each decode error costs: a close code,
            // or an ERROR that leaves the connection open.
            Err(err) => {
                if let Some(code) = err.close_code() {
                    return self.close(code);
                }
                if !self.identified_or_identifying() && !err.is_identify() {
                    return self.close(CloseCode::NotIdentified);
                }
                if !self.count_frame(now) {
                    return;
                }
                if let Some(error) = err.error_data() {
                    self.send_event(&ServerEvent::Error(error), err.request_id());
                }
                return;
            }
        };
        let is_ping = matches!(frame.event, ClientEvent::Ping(_));
        if !is_ping && !self.count_frame(now) {
            return;
        }
        match (self.state, frame.event) {
            (State::AwaitingIdentify { .. }, ClientEvent::Identify(identify)) => {
                self.state = State::Identifying;
                self.identify_id = frame.id;
                self.actions.push_back(Action::Identify(identify));
            }
            (State::AwaitingIdentify { .. }, _) => self.close(CloseCode::NotIdentified),
            (State::Identifying | State::Ready { .. }, ClientEvent::Identify(_)) => {
                self.close(CloseCode::AlreadyIdentified)
            }
            (State::Identifying | State::Ready { .. }, ClientEvent::Ping(_)) => {
                self.send_event(&ServerEvent::Pong(Empty {}), frame.id)
            }
            (State::Identifying | State::Ready { .. }, event) => {
                // Requests that arrive while IDENTIFY is being checked wait in order.
                self.actions.push_back(Action::Request {
                    id: frame.id,
                    event,
                })
            }
            (State::Closed, _) => {}
        }
    }

    /// Counts a data frame; closes with 4008 and returns false over the limit.
    fn count_frame(&mut self, now: u64) -> bool {
        if self.frames.allow(now) {
            return true;
        }
        self.close(CloseCode::RateLimited);
        false
    }

    fn identified_or_identifying(&self) -> bool {
        matches!(self.state, State::Identifying | State::Ready { .. })
    }

    fn send_event(&mut self, event: &ServerEvent, id: Option<u32>) {
        let Mode::Gateway(encoding) = self.mode else {
            return;
        };
        with_scratch(|buf| {
            codec::encode_server(event, id, None, encoding, buf);
            match encoding {
                Encoding::MsgPack => self.ws.send_binary(buf),
                Encoding::Json => self.ws.send_text(buf),
            };
        });
    }
}

#[cfg(test)]
mod tests {
    use protocol::events::client::SendMessage;
    use protocol::{ChannelId, ErrorCode, User};

    use super::*;

    const TEXT: u8 = 0x1;
    const BINARY: u8 = 0x2;
    const CLOSE: u8 = 0x8;

    /// A masked client frame, as a browser would send it.
    fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= 0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn event_frame(event: ClientEvent, id: Option<u32>) -> Vec<u8> {
        let mut payload = Vec::new();
        codec::encode_client(
            &protocol::events::Frame { event, id, s: None },
            Encoding::MsgPack,
            &mut payload,
        );
        client_frame(BINARY, &payload)
    }

    fn identify() -> Vec<u8> {
        event_frame(
            ClientEvent::Identify(Identify {
                token: "t".into(),
                status: None,
                positions: None,
            }),
            None,
        )
    }

    fn ping(id: Option<u32>) -> Vec<u8> {
        event_frame(ClientEvent::Ping(Empty {}), id)
    }

    fn typing(id: Option<u32>) -> Vec<u8> {
        event_frame(
            ClientEvent::StartTyping(protocol::events::client::ChannelRef {
                channel_id: ChannelId::new(9),
            }),
            id,
        )
    }

    /// Every unmasked server frame written so far: (opcode, payload).
    fn written(session: &mut Session) -> Vec<(u8, Vec<u8>)> {
        let mut bytes = Vec::new();
        while let Some(chunk) = session.poll_transmit() {
            bytes.extend_from_slice(&chunk);
        }
        let mut frames = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 2 {
            let opcode = rest[0] & 0x0f;
            let (len, header) = match rest[1] & 0x7f {
                126 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
                127 => (
                    u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (n as usize, 2),
            };
            frames.push((opcode, rest[header..header + len].to_vec()));
            rest = &rest[header + len..];
        }
        frames
    }

    fn events(session: &mut Session) -> Vec<protocol::events::Frame<ServerEvent>> {
        written(session)
            .into_iter()
            .filter(|(op, _)| *op == BINARY)
            .map(|(_, p)| codec::decode_server(&p, Encoding::MsgPack).unwrap())
            .collect()
    }

    fn close_code(session: &mut Session) -> Option<u16> {
        written(session)
            .into_iter()
            .find(|(op, _)| *op == CLOSE)
            .map(|(_, p)| u16::from_be_bytes([p[0], p[1]]))
    }

    fn gateway() -> Session {
        Session::new(
            Mode::Gateway(Encoding::MsgPack),
            &SessionConfig::default(),
            0,
        )
    }

    fn user() -> User {
        User {
            id: UserId::new(42),
            username: "ann".into(),
            display_name: "Ann".into(),
            status: None,
        }
    }

    fn ready() -> Ready {
        Ready {
            session_id: "1".into(),
            user: user(),
            channels: vec![],
            blocked_user_ids: vec![],
            heartbeat_interval_ms: 30_000,
            resync: vec![],
        }
    }

    fn identified() -> Session {
        let mut s = gateway();
        s.handle_read(&identify(), 1);
        assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
        s.handle_ready(UserId::new(42), ready());
        let sent = events(&mut s);
        assert!(matches!(sent[0].event, ServerEvent::Ready(_)));
        s
    }

    #[test]
    fn ready_carries_the_id_of_its_identify() {
        let mut s = gateway();
        let identify = ClientEvent::Identify(Identify {
            token: "t".into(),
            status: None,
            positions: None,
        });
        s.handle_read(&event_frame(identify, Some(77)), 1);
        assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
        s.handle_ready(UserId::new(42), ready());
        let sent = events(&mut s);
        assert!(matches!(sent[0].event, ServerEvent::Ready(_)));
        assert_eq!(sent[0].id, Some(77));
    }

    #[test]
    fn a_slow_consumer_close_drops_the_queue_and_sends_4010_first() {
        let mut s = identified();
        for _ in 0..3 {
            s.handle_frame(Bytes::from_static(&[0x82, 0x01, 0x00]));
        }
        s.close_slow_consumer();
        assert_eq!(s.queued_bytes(), 2 + 2 + "slow consumer".len().min(123));
        assert_eq!(close_code(&mut s), Some(4010));
    }

    #[test]
    fn identify_then_ready() {
        let s = identified();
        assert_eq!(s.user(), Some(UserId::new(42)));
        assert!(!s.is_closing());
    }

    #[test]
    fn identify_split_into_single_bytes_works_the_same() {
        let mut s = gateway();
        for byte in identify() {
            s.handle_read(&[byte], 1);
        }
        assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
    }

    #[test]
    fn a_request_before_identify_closes_4003() {
        let mut s = gateway();
        s.handle_read(&typing(Some(1)), 1);
        assert_eq!(close_code(&mut s), Some(4003));
        assert_eq!(s.poll_action(), Some(Action::Closing));
    }

    #[test]
    fn no_identify_in_time_closes_4003() {
        let mut s = gateway();
        assert_eq!(s.poll_timeout(), Some(10_000));
        s.handle_timeout(9_999);
        assert!(!s.is_closing());
        s.handle_timeout(10_000);
        assert_eq!(close_code(&mut s), Some(4003));
    }

    #[test]
    fn a_second_identify_closes_4005() {
        let mut s = identified();
        s.handle_read(&identify(), 2);
        assert_eq!(close_code(&mut s), Some(4005));
    }

    #[test]
    fn a_failed_identify_closes_4004() {
        let mut s = gateway();
        s.handle_read(&identify(), 1);
        s.poll_action();
        s.handle_identify_failed();
        assert_eq!(close_code(&mut s), Some(4004));
    }

    #[test]
    fn malformed_messagepack_closes_4002() {
        let mut s = identified();
        s.handle_read(&client_frame(BINARY, &[0xc1]), 2);
        assert_eq!(close_code(&mut s), Some(4002));
    }

    #[test]
    fn unknown_event_is_an_error_with_the_request_id() {
        let mut s = identified();
        // {"t": "NOPE", "d": {}, "id": 7}
        let payload = [
            0x83, 0xa1, b't', 0xa4, b'N', b'O', b'P', b'E', 0xa1, b'd', 0x80, 0xa2, b'i', b'd',
            0x07,
        ];
        s.handle_read(&client_frame(BINARY, &payload), 2);
        let sent = events(&mut s);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].id, Some(7));
        match &sent[0].event {
            ServerEvent::Error(e) => assert_eq!(e.code, ErrorCode::BadRequest),
            other => panic!("{other:?}"),
        }
        assert!(!s.is_closing());
    }

    #[test]
    fn ping_gets_pong_with_its_id_and_resets_the_heartbeat() {
        let mut s = identified();
        assert_eq!(s.poll_timeout(), Some(45_001));
        s.handle_read(&ping(Some(3)), 40_000);
        let sent = events(&mut s);
        assert_eq!(sent[0].id, Some(3));
        assert!(matches!(sent[0].event, ServerEvent::Pong(_)));
        s.handle_timeout(45_001);
        assert!(!s.is_closing());
        assert_eq!(s.poll_timeout(), Some(85_000));
        s.handle_timeout(85_000);
        assert_eq!(close_code(&mut s), Some(4009));
    }

    #[test]
    fn data_frames_over_the_limit_close_4008_but_pings_do_not_count() {
        let config = SessionConfig {
            frames_per_window: 3,
            ..Default::default()
        };
        let mut s = Session::new(Mode::Gateway(Encoding::MsgPack), &config, 0);
        s.handle_read(&identify(), 1);
        s.poll_action();
        s.handle_ready(UserId::new(42), ready());
        for _ in 0..10 {
            s.handle_read(&ping(None), 2);
        }
        s.handle_read(&typing(None), 3);
        s.handle_read(&typing(None), 3);
        assert!(!s.is_closing(), "identify + 2 requests = 3 frames");
        s.handle_read(&typing(None), 3);
        assert_eq!(close_code(&mut s), Some(4008));
    }

    #[test]
    fn requests_during_identify_wait_and_run_in_order() {
        let mut s = gateway();
        s.handle_read(&identify(), 1);
        s.handle_read(&typing(Some(1)), 1);
        s.handle_read(&typing(Some(2)), 1);
        assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
        s.handle_ready(UserId::new(42), ready());
        for want in [1, 2] {
            match s.poll_action() {
                Some(Action::Request { id, .. }) => assert_eq!(id, Some(want)),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_ack_from_the_published_event_is_the_ack_encoded_anew() {
        let message = protocol::Message {
            id: protocol::MessageId::new(77),
            channel_id: ChannelId::new(1),
            author: user(),
            content: "hi".into(),
            created_at: 5,
            edited_at: None,
            reply_to: None,
            attachments: vec![],
            reactions: vec![],
            nonce: None,
        };
        let mut event = Vec::new();
        codec::encode_server(
            &ServerEvent::MessageReceived(Box::new(protocol::events::server::MessageData {
                message: message.clone(),
            })),
            None,
            Some(9),
            Encoding::MsgPack,
            &mut event,
        );
        let ack = Box::new(Ack {
            message: Some(message),
            channel: None,
        });
        let mut fresh = identified();
        fresh.handle_reply(Some(4), Reply::Ack(ack.clone()));
        let mut reused = identified();
        let event = Bytes::from(event);
        reused.handle_reply(
            Some(4),
            Reply::AckFrom {
                ack: ack.clone(),
                event: event.clone(),
            },
        );
        assert_eq!(written(&mut reused), written(&mut fresh));
        reused.handle_reply(None, Reply::AckFrom { ack, event });
        assert!(written(&mut reused).is_empty(), "no id, no ACK");
    }

    #[test]
    fn acks_only_with_an_id_errors_always() {
        let mut s = identified();
        s.handle_reply(None, Reply::Ack(Box::default()));
        assert!(events(&mut s).is_empty());
        s.handle_reply(Some(5), Reply::Ack(Box::default()));
        s.handle_reply(
            None,
            Reply::Error(ErrorData {
                code: ErrorCode::NotFound,
                message: "channel".into(),
                retry_after_ms: None,
            }),
        );
        let sent = events(&mut s);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].id, Some(5));
        assert_eq!(sent[1].id, None);
    }

    #[test]
    fn a_send_message_reaches_the_driver_as_a_request() {
        let mut s = identified();
        let send = ClientEvent::SendMessage(SendMessage {
            channel_id: ChannelId::new(1),
            content: "hi".into(),
            nonce: None,
            reply_to: None,
            attachment_ids: None,
        });
        s.handle_read(&event_frame(send.clone(), Some(9)), 2);
        assert_eq!(
            s.poll_action(),
            Some(Action::Request {
                id: Some(9),
                event: send
            })
        );
    }

    #[test]
    fn fanout_frames_stop_after_close() {
        let mut s = identified();
        s.handle_frame(Bytes::from_static(&[0x82, 0x01, 0x00]));
        assert_eq!(written(&mut s), vec![(BINARY, vec![0])]);
        s.close(CloseCode::GoingAway);
        s.handle_frame(Bytes::from_static(&[0x82, 0x01, 0x00]));
        assert_eq!(
            written(&mut s),
            vec![(CLOSE, {
                let mut p = 1001u16.to_be_bytes().to_vec();
                p.extend_from_slice(b"server going away");
                p
            })]
        );
    }

    #[test]
    fn echo_mode_sends_messages_back_unchanged() {
        let mut s = Session::new(Mode::Echo, &SessionConfig::default(), 0);
        s.handle_read(&client_frame(TEXT, b"hello"), 1);
        s.handle_read(&client_frame(BINARY, &[1, 2, 3]), 1);
        assert_eq!(
            written(&mut s),
            vec![(TEXT, b"hello".to_vec()), (BINARY, vec![1, 2, 3])]
        );
        assert_eq!(s.poll_timeout(), None, "no identify timer on /echo");
    }

    #[test]
    fn a_message_left_incomplete_closes_1008() {
        let mut s = identified();
        // The first fragment of a text message (FIN clear), then nothing.
        let mut first = client_frame(TEXT, b"{\"t\":");
        first[0] &= 0x7f;
        s.handle_read(&first, 1_000);
        assert_eq!(s.poll_timeout(), Some(31_000));
        s.handle_timeout(30_999);
        assert!(!s.is_closing());
        s.handle_timeout(31_000);
        assert_eq!(close_code(&mut s), Some(1008));
    }

    #[test]
    fn a_trickled_frame_that_completes_clears_the_partial_timer() {
        let mut s = identified();
        let frame = ping(None);
        s.handle_read(&frame[..3], 1_000);
        assert_eq!(s.poll_timeout(), Some(31_000));
        s.handle_read(&frame[3..], 2_000);
        assert_eq!(s.poll_timeout(), Some(2_000 + 45_000));
    }

    #[test]
    fn an_oversized_message_closes_1009() {
        let mut s = identified();
        s.handle_read(&client_frame(BINARY, &vec![0; 70 * 1024]), 2);
        assert_eq!(close_code(&mut s), Some(1009));
    }
}
