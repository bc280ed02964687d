//! The writer thread: one OS thread that owns the read-write connection and runs the
//! jobs queued for it, in order (DESIGN.md idea 3).
//!
//! Why a thread and not a mutex: SQLite has one writer at a time anyway. With a mutex,
//! every queued write parks a blocking-pool thread on the lock and the connection
//! hops between threads; here writers only queue a boxed closure and await its answer
//! on a oneshot channel, and the connection (with its statement cache) stays on one
//! thread. The thread drains everything queued before it sleeps again.
//!
//! What it is not: a group commit. Each job runs its own transaction; batching events
//! into one transaction is `append_events`' business (one job per batch).
//!
//! Lifetime: [`Writer`] holds the only sender. Dropping it (when the last clone of the
//! store goes) closes the queue; the thread finishes the jobs already queued, closes the
//! connection and ends, and the drop waits for that, so a file can be reopened at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};

/// Work for the writer thread. It answers through a channel it captured.
pub(super) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The handle to the writer thread.
pub(super) struct Writer {
    /// `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread `sqlite-writer`, which owns `conn` from now on.
    pub(super) fn spawn(conn: Connection) -> Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_queue(conn, &queue))
            .map_err(|err| {
                StoreError::Internal(format!("cannot start the sqlite writer: {err}"))
            })?;
        Ok(Self {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Runs `f` on the writer thread, after every job queued before it, and returns its
    /// result. Dropping the future does not cancel the job.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have gone; then nobody wants the answer.
            let _ = answer.send(f(conn));
        });
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        result.await.map_err(|_| {
            StoreError::Internal("the sqlite writer dropped a job (it panicked)".into())
        })?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has run what is queued.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // The last store clone may be dropped by a job on the writer thread itself:
            // it cannot wait for its own end.
            if thread.thread().id() != std::thread::current().id() && thread.join().is_err() {
                tracing::error!("the sqlite writer thread panicked");
            }
        }
    }
}

/// The thread's loop: sleep until a job comes, then run every queued job, in order.
fn run_queue(mut conn: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        run_job(&mut conn, job);
        while let Ok(job) = queue.try_recv() {
            run_job(&mut conn, job);
        }
    }
    if let Err((_, err)) = conn.close() {
        tracing::warn!(error = %err, "closing the sqlite writer connection failed");
    }
}

/// Runs one job. A panicking job loses only its own answer (its open transaction is
/// rolled back as it unwinds); the thread keeps serving the others.
fn run_job(conn: &mut Connection, job: Job) {
    if catch_unwind(AssertUnwindSafe(|| job(conn))).is_err() {
        tracing::error!("a sqlite writer job panicked");
        if !conn.is_autocommit() {
            // Defensive: never leave a transaction open for the next job.
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

/// The queue is closed: the store is being dropped.
fn gone() -> StoreError {
    StoreError::Internal("the sqlite writer has stopped".into())
}
