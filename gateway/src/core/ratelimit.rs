//! A sliding-window rate limiter for data frames per connection (120 per 60 s,
//! PROTOCOL.md section 8).
//!
//! Exact sliding windows need one timestamp per allowed event; this keeps two counters
//! (this window and the previous one) and weighs the previous by how much of it still
//! overlaps the sliding window, as Cloudflare's limiter does: never more than the limit
//! within one window of the grid, and across a boundary only as much more as the
//! estimate's assumption of evenly spread frames lets through, with 24 bytes per
//! connection.

/// Two-counter sliding window.
#[derive(Debug, Clone)]
pub struct WindowLimiter {
    limit: u32,
    window_ms: u64,
    window_start: u64,
    current: u32,
    previous: u32,
}

impl WindowLimiter {
    /// At most `limit` events per `window_ms`.
    pub fn new(limit: u32, window_ms: u64, now: u64) -> Self {
        Self {
            limit,
            window_ms: window_ms.max(1),
            window_start: now,
            current: 0,
            previous: 0,
        }
    }

    /// Counts one event at `now`; `false` when it is over the limit (it is not counted).
    pub fn allow(&mut self, now: u64) -> bool {
        self.roll(now);
        let elapsed = now.saturating_sub(self.window_start);
        let overlap = self.window_ms - elapsed.min(self.window_ms);
        let weighted =
            (u64::from(self.previous) * overlap).div_ceil(self.window_ms) + u64::from(self.current);
        if weighted >= u64::from(self.limit) {
            return false;
        }
        self.current += 1;
        true
    }

    fn roll(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed < self.window_ms {
            return;
        }
        let windows = elapsed / self.window_ms;
        self.previous = if windows == 1 { self.current } else { 0 };
        self.current = 0;
        self.window_start += windows * self.window_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses() {
        let mut rl = WindowLimiter::new(120, 60_000, 0);
        for i in 0..120 {
            assert!(rl.allow(i), "frame {i}");
        }
        assert!(!rl.allow(200));
    }

    #[test]
    fn a_burst_at_a_boundary_does_not_double_the_rate() {
        let mut rl = WindowLimiter::new(120, 60_000, 0);
        for _ in 0..120 {
            assert!(rl.allow(59_000));
        }
        // Just after the boundary the previous window still weighs almost fully: a
        // fixed window would allow 120 more here, the sliding estimate at most one.
        let allowed = (0..120).filter(|_| rl.allow(60_500)).count();
        assert!(allowed <= 1, "{allowed}");
    }

    #[test]
    fn recovers_after_a_quiet_window() {
        let mut rl = WindowLimiter::new(2, 1_000, 0);
        assert!(rl.allow(0));
        assert!(rl.allow(1));
        assert!(!rl.allow(2));
        assert!(rl.allow(2_500));
        assert!(rl.allow(2_600));
        assert!(!rl.allow(2_700));
    }

    #[test]
    fn steady_rate_under_the_limit_is_never_refused() {
        let mut rl = WindowLimiter::new(120, 60_000, 0);
        // One frame a second is 60 per minute: always fine.
        for s in 0..600 {
            assert!(rl.allow(s * 1_000));
        }
    }
}
