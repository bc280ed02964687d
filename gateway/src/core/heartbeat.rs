//! Heartbeat deadline: any frame (data or control) proves the client alive; silence
//! for 1.5 intervals closes the connection with 4009 (PROTOCOL.md section 4).

/// Tracks when the last frame arrived. `now` is always an argument (ms, any epoch).
#[derive(Debug, Clone)]
pub struct Heartbeat {
    interval_ms: u64,
    last_seen_ms: u64,
}

impl Heartbeat {
    /// Starts the clock at `now`.
    pub fn new(interval_ms: u64, now: u64) -> Self {
        Self {
            interval_ms,
            last_seen_ms: now,
        }
    }

    /// The interval announced to the client in READY.
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    /// A frame arrived at `now`.
    pub fn on_frame(&mut self, now: u64) {
        self.last_seen_ms = self.last_seen_ms.max(now);
    }

    /// When the connection times out unless a frame arrives first.
    pub fn deadline(&self) -> u64 {
        self.last_seen_ms
            .saturating_add(self.interval_ms.saturating_mul(3) / 2)
    }

    /// Whether the deadline has passed at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.deadline()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_a_half_intervals() {
        let mut hb = Heartbeat::new(30_000, 1_000);
        assert_eq!(hb.deadline(), 46_000);
        assert!(!hb.expired(45_999));
        assert!(hb.expired(46_000));
        hb.on_frame(40_000);
        assert!(!hb.expired(46_000));
        assert_eq!(hb.deadline(), 85_000);
    }

    #[test]
    fn a_clock_going_back_does_not_shorten_the_deadline() {
        let mut hb = Heartbeat::new(1_000, 10_000);
        hb.on_frame(5_000);
        assert_eq!(hb.deadline(), 11_500);
    }
}
