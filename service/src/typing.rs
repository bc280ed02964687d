//! Typing state per (user, channel): the expiry of a `START_TYPING` and the rate limit
//! of `TYPING_STARTED`.
//!
//! A start lasts [`crate::ChatConfig::typing_ttl_ms`] unless refreshed or stopped, and
//! at most one `TYPING_STARTED` per [`crate::ChatConfig::typing_interval_ms`] reaches
//! the channel: a start within the interval of the last published one only moves the
//! deadline. A stop clears the deadline but not the interval, so a start/stop loop
//! cannot publish more starts than the interval allows either.
//!
//! One entry per (user, channel), and one timer task per entry: the first start
//! spawns it; further starts only move the deadline, and the task sleeps again until
//! the newest one. The task removes the entry when it has neither a deadline nor an
//! open interval left, so a user typing continuously costs one task, not one per
//! refresh, and the map only holds users who typed in the last interval or are typing.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use protocol::{ChannelId, UserId};
use tokio::time::Instant;

/// Typing state of one (user, channel).
struct Entry {
    /// When the current start expires; `None` after a stop or an expiry.
    deadline: Option<Instant>,
    /// When the last `TYPING_STARTED` was published.
    published: Instant,
}

/// Current typing state.
pub(crate) struct TypingTimers {
    entries: Mutex<HashMap<(UserId, ChannelId), Entry>>,
    interval: Duration,
}

/// What a start does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Start {
    /// Publish `TYPING_STARTED` (else the start only refreshes the deadline).
    pub(crate) publish: bool,
    /// No timer task runs for this key yet: spawn one.
    pub(crate) spawn_timer: bool,
}

/// What the timer task should do after waking up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// The deadline passed: publish `TYPING_STOPPED`, then wake again.
    Expired,
    /// Sleep until this instant, then wake again.
    SleepUntil(Instant),
    /// No deadline and no open interval: the entry is gone, the task ends.
    Gone,
}

impl TypingTimers {
    /// Timers that publish at most one start per `interval`.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            interval,
        }
    }

    /// A start at `now` lasting until `deadline`.
    pub(crate) fn start(&self, key: (UserId, ChannelId), now: Instant, deadline: Instant) -> Start {
        let mut entries = self.entries.lock();
        match entries.get_mut(&key) {
            None => {
                entries.insert(
                    key,
                    Entry {
                        deadline: Some(deadline),
                        published: now,
                    },
                );
                Start {
                    publish: true,
                    spawn_timer: true,
                }
            }
            Some(entry) => {
                entry.deadline = Some(deadline);
                let publish = now >= entry.published + self.interval;
                if publish {
                    entry.published = now;
                }
                Start {
                    publish,
                    spawn_timer: false,
                }
            }
        }
    }

    /// Clears the deadline; `true` when the user was typing.
    pub(crate) fn stop(&self, key: (UserId, ChannelId)) -> bool {
        self.entries
            .lock()
            .get_mut(&key)
            .and_then(|entry| entry.deadline.take())
            .is_some()
    }

    /// Called by the timer task at `now`.
    pub(crate) fn wake(&self, key: (UserId, ChannelId), now: Instant) -> Wake {
        let mut entries = self.entries.lock();
        let Some(entry) = entries.get_mut(&key) else {
            return Wake::Gone;
        };
        match entry.deadline {
            Some(deadline) if deadline <= now => {
                entry.deadline = None;
                Wake::Expired
            }
            Some(deadline) => Wake::SleepUntil(deadline),
            None => {
                let open = entry.published + self.interval;
                if open > now {
                    Wake::SleepUntil(open)
                } else {
                    entries.remove(&key);
                    Wake::Gone
                }
            }
        }
    }

    /// Number of (user, channel) entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn refresh_moves_the_deadline_and_stop_cancels() {
        let timers = TypingTimers::new(secs(3));
        let key = (UserId::new(1), ChannelId::new(2));
        let t0 = Instant::now();
        assert_eq!(
            timers.start(key, t0, t0 + secs(10)),
            Start {
                publish: true,
                spawn_timer: true
            }
        );
        assert_eq!(
            timers.start(key, t0 + secs(5), t0 + secs(15)),
            Start {
                publish: true,
                spawn_timer: false
            },
            "past the interval: published, the task already runs"
        );
        assert_eq!(
            timers.wake(key, t0 + secs(10)),
            Wake::SleepUntil(t0 + secs(15))
        );
        assert_eq!(timers.wake(key, t0 + secs(15)), Wake::Expired);
        assert_eq!(timers.wake(key, t0 + secs(15)), Wake::Gone);
        assert_eq!(timers.len(), 0);
        assert!(timers.start(key, t0 + secs(30), t0 + secs(40)).spawn_timer);
        assert!(timers.stop(key));
        assert!(!timers.stop(key), "stopped already");
        assert_eq!(
            timers.wake(key, t0 + secs(31)),
            Wake::SleepUntil(t0 + secs(33)),
            "kept until the interval closes"
        );
        assert_eq!(timers.wake(key, t0 + secs(33)), Wake::Gone);
    }

    /// One start per interval is published, whatever comes between: repeats and
    /// stops within it only move (or clear) the deadline.
    #[test]
    fn one_published_start_per_interval() {
        let timers = TypingTimers::new(secs(3));
        let key = (UserId::new(1), ChannelId::new(2));
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert!(timers.start(key, t0, at(10_000)).publish);
        assert!(!timers.start(key, at(1_000), at(11_000)).publish);
        timers.stop(key);
        assert!(!timers.start(key, at(2_999), at(12_999)).publish);
        assert_eq!(timers.wake(key, at(3_000)), Wake::SleepUntil(at(12_999)));
        assert!(timers.start(key, at(3_000), at(13_000)).publish);
        assert!(!timers.start(key, at(5_999), at(15_999)).publish);
        assert!(timers.start(key, at(6_000), at(16_000)).publish);
        assert_eq!(timers.len(), 1);
    }
}
