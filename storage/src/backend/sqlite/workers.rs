//! Connection threads: OS threads that each own one connection and run the jobs queued
//! for them (DESIGN.md idea 3). The writer is one such thread, so its jobs run in
//! order; the readers are several sharing one queue, so any free reader takes the next
//! read.
//!
//! Why threads and not mutexes on tokio's blocking pool: SQLite has one writer at a
//! time anyway, and a few readers. With a mutex per connection, a burst of work (a
//! reconnect storm: one read per IDENTIFY) made the blocking pool start a thread per
//! waiting job, hundreds of them, each parked on a lock: most of identify's CPU was
//! thread wake-ups and context switches, and each new thread's stack and malloc arena
//! stayed in the process's memory. Here a caller only queues a boxed closure and awaits
//! its answer on a oneshot channel; the connection (with its statement cache) stays on
//! one thread, which drains the queue before it sleeps again.
//!
//! What it is not: a group commit. Each job runs its own transaction; batching events
//! into one transaction is `append_events`' business (one job per batch).
//!
//! Lifetime: [`Workers`] holds the only sender. Dropping it (when the last clone of the
//! store goes) closes the queue; the threads finish the jobs already queued, close their
//! connections and end, and the drop waits for that, so a file can be reopened at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};

/// Work for a connection thread. It answers through a channel it captured.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The handle to a set of connection threads sharing one queue.
pub(super) struct Workers {
    /// `None` only while dropping.
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    name: &'static str,
}

impl Workers {
    /// Starts one thread named `name` per connection; each owns its connection from now
    /// on. With one connection, jobs run in the order they were queued.
    pub(super) fn spawn(name: &'static str, conns: Vec<Connection>) -> Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let mut workers = Self {
            jobs: Some(jobs),
            threads: Vec::with_capacity(conns.len()),
            name,
        };
        for conn in conns {
            let queue = queue.clone();
            let thread = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || run_queue(conn, &queue, name))
                .map_err(|err| StoreError::Internal(format!("cannot start {name}: {err}")))?;
            workers.threads.push(thread);
        }
        Ok(workers)
    }

    /// Whether there is no thread (no connection) to run jobs.
    pub(super) fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// How many threads (connections) there are.
    pub(super) fn len(&self) -> usize {
        self.threads.len()
    }

    /// Runs `f` on one of the threads and returns its result; with one thread, after
    /// every job queued before it. Dropping the future does not cancel the job.
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
        let gone = || StoreError::Internal(format!("{} has stopped", self.name));
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        result.await.map_err(|_| {
            StoreError::Internal(format!("{} dropped a job (it panicked)", self.name))
        })?
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the queue ends the threads once they have run what is queued.
        drop(self.jobs.take());
        for thread in self.threads.drain(..) {
            // The last store clone may be dropped by a job on one of these threads: it
            // cannot wait for its own end.
            if thread.thread().id() != std::thread::current().id() && thread.join().is_err() {
                tracing::error!("a {} thread panicked", self.name);
            }
        }
    }
}

/// A thread's loop: sleep until a job comes, then run queued jobs until none is left.
fn run_queue(mut conn: Connection, queue: &Receiver<Job>, name: &str) {
    while let Ok(job) = queue.recv() {
        run_job(&mut conn, job, name);
        while let Ok(job) = queue.try_recv() {
            run_job(&mut conn, job, name);
        }
    }
    if let Err((_, err)) = conn.close() {
        tracing::warn!(error = %err, "closing a {name} connection failed");
    }
}

/// Runs one job. A panicking job loses only its own answer (its open transaction is
/// rolled back as it unwinds); the thread keeps serving the others.
fn run_job(conn: &mut Connection, job: Job, name: &str) {
    if catch_unwind(AssertUnwindSafe(|| job(conn))).is_err() {
        tracing::error!("a {name} job panicked");
        if !conn.is_autocommit() {
            // Defensive: never leave a transaction open for the next job.
            let _ = conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    use super::*;

    fn conns(n: usize) -> Vec<Connection> {
        (0..n)
            .map(|_| Connection::open_in_memory().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn one_thread_runs_jobs_in_order() {
        let writer = Workers::spawn("test-writer", conns(1)).unwrap();
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let runs = (0..50).map(|i| {
            let seen = seen.clone();
            writer.run(move |_| {
                seen.lock().push(i);
                Ok(())
            })
        });
        futures_util::future::try_join_all(runs).await.unwrap();
        assert_eq!(*seen.lock(), (0..50).collect::<Vec<_>>());
    }

    /// Four readers take four jobs at once: each job waits until all four run, which
    /// only happens if four threads serve the one queue.
    #[tokio::test]
    async fn several_threads_share_one_queue() {
        let readers = Workers::spawn("test-reader", conns(4)).unwrap();
        assert_eq!(readers.len(), 4);
        let barrier = Arc::new(Barrier::new(4));
        let threads = Arc::new(parking_lot::Mutex::new(std::collections::HashSet::new()));
        let runs = (0..4).map(|_| {
            let (barrier, threads) = (barrier.clone(), threads.clone());
            readers.run(move |_| {
                barrier.wait();
                threads.lock().insert(std::thread::current().id());
                Ok(())
            })
        });
        futures_util::future::try_join_all(runs).await.unwrap();
        assert_eq!(threads.lock().len(), 4);
    }

    #[tokio::test]
    async fn a_panicking_job_loses_only_its_answer() {
        let readers = Workers::spawn("test-reader", conns(2)).unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        let failed = readers.run::<(), _>(|_| panic!("boom")).await;
        assert!(matches!(failed, Err(StoreError::Internal(_))));
        for _ in 0..10 {
            let done = done.clone();
            readers
                .run(move |conn| {
                    conn.query_row("SELECT 1", [], |_| Ok(())).unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                })
                .await
                .unwrap();
        }
        assert_eq!(done.load(Ordering::Relaxed), 10);
    }
}
