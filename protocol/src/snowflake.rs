//! The Snowflake id generator (PROTOCOL.md section 3).
//!
//! An id is `(ms since EPOCH_MS) << 22 | worker << 12 | seq`: 42 bits of time (until
//! 2163), 10 bits of worker (each node or shard that creates ids gets its own), and
//! 12 bits of sequence (4096 ids per millisecond per worker). Ids from one generator
//! are strictly increasing, and ids sort by creation time across workers.
//!
//! This module only makes numbers; the typed wrappers are in [`crate::ids`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The Snowflake epoch, 2024-01-01T00:00:00Z, in ms since the Unix epoch.
pub const EPOCH_MS: u64 = 1_704_067_200_000;

/// Bits of the worker id.
pub const WORKER_BITS: u32 = 10;
/// Bits of the per-millisecond sequence.
pub const SEQUENCE_BITS: u32 = 12;
/// The largest worker id (1023).
pub const MAX_WORKER: u16 = (1 << WORKER_BITS) - 1;

const TIME_SHIFT: u32 = WORKER_BITS + SEQUENCE_BITS;
const MAX_SEQUENCE: u64 = (1 << SEQUENCE_BITS) - 1;
const MAX_TIME: u64 = u64::MAX >> TIME_SHIFT;

/// A worker id over [`MAX_WORKER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("worker id {0} is out of range (0-1023)")]
pub struct WorkerOutOfRange(pub u16);

/// A lock-free generator of Snowflake ids for one worker.
///
/// Share it between threads (`Arc<Snowflake>` or a `static`): [`next`](Self::next)
/// is a compare-and-swap loop on one atomic holding the last id handed out.
#[derive(Debug)]
pub struct Snowflake {
    worker: u16,
    last: AtomicU64,
}

impl Snowflake {
    /// A generator for `worker_id` (0-1023).
    pub fn new(worker_id: u16) -> Result<Self, WorkerOutOfRange> {
        if worker_id > MAX_WORKER {
            return Err(WorkerOutOfRange(worker_id));
        }
        Ok(Self {
            worker: worker_id,
            last: AtomicU64::new(0),
        })
    }

    /// The worker id this generator stamps on its ids.
    pub fn worker(&self) -> u16 {
        self.worker
    }

    /// A new id, timed by the system clock.
    pub fn next(&self) -> u64 {
        self.next_at(unix_now_ms())
    }

    /// A new id for the Unix time `now_ms`, greater than every id this generator made.
    ///
    /// When the clock steps back, the last timestamp is kept; when a millisecond's 4096
    /// sequence numbers are used up, the next millisecond is borrowed rather than
    /// waiting for it. Either way an id's timestamp can run a little ahead of the clock,
    /// and it catches up once the clock does. Times before [`EPOCH_MS`] count as the epoch.
    pub fn next_at(&self, now_ms: u64) -> u64 {
        let time = now_ms.saturating_sub(EPOCH_MS).min(MAX_TIME);
        // Relaxed is enough: uniqueness comes from the CAS on this one location; the id
        // publishes no other memory.
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = self.successor(last, time);
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(actual) => last = actual,
            }
        }
    }

    /// The id to hand out after `last` at `time` (ms since the Snowflake epoch).
    fn successor(&self, last: u64, time: u64) -> u64 {
        let last_time = last >> TIME_SHIFT;
        let last_seq = last & MAX_SEQUENCE;
        if time > last_time {
            compose(time, self.worker, 0)
        } else if last_seq < MAX_SEQUENCE {
            compose(last_time, self.worker, last_seq + 1)
        } else {
            // Borrow the next millisecond. Past 2163 the time field would wrap; that is
            // 139 years out, and the mask keeps the arithmetic from overflowing.
            compose((last_time + 1) & MAX_TIME, self.worker, 0)
        }
    }
}

/// The Unix time at which `id` was made, in ms.
pub fn timestamp_ms(id: u64) -> u64 {
    (id >> TIME_SHIFT) + EPOCH_MS
}

/// The worker that made `id`.
pub fn worker_of(id: u64) -> u16 {
    // Masked to 10 bits, so the cast is lossless.
    ((id >> SEQUENCE_BITS) & u64::from(MAX_WORKER)) as u16
}

/// The sequence number of `id` within its millisecond.
pub fn sequence_of(id: u64) -> u16 {
    // Masked to 12 bits, so the cast is lossless.
    (id & MAX_SEQUENCE) as u16
}

