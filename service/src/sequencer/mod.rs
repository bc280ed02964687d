//! The sequencer: the write path of every channel event (DESIGN.md idea 3).
//!
//! ```text
//!  service op (validated, authorized) ──Job──► home sequencer of the channel
//!     (hash(channel) % N, bounded queue)        │ nonce window, message rate limit
//!                                               │ group commit: every queued job, <= 512,
//!                                               │ in ONE `append_events` transaction
//!                                               ├─► bus: the committed events, in offset order
//!                                               └─► replies to the callers (after commit)
//! ```
//!
//! One worker per home: its channels' events are committed and published in the order
//! their jobs arrived, with no lock held across an await. While a batch commits, the
//! next one gathers in the queue (pipelining), so the cost of a commit is shared by
//! everything that arrived meanwhile. In the gateway each shard runs the worker it is
//! home to ([`Sequencers::take`]); any worker nobody took starts on the runtime of its
//! first caller (a separate API process, tests).
//!
//! It is not the permission layer: callers check membership and roles first.

mod event;
mod nonce;
pub(crate) mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use protocol::{ChannelId, Message, User, UserId};
use storage::EventWrite;
use tokio::sync::{mpsc, oneshot};

pub use worker::Worker;

use crate::error::{Result, ServiceError};

/// Jobs a sequencer may have queued before callers wait for room.
pub const QUEUE: usize = 8192;

/// Most events in one commit.
pub const MAX_BATCH: usize = 512;

/// What a committed job produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The event's offset; `None` when the write changed nothing (no event).
    pub offset: Option<u64>,
    /// The stored message of a create or edit (for a repeated nonce: the first one).
    pub message: Option<Message>,
    /// The published event's MessagePack envelope, when this write published one: the
    /// gateway builds the sender's `ACK` from its `d` instead of encoding again.
    pub event: Option<bytes::Bytes>,
}

/// One channel write on its way to its sequencer.
pub(crate) struct Job {
    pub(crate) write: EventWrite,
    /// The joining user, for `AddMember` (USER_JOINED carries the user).
    pub(crate) joined: Option<User>,
    /// Counted against the message rate limit (sends only; repeats of a nonce are not).
    pub(crate) rate_key: Option<(UserId, ChannelId)>,
    pub(crate) reply: oneshot::Sender<Result<Committed>>,
}

/// The sequencers of this process: one bounded queue per home.
pub struct Sequencers {
    queues: Vec<mpsc::Sender<Job>>,
    idle: Mutex<Vec<Option<Worker>>>,
    all_started: AtomicBool,
}

impl Sequencers {
    /// `homes` sequencers (at least one) whose workers are not running yet.
    pub(crate) fn new(homes: usize, make: impl Fn(mpsc::Receiver<Job>) -> Worker) -> Self {
        let (queues, idle) = (0..homes.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                (tx, Some(make(rx)))
            })
            .unzip();
        Self {
            queues,
            idle: Mutex::new(idle),
            all_started: AtomicBool::new(false),
        }
    }

    /// Number of homes.
    pub fn homes(&self) -> usize {
        self.queues.len()
    }

    /// The home of a channel.
    pub fn home_of(&self, channel: ChannelId) -> usize {
        home_of(channel, self.queues.len())
    }

    /// The worker of home `index`, for the caller to run (a gateway shard); `None` when
    /// it was taken or already started.
    pub fn take(&self, index: usize) -> Option<Worker> {
        self.idle.lock().get_mut(index).and_then(Option::take)
    }

    /// Sends `job` to its channel's home, starting idle workers on this runtime first.
    pub(crate) async fn submit(&self, job: Job) -> Result<()> {
        if !self.all_started.load(Ordering::Acquire) {
            self.start_idle();
        }
        let home = self.home_of(job.write.channel());
        self.queues[home]
            .send(job)
            .await
            .map_err(|_| ServiceError::unavailable("the sequencer stopped"))
    }

    fn start_idle(&self) {
        let mut idle = self.idle.lock();
        for worker in idle.iter_mut().filter_map(Option::take) {
            tokio::spawn(worker.run());
        }
        self.all_started.store(true, Ordering::Release);
    }
}

/// `hash(channel) % homes`; Snowflake low bits are a sequence, so mix first.
pub fn home_of(channel: ChannelId, homes: usize) -> usize {
    let mixed = channel.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    (mixed as usize) % homes.max(1)
}

/// A reply channel for one job.
pub(crate) fn reply() -> (
    oneshot::Sender<Result<Committed>>,
    oneshot::Receiver<Result<Committed>>,
) {
    oneshot::channel()
}

/// Shared by the workers of one process.
pub(crate) type Limiter = Arc<crate::RateLimiter<(UserId, ChannelId)>>;
