//! The queue of frames waiting to be written to the socket.
//!
//! Frames are kept as separate `Bytes` chunks, never concatenated: a fanned-out event is
//! the same allocation in every recipient's queue, and the driver hands several chunks
//! to one vectored write. The byte count is what the slow-consumer cap is checked against.

use std::collections::VecDeque;

use bytes::Bytes;

/// Frames not yet handed to the driver, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    frames: VecDeque<Bytes>,
    bytes: usize,
}

impl Outbox {
    /// Queues one complete frame.
    pub(crate) fn push(&mut self, frame: Bytes) {
        self.bytes += frame.len();
        self.frames.push_back(frame);
    }

    /// Takes the oldest frame.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.len();
        Some(frame)
    }

    /// Moves every queued frame to the end of `out`.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<Bytes>) {
        out.extend(self.frames.drain(..));
        self.bytes = 0;
    }

    /// Bytes queued.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bytes_in_and_out() {
        let mut o = Outbox::default();
        o.push(Bytes::from_static(b"abc"));
        o.push(Bytes::from_static(b"de"));
        assert_eq!(o.bytes(), 5);
        assert_eq!(o.pop().as_deref(), Some(&b"abc"[..]));
        assert_eq!(o.bytes(), 2);
        let mut out = Vec::new();
        o.drain_into(&mut out);
        assert_eq!(out, [Bytes::from_static(b"de")]);
        assert_eq!(o.bytes(), 0);
        assert_eq!(o.pop(), None);
    }
}
