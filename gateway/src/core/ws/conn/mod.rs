//! [`WsConn`]: one WebSocket connection after the handshake, as a state machine.
//!
//! The driver calls [`WsConn::handle_read`] with whatever the socket produced, then takes
//! [`WsConn::poll_event`] (which decodes) until `None`, and writes what [`WsConn::poll_transmit`] (or
//! [`WsConn::drain_into`]) hands back. The session layer queues messages with
//! `send_*` and ends the connection with [`WsConn::close`]. No IO, no clock: heartbeat
//! timing is the caller's, fed by the event per received frame.
//!
//! Payload bytes are streamed: a frame is unmasked and (for text) validated as its bytes
//! arrive, so memory is bounded by the message limit and invalid UTF-8 fails fast. A
//! message that arrives whole in one read is handed out without copying its payload.
//!
//! Closing follows RFC 6455 section 7: a peer's close is answered once with the same
//! code; a protocol violation queues our close with its code and ignores all further
//! input. [`WsConn::should_close_socket`] tells the driver when to flush and drop TCP.

mod config;
mod message;
mod outbox;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

pub use config::WsConfig;
use message::{Kind, Message};
use outbox::Outbox;

use super::close::{is_valid_close_code, parse_close_payload, put_close_payload};
use super::frame::{self, decode_header, FrameHeader, Opcode, MAX_CONTROL_PAYLOAD};
use super::mask::apply_mask;
use super::utf8::Utf8Validator;

/// Something the peer did, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// A complete text message; the payload is valid UTF-8.
    Text(Bytes),
    /// A complete binary message.
    Binary(Bytes),
    /// A ping arrived; the pong is already queued.
    Ping,
    /// A pong arrived (activity, nothing to answer).
    Pong,
    /// The peer started or answered the close handshake. Our answering close is already
    /// queued when we had not sent one.
    Close {
        /// The status code, `None` when the close frame had no payload.
        code: Option<u16>,
        /// The reason text (may be empty).
        reason: String,
    },
    /// The peer broke the protocol (or a limit); our close frame with `code` is queued
    /// and all further input is ignored.
    ProtocolError {
        /// The close code sent: 1002 protocol error, 1007 invalid UTF-8, 1009 too big.
        code: u16,
        /// Why, for logs.
        reason: &'static str,
    },
}

/// A frame whose header has been read and whose payload is still arriving.
#[derive(Debug, Clone, Copy)]
struct InFrame {
    header: FrameHeader,
    /// Payload bytes still to come.
    remaining: usize,
    /// Payload bytes already unmasked (the offset into the mask stream).
    done: usize,
}

/// The server side of one WebSocket connection.
#[derive(Debug)]
pub struct WsConn {
    /// `WsConfig`'s limits, as `u32` (saturated): 8 bytes per connection, not 16.
    max_message_bytes: u32,
    max_fragments: u32,
    /// Received bytes not decoded yet: what the last read brought, until `poll_event`
    /// consumes it (data payloads stream out of it; a header or a control frame waits
    /// here until complete).
    input: BytesMut,
    frame: Option<InFrame>,
    /// Boxed: only a message arriving in pieces has one, and idle connections are many.
    message: Option<Box<Message>>,
    events: VecDeque<WsEvent>,
    outbox: Outbox,
    close_sent: bool,
    close_received: bool,
    failed: bool,
    frames_received: u64,
}

