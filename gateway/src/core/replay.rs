//! The recent-event buffer of one channel, and the replay-or-resync decision of
//! PROTOCOL.md section 4.3: a channel is replayed completely or listed in `resync`,
//! never partly.

use std::collections::VecDeque;

/// The last `capacity` channel events of one channel, by offset.
#[derive(Debug, Clone)]
pub struct ReplayBuffer<T> {
    capacity: usize,
    events: VecDeque<(u64, T)>,
}

/// What a reconnecting client gets for one channel.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay<'a, T> {
    /// These events, in offset order (possibly none).
    Events(Vec<&'a T>),
    /// The gap is not in the buffer, or the position is ahead: reload from storage.
    Resync,
}

impl<T> ReplayBuffer<T> {
    /// An empty buffer holding at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            events: VecDeque::new(),
        }
    }

    /// The offset of the newest event held.
    pub fn last_offset(&self) -> Option<u64> {
        self.events.back().map(|(s, _)| *s)
    }

    /// Appends the event with `offset`. An offset that does not follow the newest one
    /// (an event this node never saw) empties the buffer first, so the buffer is always
    /// contiguous; an old or repeated offset is ignored.
    pub fn push(&mut self, offset: u64, event: T) {
        if let Some(last) = self.last_offset() {
            if offset <= last {
                return;
            }
            if offset != last + 1 {
                self.events.clear();
            }
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back((offset, event));
    }

    /// The events after `position`, given that the channel's current offset is
    /// `current` (from storage; events up to it were published).
    pub fn since(&self, position: u64, current: u64) -> Replay<'_, T> {
        let newest = self.last_offset().unwrap_or(0).max(current);
        if position > newest {
            return Replay::Resync;
        }
        if position == newest {
            return Replay::Events(Vec::new());
        }
        match self.events.front() {
            Some((first, _)) if *first <= position + 1 => Replay::Events(
                self.events
                    .iter()
                    .filter(|(s, _)| *s > position)
                    .map(|(_, e)| e)
                    .collect(),
            ),
            // Nothing buffered: only fine when the client is already current and the
            // newest events are still on their way to us (they arrive live).
            _ => Replay::Resync,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(range: std::ops::RangeInclusive<u64>, cap: usize) -> ReplayBuffer<u64> {
        let mut b = ReplayBuffer::new(cap);
        for s in range {
            b.push(s, s * 10);
        }
        b
    }

    #[test]
    fn replays_exactly_the_gap() {
        let b = buffer(1..=10, 256);
        assert_eq!(b.since(7, 10), Replay::Events(vec![&80, &90, &100]));
        assert_eq!(b.since(0, 10).events_len(), 10);
        assert_eq!(b.since(10, 10), Replay::Events(vec![]));
    }

    #[test]
    fn resync_when_the_gap_fell_out_or_the_client_is_ahead() {
        let b = buffer(1..=300, 256);
        // The buffer holds 45..=300: a client at 44 needs exactly that, one at 43 needs 44.
        assert_eq!(b.since(43, 300), Replay::Resync);
        assert_eq!(b.since(44, 300).events_len(), 256);
        assert_eq!(b.since(45, 300).events_len(), 255);
        assert_eq!(b.since(301, 300), Replay::Resync);
    }

    #[test]
    fn empty_buffer_after_a_restart() {
        let b: ReplayBuffer<u64> = ReplayBuffer::new(256);
        assert_eq!(b.since(5, 5), Replay::Events(vec![]));
        assert_eq!(b.since(4, 5), Replay::Resync);
        assert_eq!(b.since(6, 5), Replay::Resync);
    }

    #[test]
    fn a_gap_in_pushes_restarts_the_buffer() {
        let mut b = buffer(1..=5, 256);
        b.push(8, 80);
        assert_eq!(b.since(5, 8), Replay::Resync);
        assert_eq!(b.since(7, 8), Replay::Events(vec![&80]));
        b.push(8, 0);
        assert_eq!(b.since(7, 8), Replay::Events(vec![&80]));
    }

    impl<T> Replay<'_, T> {
        fn events_len(&self) -> usize {
            match self {
                Replay::Events(e) => e.len(),
                Replay::Resync => usize::MAX,
            }
        }
    }
}
