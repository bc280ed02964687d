//! Typing expiry: a `START_TYPING` lasts [`crate::ChatConfig::typing_ttl_ms`] unless
//! refreshed or stopped.
//!
//! One deadline per (user, channel). The first start spawns one timer task; further
//! starts only move the deadline, and the task sleeps again until the newest one. A
//! stop removes the deadline, and the task then ends without publishing. So a user
//! typing continuously costs one task, not one per refresh.

use std::collections::HashMap;

use parking_lot::Mutex;
use protocol::{ChannelId, UserId};
use tokio::time::Instant;

/// Current typing deadlines.
#[derive(Default)]
pub(crate) struct TypingTimers {
    deadlines: Mutex<HashMap<(UserId, ChannelId), Instant>>,
}

/// What the timer task should do after waking up.
pub(crate) enum Wake {
    /// The deadline passed: publish `TYPING_STOPPED`.
    Expired,
    /// Refreshed meanwhile: sleep until this instant.
    SleepUntil(Instant),
    /// Stopped explicitly: nothing to do.
    Gone,
}

impl TypingTimers {
    /// Sets the deadline; `true` when no timer task runs for this key yet.
    pub(crate) fn start(&self, key: (UserId, ChannelId), deadline: Instant) -> bool {
        self.deadlines.lock().insert(key, deadline).is_none()
    }

    /// Removes the deadline; `true` when the user was typing.
    pub(crate) fn stop(&self, key: (UserId, ChannelId)) -> bool {
        self.deadlines.lock().remove(&key).is_some()
    }

    /// Called by the timer task at `now`.
    pub(crate) fn wake(&self, key: (UserId, ChannelId), now: Instant) -> Wake {
        let mut deadlines = self.deadlines.lock();
        match deadlines.get(&key) {
            None => Wake::Gone,
            Some(deadline) if *deadline <= now => {
                deadlines.remove(&key);
                Wake::Expired
            }
            Some(deadline) => Wake::SleepUntil(*deadline),
        }
    }

    /// Number of users typing somewhere.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.deadlines.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn refresh_moves_the_deadline_and_stop_cancels() {
        let timers = TypingTimers::default();
        let key = (UserId::new(1), ChannelId::new(2));
        let t0 = Instant::now();
        assert!(timers.start(key, t0 + Duration::from_secs(10)));
        assert!(
            !timers.start(key, t0 + Duration::from_secs(15)),
            "task already runs"
        );
        assert!(matches!(
            timers.wake(key, t0 + Duration::from_secs(10)),
            Wake::SleepUntil(d) if d == t0 + Duration::from_secs(15)
        ));
        assert!(matches!(
            timers.wake(key, t0 + Duration::from_secs(15)),
            Wake::Expired
        ));
        assert_eq!(timers.len(), 0);
        assert!(timers.start(key, t0 + Duration::from_secs(30)));
        assert!(timers.stop(key));
        assert!(matches!(
            timers.wake(key, t0 + Duration::from_secs(30)),
            Wake::Gone
        ));
    }
}