impl WsConn {
    /// A connection that has just completed the opening handshake.
    pub fn new(config: WsConfig) -> Self {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            max_message_bytes: narrow(config.max_message_bytes),
            max_fragments: narrow(config.max_fragments),
            input: BytesMut::new(),
            frame: None,
            message: None,
            events: VecDeque::new(),
            outbox: Outbox::default(),
            close_sent: false,
            close_received: false,
            failed: false,
            frames_received: 0,
        }
    }

    /// The limits this connection enforces.
    pub fn config(&self) -> WsConfig {
        WsConfig {
            max_message_bytes: self.max_message_bytes as usize,
            max_fragments: self.max_fragments as usize,
        }
    }

    // ---- input ------------------------------------------------------------------------

    /// Feeds bytes read from the socket. They are decoded lazily, by
    /// [`poll_event`](Self::poll_event); call it until `None` after every read. Ignored
    /// once the peer's close arrived or after a protocol error.
    pub fn handle_read(&mut self, data: &[u8]) {
        if !self.input_done() {
            self.input.extend_from_slice(data);
        }
    }

    /// The next event, decoding buffered input as far as needed for it.
    ///
    /// Decoding one event at a time keeps cause and effect in order: the caller's answer
    /// to a message (an echo, a reply) is queued before a protocol error found in later
    /// bytes of the same read queues the close frame.
    pub fn poll_event(&mut self) -> Option<WsEvent> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.input_done() {
                // Drop what is left: nothing more will be decoded.
                self.input = BytesMut::new();
                self.frame = None;
                self.message = None;
                return None;
            }
            if !self.step() && self.events.is_empty() {
                if self.input.is_empty() && self.input.capacity() > 0 {
                    // Idle connections hold no read buffer (DESIGN.md idea 6).
                    self.input = BytesMut::new();
                }
                return None;
            }
        }
    }

    /// Complete frames received so far (data and control). A caller that wants every
    /// frame to count as activity, including fragments of a message not yet complete,
    /// compares this across reads.
    pub fn frames_received(&self) -> u64 {
        self.frames_received
    }

    /// Whether a message is incomplete: a fragmented message missing its final frame,
    /// a frame missing part of its payload, or a partial frame header. The caller
    /// bounds how long this may last (a trickling client holds buffers).
    pub fn has_partial_input(&self) -> bool {
        !self.input_done()
            && (self.message.is_some() || self.frame.is_some() || !self.input.is_empty())
    }

    fn input_done(&self) -> bool {
        self.failed || self.close_received
    }

    /// Makes one unit of progress; `false` when more bytes are needed (or input ended).
    fn step(&mut self) -> bool {
        let Some(mut frame) = self.frame else {
            return self.read_header();
        };
        if frame.header.opcode.is_control() {
            if self.input.len() < frame.remaining {
                return false;
            }
            let mut payload = self.input.split_to(frame.remaining);
            apply_mask(&mut payload, frame.header.mask, 0);
            self.frame = None;
            self.frames_received += 1;
            self.on_control(frame.header.opcode, &payload);
            return true;
        }
        let n = frame.remaining.min(self.input.len());
        if n == 0 && frame.remaining > 0 {
            return false;
        }
        let mut chunk = self.input.split_to(n);
        apply_mask(&mut chunk, frame.header.mask, frame.done);
        frame.remaining -= n;
        frame.done += n;
        let Some(message) = self.message.as_mut() else {
            // Unreachable: a data frame is only read with its message started.
            self.fail(1011, "internal error: data frame without a message");
            return false;
        };
        if message.extend(&chunk).is_err() {
            self.fail(1007, "invalid UTF-8 in text message");
            return false;
        }
        if frame.remaining > 0 {
            self.frame = Some(frame);
            return true;
        }
        self.frame = None;
        self.frames_received += 1;
        if frame.header.fin {
            if let Some(message) = self.message.take() {
                self.finish_message(*message);
            }
        }
        true
    }

    /// Reads the next frame header and applies the per-frame rules.
    fn read_header(&mut self) -> bool {
        let header = match decode_header(&self.input) {
            Ok(Some(header)) => header,
            Ok(None) => return false,
            Err(e) => {
                self.fail(e.close_code(), e.reason());
                return false;
            }
        };
        self.input.advance(header.header_len);
        // The top bit of a 64-bit length is rejected, so on 64-bit targets this always
        // fits; on 32-bit ones a length past usize is over any limit anyway.
        let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        let max = self.max_message_bytes as usize;
        match header.opcode {
            Opcode::Close | Opcode::Ping | Opcode::Pong => {}
            Opcode::Text | Opcode::Binary => {
                if self.message.is_some() {
                    self.fail(1002, "new message before the previous one ended");
                    return false;
                }
                if len > max {
                    self.fail(1009, "message too big");
                    return false;
                }
                let kind = if header.opcode == Opcode::Text {
                    Kind::Text
                } else {
                    Kind::Binary
                };
                if header.fin && self.input.len() >= len {
                    // The whole message is here: hand it out without copying.
                    self.frames_received += 1;
                    let mut payload = self.input.split_to(len);
                    apply_mask(&mut payload, header.mask, 0);
                    self.single_frame_message(kind, payload);
                    return true;
                }
                self.message = Some(Box::new(Message::new(kind, len)));
            }
            Opcode::Continuation => {
                let Some(message) = self.message.as_mut() else {
                    self.fail(1002, "continuation frame without a message");
                    return false;
                };
                let (frames, size) = message.add_frame(len);
                if size > max {
                    self.fail(1009, "message too big");
                    return false;
                }
                if frames > self.max_fragments as usize {
                    self.fail(1009, "message has too many fragments");
                    return false;
                }
            }
        }
        self.frame = Some(InFrame {
            header,
            remaining: len,
            done: 0,
        });
        true
    }

    fn single_frame_message(&mut self, kind: Kind, payload: BytesMut) {
        match kind {
            Kind::Binary => self.events.push_back(WsEvent::Binary(payload.freeze())),
            Kind::Text => {
                let mut utf8 = Utf8Validator::new();
                if utf8.feed(&payload).and_then(|()| utf8.finish()).is_err() {
                    self.fail(1007, "invalid UTF-8 in text message");
                } else {
                    self.events.push_back(WsEvent::Text(payload.freeze()));
                }
            }
        }
    }

    fn finish_message(&mut self, message: Message) {
        match message.finish() {
            Ok((Kind::Text, payload)) => self.events.push_back(WsEvent::Text(payload)),
            Ok((Kind::Binary, payload)) => self.events.push_back(WsEvent::Binary(payload)),
            Err(_) => self.fail(1007, "invalid UTF-8 in text message"),
        }
    }

    fn on_control(&mut self, opcode: Opcode, payload: &[u8]) {
        match opcode {
            Opcode::Ping => {
                self.events.push_back(WsEvent::Ping);
                if !self.close_sent {
                    self.outbox.push(frame::frame(Opcode::Pong, payload));
                }
            }
            Opcode::Pong => self.events.push_back(WsEvent::Pong),
            Opcode::Close => match parse_close_payload(payload) {
                Ok((code, reason)) => {
                    self.close_received = true;
                    if !self.close_sent {
                        // Echo the status code (RFC 6455 5.5.1); no code when none came.
                        let echo = code.map(u16::to_be_bytes);
                        let echo = echo.as_ref().map_or(&[][..], |c| &c[..]);
                        self.outbox.push(frame::frame(Opcode::Close, echo));
                        self.close_sent = true;
                    }
                    self.events.push_back(WsEvent::Close { code, reason });
                }
                Err(bad) => self.fail(bad.code, bad.reason),
            },
            // Data opcodes never reach here (`is_control` was checked).
            Opcode::Continuation | Opcode::Text | Opcode::Binary => {}
        }
    }

    /// Fails the connection: reports why, queues our close (unless one was sent), and
    /// stops reading.
    fn fail(&mut self, code: u16, reason: &'static str) {
        if self.input_done() {
            return;
        }
        self.failed = true;
        self.events
            .push_back(WsEvent::ProtocolError { code, reason });
        if !self.close_sent {
            self.queue_close(code, reason);
        }
    }

    // ---- output -----------------------------------------------------------------------

    /// Queues a text message. `text` must be UTF-8 (the caller's encoder guarantees it;
    /// it is not re-checked). Returns `false`, queuing nothing, once our close is sent.
    pub fn send_text(&mut self, text: &[u8]) -> bool {
        self.send_frame(frame::frame(Opcode::Text, text))
    }

    /// Queues a binary message. Returns `false`, queuing nothing, once our close is sent.
    pub fn send_binary(&mut self, data: &[u8]) -> bool {
        self.send_frame(frame::frame(Opcode::Binary, data))
    }

    /// Queues a complete data frame built by [`frame()`](super::frame()) (shared, not
    /// copied: the fanout path). Returns `false`, queuing nothing, once our close is sent.
    pub fn send_frame(&mut self, frame: Bytes) -> bool {
        if self.close_sent {
            return false;
        }
        self.outbox.push(frame);
        true
    }

    /// Queues a ping. Returns `false`, queuing nothing, once our close is sent or when
    /// the payload is longer than a control frame allows (125 bytes).
    pub fn send_ping(&mut self, payload: &[u8]) -> bool {
        if self.close_sent || payload.len() > MAX_CONTROL_PAYLOAD {
            return false;
        }
        self.outbox.push(frame::frame(Opcode::Ping, payload));
        true
    }

    /// Starts the close handshake with `code` and `reason` (cut to fit 125 bytes). Queues
    /// at most one close frame per connection; later calls do nothing. A code that may
    /// not appear on the wire (1005, 1006, ...) is sent as a close without status.
    pub fn close(&mut self, code: u16, reason: &str) {
        if self.close_sent {
            return;
        }
        self.queue_close(code, reason);
    }

    fn queue_close(&mut self, code: u16, reason: &str) {
        let mut payload = Vec::with_capacity(MAX_CONTROL_PAYLOAD);
        if is_valid_close_code(code) {
            put_close_payload(code, reason, &mut payload);
        }
        self.outbox.push(frame::frame(Opcode::Close, &payload));
        self.close_sent = true;
    }

    /// The next frame to write, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.outbox.pop()
    }

    /// Moves every queued frame to `out`, for one vectored write.
    pub fn drain_into(&mut self, out: &mut Vec<Bytes>) {
        self.outbox.drain_into(out);
    }

    /// Bytes queued and not yet taken by the driver (the slow-consumer cap applies to
    /// this plus whatever the driver holds).
    pub fn queued_bytes(&self) -> usize {
        self.outbox.bytes()
    }

    /// Fills `out` with queued frames for one vectored write (they stay queued until
    /// [`Self::advance_transmit`]); returns how many slices it filled.
    pub fn transmit_slices<'a>(&'a self, out: &mut [std::io::IoSlice<'a>]) -> usize {
        self.outbox.slices(out)
    }

    /// `written` bytes of the queued frames reached the socket.
    pub fn advance_transmit(&mut self, written: usize) {
        self.outbox.advance(written);
    }

    /// Gives back the memory of empty queues and buffers (call it on idle connections:
    /// DESIGN.md idea 6, an idle connection holds no buffers).
    pub fn shrink(&mut self) {
        self.outbox.shrink();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if self.input.is_empty() {
            self.input = BytesMut::new();
        }
    }

    /// Drops every queued frame not yet written (a slow consumer, about to be closed).
    pub fn discard_queued(&mut self) {
        self.outbox.clear();
    }

    // ---- state ------------------------------------------------------------------------

    /// Whether the close handshake started (either side) or the connection failed.
    pub fn is_closing(&self) -> bool {
        self.close_sent || self.close_received || self.failed
    }

    /// Whether our close frame is queued (it may not be written yet).
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Whether the peer's close frame arrived.
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// Whether the WebSocket is finished: both close frames exchanged, or ours sent
    /// after a protocol error. The driver then writes what is queued, reads out what the
    /// client already sent (so the kernel does not answer with a reset), and closes TCP.
    pub fn should_close_socket(&self) -> bool {
        self.close_sent && (self.close_received || self.failed)
    }
}
