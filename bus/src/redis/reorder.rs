//! Putting one channel's events back in offset order on the receiving node.
//!
//! Several nodes commit to the same channel (PostgreSQL's row lock orders their
//! batches) and publish independently, so a node may hear offset 12 before 11. The
//! buffer passes events on in offset order exactly once: an old or repeated offset is
//! dropped, an early one is held. When the hole is not filled within [`HOLD`] the
//! caller looks for the missing offsets in the replay set; when they stay missing for
//! [`GIVE_UP`], [`Reorder::skip`] passes the held events on across the hole, and the
//! gateway shard, seeing the jump, resumes its sessions (never a silent gap).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long an early event waits for the offsets before it, before they are looked
/// for in the replay set (and again at every tick after that).
pub const HOLD: Duration = Duration::from_millis(50);

/// How long a hole may stay before the held events are passed on across it: longer
/// than a commit takes to reach Redis from a live node under load, so only a node
/// that died between its commit and its publish leaves one.
pub const GIVE_UP: Duration = Duration::from_secs(3);

/// One channel's reorder buffer.
#[derive(Debug)]
pub struct Reorder<T> {
    /// The offset passed on last (`None`: nothing yet, the first event sets it).
    last: Option<u64>,
    held: BTreeMap<u64, T>,
    /// When the oldest held event arrived.
    since: Option<Instant>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Self {
            last: None,
            held: BTreeMap::new(),
            since: None,
        }
    }
}

impl<T> Reorder<T> {
    /// A buffer that has passed on everything up to `last`.
    pub fn after(last: u64) -> Self {
        Self {
            last: Some(last),
            ..Self::default()
        }
    }

    /// The offset passed on last.
    pub fn last(&self) -> Option<u64> {
        self.last
    }

    /// Takes the event at `offset`; returns what can now be passed on, in order.
    pub fn push(&mut self, offset: u64, event: T, now: Instant) -> Vec<T> {
        let Some(last) = self.last else {
            self.last = Some(offset);
            let mut out = vec![event];
            self.drain(&mut out);
            return out;
        };
        if offset <= last || self.held.contains_key(&offset) {
            return Vec::new();
        }
        if offset == last + 1 {
            self.last = Some(offset);
            let mut out = vec![event];
            self.drain(&mut out);
            return out;
        }
        self.held.insert(offset, event);
        self.since.get_or_insert(now);
        Vec::new()
    }

    fn drain(&mut self, out: &mut Vec<T>) {
        while let Some(last) = self.last {
            let Some(next) = self.held.remove(&(last + 1)) else {
                break;
            };
            out.push(next);
            self.last = Some(last + 1);
        }
        // Whatever is still held waits from now (a new hole).
        self.since = if self.held.is_empty() {
            None
        } else {
            self.since.map(|_| Instant::now())
        };
    }

    /// The missing offsets `(from, to)` (inclusive) when held events have waited
    /// longer than `hold`.
    pub fn overdue(&self, now: Instant, hold: Duration) -> Option<(u64, u64)> {
        let since = self.since?;
        let last = self.last?;
        let (&first_held, _) = self.held.first_key_value()?;
        (now.duration_since(since) >= hold).then_some((last + 1, first_held - 1))
    }

    /// Passes the held events on across the hole (it cannot be filled).
    pub fn skip(&mut self) -> Vec<T> {
        let Some((&first, _)) = self.held.first_key_value() else {
            return Vec::new();
        };
        self.last = Some(first - 1);
        let mut out = Vec::new();
        self.drain(&mut out);
        out
    }

    /// Whether events are held.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_passes_straight_through_and_repeats_are_dropped() {
        let now = Instant::now();
        let mut r = Reorder::after(10);
        assert_eq!(r.push(11, 11, now), [11]);
        assert_eq!(r.push(11, 11, now), Vec::<u64>::new());
        assert_eq!(r.push(9, 9, now), Vec::<u64>::new());
        assert_eq!(r.push(12, 12, now), [12]);
        assert_eq!(r.last(), Some(12));
    }

    #[test]
    fn the_first_event_sets_the_start_when_nothing_is_known() {
        let mut r = Reorder::default();
        assert_eq!(r.push(40, 40, Instant::now()), [40]);
        assert_eq!(r.push(41, 41, Instant::now()), [41]);
    }

    #[test]
    fn early_events_wait_for_the_hole_then_flow_in_order() {
        let now = Instant::now();
        let mut r = Reorder::after(10);
        assert!(r.push(13, 13, now).is_empty());
        assert!(r.push(12, 12, now).is_empty());
        assert_eq!(r.overdue(now, HOLD), None, "not yet");
        assert_eq!(r.overdue(now + HOLD, HOLD), Some((11, 11)));
        assert_eq!(r.push(11, 11, now), [11, 12, 13]);
        assert!(!r.is_holding());
        assert_eq!(r.overdue(now + HOLD * 2, HOLD), None);
    }

    #[test]
    fn skip_crosses_an_unfillable_hole() {
        let now = Instant::now();
        let mut r = Reorder::after(10);
        r.push(14, 14, now);
        r.push(15, 15, now);
        r.push(17, 17, now);
        assert_eq!(r.overdue(now + HOLD, HOLD), Some((11, 13)));
        assert_eq!(r.skip(), [14, 15]);
        assert_eq!(r.last(), Some(15));
        assert!(r.is_holding(), "17 still waits for 16");
        assert_eq!(r.push(16, 16, now), [16, 17]);
    }

    proptest::proptest! {
        #[test]
        fn any_arrival_order_comes_out_sorted_once(
            order in proptest::collection::vec(1u64..40, 0..120)
        ) {
            let now = Instant::now();
            let mut r = Reorder::after(0);
            let mut out = Vec::new();
            for s in &order {
                out.extend(r.push(*s, *s, now));
            }
            let mut expected: Vec<u64> = order.clone();
            expected.sort_unstable();
            expected.dedup();
            let contiguous: Vec<u64> =
                (1..).take_while(|s| expected.contains(s)).collect();
            proptest::prop_assert_eq!(out, contiguous);
        }
    }
}
