//! One connection's queue of outbound event frames, filled by fanout and drained by
//! the connection's IO task.
//!
//! It enforces backpressure (DESIGN.md idea 5): unsent bytes per connection are
//! capped; under pressure droppable events (typing, receipts, presence) go first, and
//! a channel event that no longer fits marks the connection overflowed, which the IO
//! task turns into close 4010. One slow client never slows a channel.

use std::collections::VecDeque;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// How much an event may be dropped under pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Channel events and channel changes: delivered, or the connection is closed.
    Required,
    /// Typing, read receipts, presence: dropped first under pressure.
    Droppable,
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Queued.
    Queued,
    /// Dropped (droppable, under pressure; or the connection is closing).
    Dropped,
    /// Did not fit: the connection is now overflowed (close 4010).
    Overflowed,
}

#[derive(Debug, Default)]
struct Inner {
    frames: VecDeque<Bytes>,
    queued: usize,
    in_flight: usize,
    overflowed: bool,
    closed: bool,
}

/// A capped frame queue with a wake-up for its consumer.
#[derive(Debug)]
pub struct Outbox {
    cap: usize,
    inner: Mutex<Inner>,
    notify: Notify,
}

impl Outbox {
    /// A queue holding at most `cap` unsent bytes (queued plus in flight).
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            inner: Mutex::new(Inner::default()),
            notify: Notify::new(),
        }
    }

    /// Queues a frame, or drops it, or marks the queue overflowed.
    pub fn push(&self, frame: Bytes, priority: Priority) -> Pushed {
        let mut inner = self.inner.lock();
        if inner.closed || inner.overflowed {
            return Pushed::Dropped;
        }
        let unsent = inner.queued + inner.in_flight;
        let pushed = match priority {
            Priority::Droppable if unsent + frame.len() > self.cap / 2 => Pushed::Dropped,
            Priority::Required if unsent + frame.len() > self.cap => {
                inner.overflowed = true;
                inner.frames.clear();
                inner.queued = 0;
                Pushed::Overflowed
            }
            _ => {
                inner.queued += frame.len();
                inner.frames.push_back(frame);
                Pushed::Queued
            }
        };
        drop(inner);
        if pushed != Pushed::Dropped {
            self.notify.notify_one();
        }
        pushed
    }

    /// Moves queued frames to `out` until about `budget` bytes were moved.
    pub fn take(&self, out: &mut VecDeque<Bytes>, budget: usize) {
        let mut inner = self.inner.lock();
        let mut moved = 0;
        while moved < budget {
            let Some(frame) = inner.frames.pop_front() else {
                break;
            };
            moved += frame.len();
            inner.queued -= frame.len();
            out.push_back(frame);
        }
    }

    /// The consumer reports how many bytes it holds unsent.
    pub fn set_in_flight(&self, bytes: usize) {
        self.inner.lock().in_flight = bytes;
    }

    /// Whether a required frame did not fit.
    pub fn overflowed(&self) -> bool {
        self.inner.lock().overflowed
    }

    /// Whether frames are waiting.
    pub fn has_frames(&self) -> bool {
        !self.inner.lock().frames.is_empty()
    }

    /// Stops accepting frames (the connection is closing).
    pub fn close(&self) {
        let mut inner = self.inner.lock();
        inner.closed = true;
        inner.frames.clear();
        inner.queued = 0;
    }

    /// Resolves when a frame was pushed or the queue overflowed since the last wait.
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    #[test]
    fn droppable_events_go_first_then_required_overflow() {
        let outbox = Outbox::new(1000);
        assert_eq!(outbox.push(frame(400), Priority::Required), Pushed::Queued);
        assert_eq!(
            outbox.push(frame(200), Priority::Droppable),
            Pushed::Dropped
        );
        assert_eq!(outbox.push(frame(500), Priority::Required), Pushed::Queued);
        assert!(!outbox.overflowed());
        assert_eq!(
            outbox.push(frame(200), Priority::Required),
            Pushed::Overflowed
        );
        assert!(outbox.overflowed());
        assert_eq!(outbox.push(frame(1), Priority::Required), Pushed::Dropped);
    }

    #[test]
    fn in_flight_bytes_count_against_the_cap() {
        let outbox = Outbox::new(1000);
        outbox.push(frame(600), Priority::Required);
        let mut out = VecDeque::new();
        outbox.take(&mut out, usize::MAX);
        assert_eq!(out.len(), 1);
        outbox.set_in_flight(600);
        assert_eq!(
            outbox.push(frame(500), Priority::Required),
            Pushed::Overflowed
        );
    }

    #[test]
    fn take_respects_the_budget_and_keeps_order() {
        let outbox = Outbox::new(10_000);
        for n in 1..=5 {
            outbox.push(frame(n * 100), Priority::Required);
        }
        let mut out = VecDeque::new();
        outbox.take(&mut out, 250);
        assert_eq!(out.iter().map(Bytes::len).collect::<Vec<_>>(), [100, 200]);
        outbox.take(&mut out, usize::MAX);
        assert_eq!(out.len(), 5);
        assert!(!outbox.has_frames());
    }

    #[test]
    fn closed_outbox_drops_everything() {
        let outbox = Outbox::new(1000);
        outbox.close();
        assert_eq!(outbox.push(frame(1), Priority::Required), Pushed::Dropped);
    }
}
