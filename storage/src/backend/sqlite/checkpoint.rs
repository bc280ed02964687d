//! The checkpointer thread: copies the WAL back into the database file in the
//! background, so the writer's commits do not pay for it.
//!
//! SQLite checkpoints on the committing connection by default (every 1000 pages),
//! which put a third of the group commit's time on the write path. Here a thread with
//! its own connection runs a PASSIVE checkpoint (it never blocks the writer or the
//! readers) every [`PERIOD`]; the writer keeps a much larger automatic threshold only as
//! a backstop in case readers keep the checkpoint from finishing. Dropping the handle
//! stops the thread and waits for it.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::error::SqlResultExt;
use super::open_writer;
use crate::error::{Result, StoreError};

/// How often the WAL is checkpointed.
pub(super) const PERIOD: Duration = Duration::from_millis(250);

/// The background checkpointer of a file store.
pub(super) struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread `sqlite-checkpoint` on its own connection to `path`.
    pub(super) fn spawn(path: &Path) -> Result<Self> {
        let conn = open_writer(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
                    let done = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .store();
                    if let Err(err) = done {
                        tracing::warn!(error = %err, "sqlite checkpoint failed");
                    }
                }
            })
            .map_err(|err| StoreError::Internal(format!("cannot start the checkpointer: {err}")))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
