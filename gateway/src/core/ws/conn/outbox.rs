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

    /// Fills `out` with the queued frames, oldest first, for one vectored write;
    /// returns how many slices it filled.
    pub(crate) fn slices<'a>(&'a self, out: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, frame) in out.iter_mut().zip(&self.frames) {
            *slot = std::io::IoSlice::new(frame);
            n += 1;
        }
        n
    }

    /// Drops `written` bytes from the front (a write took them), splitting a frame that
    /// was only partly written. An emptied queue gives its memory back.
    pub(crate) fn advance(&mut self, mut written: usize) {
        use bytes::Buf;
        while written > 0 {
            let Some(front) = self.frames.front_mut() else {
                break;
            };
            if written >= front.len() {
                written -= front.len();
                self.bytes -= front.len();
                self.frames.pop_front();
            } else {
                front.advance(written);
                self.bytes -= written;
                written = 0;
            }
        }
        if self.frames.is_empty() && self.frames.capacity() > IDLE_CAPACITY {
            self.frames = VecDeque::new();
        }
    }

    /// Gives the queue's memory back if it is empty (an idle connection).
    pub(crate) fn shrink(&mut self) {
        if self.frames.is_empty() {
            self.frames = VecDeque::new();
        }
    }

    /// Drops every queued frame (a slow consumer's, before its close frame).
    pub(crate) fn clear(&mut self) {
        self.frames = VecDeque::new();
        self.bytes = 0;
    }
}

/// Frame slots an idle connection keeps; a larger queue is freed once empty.
const IDLE_CAPACITY: usize = 8;

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

    #[test]
    fn partial_writes_split_frames_and_an_empty_queue_is_freed() {
        let mut o = Outbox::default();
        for _ in 0..20 {
            o.push(Bytes::from_static(b"abcd"));
        }
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        assert_eq!(o.slices(&mut slices), 4);
        o.advance(6);
        assert_eq!(o.bytes(), 74);
        assert_eq!(o.frames.front().map(|f| &f[..]), Some(&b"cd"[..]));
        o.advance(74);
        assert_eq!((o.bytes(), o.frames.capacity()), (0, 0));
        o.push(Bytes::from_static(b"x"));
        o.clear();
        assert_eq!(o.bytes(), 0);
    }
}
