//! [`ReplayRing`]: the last events of one channel by offset, and what a reader that
//! is at some offset missed (PROTOCOL.md section 4.3: replayed completely, or a gap).

use std::collections::VecDeque;

/// The last `capacity` events of one channel, contiguous by offset.
#[derive(Debug, Clone)]
pub struct ReplayRing<T> {
    capacity: usize,
    events: VecDeque<(u64, T)>,
}

/// What a reader at some offset missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay<T> {
    /// Every kept event after the offset, contiguous from the offset + 1, oldest first
    /// (none when nothing newer is kept).
    Events(Vec<T>),
    /// Events just after the offset are no longer kept: reload from storage. `newest`
    /// is the newest offset kept.
    Gap {
        /// The newest offset kept.
        newest: u64,
    },
    /// Nothing is kept for the channel: no event of it was published since the bus
    /// started (so whatever storage holds will not be published again).
    Unknown,
}

impl<T: Clone> ReplayRing<T> {
    /// An empty ring holding at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            events: VecDeque::new(),
        }
    }

    /// The offset of the newest event kept.
    pub fn newest(&self) -> Option<u64> {
        self.events.back().map(|(s, _)| *s)
    }

    /// Appends the event with `offset`. An offset that does not follow the newest one
    /// (events this ring never saw) empties the ring first, so it is always contiguous;
    /// an old or repeated offset is ignored.
    pub fn push(&mut self, offset: u64, event: T) {
        if let Some(newest) = self.newest() {
            if offset <= newest {
                return;
            }
            if offset != newest + 1 {
                self.events.clear();
            }
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back((offset, event));
    }

    /// The events after `after`.
    pub fn after(&self, after: u64) -> Replay<T> {
        let (Some((first, _)), Some(newest)) = (self.events.front(), self.newest()) else {
            return Replay::Unknown;
        };
        if after >= newest {
            return Replay::Events(Vec::new());
        }
        if *first > after + 1 {
            return Replay::Gap { newest };
        }
        Replay::Events(
            self.events
                .iter()
                .filter(|(s, _)| *s > after)
                .map(|(_, e)| e.clone())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(range: std::ops::RangeInclusive<u64>, cap: usize) -> ReplayRing<u64> {
        let mut r = ReplayRing::new(cap);
        for s in range {
            r.push(s, s * 10);
        }
        r
    }

    #[test]
    fn replays_exactly_what_follows() {
        let r = ring(1..=10, 256);
        assert_eq!(r.after(7), Replay::Events(vec![80, 90, 100]));
        assert_eq!(
            r.after(0),
            Replay::Events((1..=10).map(|s| s * 10).collect())
        );
        assert_eq!(r.after(10), Replay::Events(vec![]));
        assert_eq!(r.after(11), Replay::Events(vec![]));
    }

    #[test]
    fn a_gap_when_the_events_fell_out() {
        let r = ring(1..=300, 256);
        // Kept: 45..=300. A reader at 44 needs exactly that; one at 43 needs 44 too.
        assert_eq!(r.after(43), Replay::Gap { newest: 300 });
        assert!(matches!(r.after(44), Replay::Events(e) if e.len() == 256));
    }

    #[test]
    fn an_empty_ring_knows_nothing_newer() {
        let r: ReplayRing<u64> = ReplayRing::new(4);
        assert_eq!(r.after(5), Replay::Unknown);
    }

    #[test]
    fn a_jump_restarts_the_ring_and_repeats_are_ignored() {
        let mut r = ring(1..=5, 256);
        r.push(8, 80);
        assert_eq!(r.after(5), Replay::Gap { newest: 8 });
        assert_eq!(r.after(7), Replay::Events(vec![80]));
        r.push(8, 0);
        r.push(3, 0);
        assert_eq!(r.after(7), Replay::Events(vec![80]));
    }
}
