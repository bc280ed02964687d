//! An in-memory sliding-window rate limiter: at most `limit` events per `window` per key.
//!
//! Used for messages per (user, channel) here, and by the API for requests per IP and
//! per user. It keeps the times of the last `limit` accepted events of each key, so the
//! rule is exact ("5 in any 5 s"), and the answer to a refused event says when the
//! oldest of them leaves the window.
//!
//! Memory is bounded: past `max_keys` keys it first forgets keys whose events all left
//! the window; if every key is still active it lets new keys through untracked (and
//! warns) rather than grow without bound. It is per process: in a cluster each node
//! limits on its own, which only makes the limit looser by the number of nodes.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// A sliding-window limiter over keys `K`.
pub struct RateLimiter<K> {
    limit: usize,
    window: Duration,
    max_keys: usize,
    state: Mutex<State<K>>,
}

struct State<K> {
    keys: HashMap<K, VecDeque<Instant>>,
    warned_full: bool,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// At most `limit` events per `window` per key, tracking at most `max_keys` keys.
    /// A `limit` of 0 disables the limiter (everything passes).
    pub fn new(limit: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            limit: limit as usize,
            window,
            max_keys: max_keys.max(1),
            state: Mutex::new(State {
                keys: HashMap::new(),
                warned_full: false,
            }),
        }
    }

    /// Counts one event for `key` now: `Ok` when allowed, else `Err(retry_after)`.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// [`Self::check`] at a given time (tests drive the clock).
    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut state = self.state.lock();
        if !state.keys.contains_key(key) && state.keys.len() >= self.max_keys {
            let window = self.window;
            state.keys.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
            if state.keys.len() >= self.max_keys {
                if !state.warned_full {
                    state.warned_full = true;
                    tracing::warn!(
                        max_keys = self.max_keys,
                        "rate limiter full; new keys pass untracked"
                    );
                }
                return Ok(());
            }
            state.warned_full = false;
        }
        let times = state.keys.entry(key.clone()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = times.front().copied().unwrap_or(now);
            let retry = self.window.saturating_sub(now.duration_since(oldest));
            return Err(retry.max(Duration::from_millis(1)));
        }
        times.push_back(now);
        Ok(())
    }

    /// Number of keys tracked now (for tests and metrics).
    pub fn tracked_keys(&self) -> usize {
        self.state.lock().keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_limit_per_window_then_says_when() {
        let rl = RateLimiter::new(5, Duration::from_secs(5), 100);
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(rl.check_at(&1, t0 + Duration::from_millis(i * 100)).is_ok());
        }
        let retry = rl
            .check_at(&1, t0 + Duration::from_millis(1000))
            .unwrap_err();
        assert_eq!(retry, Duration::from_millis(4000));
        // Another key is independent.
        assert!(rl.check_at(&2, t0).is_ok());
        // Once the oldest leaves the window, one more passes.
        assert!(rl.check_at(&1, t0 + Duration::from_millis(5000)).is_ok());
        assert!(rl.check_at(&1, t0 + Duration::from_millis(5001)).is_err());
    }

    #[test]
    fn refused_events_do_not_count() {
        let rl = RateLimiter::new(1, Duration::from_secs(1), 100);
        let t0 = Instant::now();
        assert!(rl.check_at(&1, t0).is_ok());
        for ms in [10, 500, 900] {
            assert!(rl.check_at(&1, t0 + Duration::from_millis(ms)).is_err());
        }
        assert!(rl.check_at(&1, t0 + Duration::from_millis(1000)).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let rl = RateLimiter::new(1, Duration::from_secs(1), 3);
        let t0 = Instant::now();
        for k in 0..3 {
            rl.check_at(&k, t0).unwrap();
        }
        // Full of active keys: a new key passes untracked.
        assert!(rl.check_at(&99, t0).is_ok());
        assert!(rl.check_at(&99, t0).is_ok());
        assert_eq!(rl.tracked_keys(), 3);
        // Later the expired keys are swept and the new key is tracked.
        let later = t0 + Duration::from_secs(2);
        assert!(rl.check_at(&99, later).is_ok());
        assert!(rl.check_at(&99, later).is_err());
        assert_eq!(rl.tracked_keys(), 1);
    }

    #[test]
    fn zero_disables() {
        let rl = RateLimiter::new(0, Duration::from_secs(1), 3);
        for _ in 0..100 {
            assert!(rl.check(&1).is_ok());
        }
    }
}
