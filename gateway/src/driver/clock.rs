//! The one clock the drivers read: milliseconds since the process started, monotonic,
//! handed to the core as `now`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Milliseconds since the process started.
pub fn now_ms() -> u64 {
    u64::try_from(origin().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The tokio instant of a core deadline.
pub fn instant_of(ms: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(origin() + Duration::from_millis(ms))
}