/// The smallest id that can have been made at Unix time `unix_ms`: a cursor for "after
/// this time" or "before this time" queries over ids.
pub fn first_id_at(unix_ms: u64) -> u64 {
    compose(unix_ms.saturating_sub(EPOCH_MS).min(MAX_TIME), 0, 0)
}

fn compose(time: u64, worker: u16, seq: u64) -> u64 {
    time << TIME_SHIFT | u64::from(worker) << SEQUENCE_BITS | seq
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    const T0: u64 = EPOCH_MS + 1_000_000;

    #[test]
    fn layout() {
        let gen = Snowflake::new(513).unwrap();
        let id = gen.next_at(T0);
        assert_eq!(id, 1_000_000 << 22 | 513 << 12);
        assert_eq!(timestamp_ms(id), T0);
        assert_eq!(worker_of(id), 513);
        assert_eq!(sequence_of(id), 0);
        let id2 = gen.next_at(T0);
        assert_eq!(sequence_of(id2), 1);
        assert_eq!(timestamp_ms(id2), T0);
        let id3 = gen.next_at(T0 + 1);
        assert_eq!((timestamp_ms(id3), sequence_of(id3)), (T0 + 1, 0));
    }

    #[test]
    fn worker_range() {
        assert!(Snowflake::new(0).is_ok());
        assert_eq!(Snowflake::new(1023).unwrap().worker(), 1023);
        assert_eq!(Snowflake::new(1024).unwrap_err(), WorkerOutOfRange(1024));
        assert_eq!(
            Snowflake::new(u16::MAX).unwrap_err(),
            WorkerOutOfRange(u16::MAX)
        );
    }

    #[test]
    fn clock_going_back_keeps_the_last_timestamp() {
        let gen = Snowflake::new(1).unwrap();
        let a = gen.next_at(T0);
        let b = gen.next_at(T0 - 5_000);
        let c = gen.next_at(T0 - 1);
        assert!(a < b && b < c);
        assert_eq!(timestamp_ms(b), T0);
        assert_eq!(timestamp_ms(c), T0);
        assert_eq!((sequence_of(b), sequence_of(c)), (1, 2));
        let d = gen.next_at(T0 + 2);
        assert_eq!((timestamp_ms(d), sequence_of(d)), (T0 + 2, 0));
    }

    #[test]
    fn sequence_overflow_borrows_the_next_millisecond() {
        let gen = Snowflake::new(7).unwrap();
        let ids: Vec<u64> = (0..4096 + 10).map(|_| gen.next_at(T0)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(timestamp_ms(ids[4095]), T0);
        assert_eq!(sequence_of(ids[4095]), 4095);
        assert_eq!(timestamp_ms(ids[4096]), T0 + 1);
        assert_eq!(sequence_of(ids[4096]), 0);
        assert!(ids.iter().all(|&id| worker_of(id) == 7));
        // The clock reaching the borrowed millisecond continues after it, not over it.
        let next = gen.next_at(T0 + 1);
        assert_eq!((timestamp_ms(next), sequence_of(next)), (T0 + 1, 10));
    }

    #[test]
    fn before_the_epoch_counts_as_the_epoch() {
        let gen = Snowflake::new(3).unwrap();
        let a = gen.next_at(0);
        let b = gen.next_at(EPOCH_MS - 1);
        assert!(a < b);
        assert_eq!(timestamp_ms(a), EPOCH_MS);
        assert_eq!(worker_of(a), 3);
    }

    #[test]
    fn system_clock_ids_are_recent_and_increasing() {
        let gen = Snowflake::new(0).unwrap();
        let before = unix_now_ms();
        let a = gen.next();
        let b = gen.next();
        assert!(a < b);
        assert!(timestamp_ms(a) >= before && timestamp_ms(a) <= unix_now_ms() + 1);
    }

    #[test]
    fn first_id_at_bounds_the_ids_of_that_millisecond() {
        let gen = Snowflake::new(MAX_WORKER).unwrap();
        let id = gen.next_at(T0);
        assert!(first_id_at(T0) <= id);
        assert!(id < first_id_at(T0 + 1));
        assert_eq!(first_id_at(0), 0);
    }

    #[test]
    fn threads_get_unique_increasing_ids() {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 20_000;
        let gen = Arc::new(Snowflake::new(42).unwrap());
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let gen = Arc::clone(&gen);
                // A frozen clock forces sequence overflow and contention on the CAS.
                std::thread::spawn(move || {
                    (0..PER_THREAD).map(|_| gen.next_at(T0)).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for handle in handles {
            let ids = handle.join().unwrap();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "per-thread order");
            all.extend(ids);
        }
        assert_eq!(all.len(), THREADS * PER_THREAD);
    }
}
