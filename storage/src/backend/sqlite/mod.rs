//! The SQLite backend: the embedded, single-node default.
//!
//! One file (WAL mode) holds everything. rusqlite is synchronous, so no call runs on
//! the async runtime:
//!
//! - **Writes** go to one dedicated OS thread, `sqlite-writer`, which owns the writer
//!   connection and drains a queue of jobs, each answered through a oneshot channel
//!   (DESIGN.md idea 3). SQLite allows one writer at a time anyway; a thread that owns
//!   the connection serialises writes without a mutex taken from blocking-pool threads
//!   (no lock handoff, no blocking-pool thread parked per queued write) and keeps the
//!   connection's statement cache hot. Every write is an `IMMEDIATE` transaction.
//! - **Reads** go to a few `sqlite-reader` threads, each owning a read-only connection,
//!   which share one queue the same way: WAL lets them run alongside the writer, so a
//!   read never waits for a write, and a burst of reads queues instead of starting a
//!   blocking-pool thread per read ([`workers`]). An in-memory store (tests) has no
//!   readers: its reads are jobs on the writer thread too.
//!
//! The threads end, closing their connections, when the last clone of the store is
//! dropped. Each `impl <Aggregate>Store for SqliteStore` lives in the file named after
//! its trait's module in [`crate::ops`]; [`rows`] and [`view`] hold the row loaders they
//! share.

mod append;
mod attachments;
mod blocks;
mod channels;
mod checkpoint;
pub(crate) mod codec;
mod error;
mod events;
mod members;
mod messages;
mod migrate;
mod mutes;
mod reactions;
mod receipts;
mod rows;
mod search;
mod session;
#[cfg(test)]
mod testutil;
mod users;
mod view;
mod workers;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use self::error::SqlResultExt;
pub use self::migrate::migrate;
use self::workers::Workers;
use crate::error::{Result, StoreError};
use crate::Store;

/// Read connections opened by [`SqliteStore::open`].
pub const DEFAULT_READERS: usize = 4;

/// How long a connection waits for a lock held by another process before `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening waits for another process that is setting up or migrating the
/// same file (an API and gateways started together on one file): waiting for it is
/// right, and on a loaded machine it can take longer than [`BUSY_TIMEOUT`].
const OPEN_BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// SQLite page cache per connection, in KiB (negative: a size, not a page count).
const CACHE_KIB: i64 = -32 * 1024;

/// The same for each read-only connection: small, the OS page cache behind it holds
/// the file anyway (a miss is one `pread` of a cached page, about a microsecond).
/// Readers serve identify, each user's rows read about once per session, and history
/// pages: a big private cache per reader only grew the process (4 readers of 4 MiB,
/// filled by identifying 10 000 users, were 1.6 KiB per connection).
const READER_CACHE_KIB: i64 = -256;

/// WAL pages (4 KiB) after which the writer checkpoints itself: only a backstop, the
/// checkpointer thread normally keeps the WAL far below it.
const WAL_BACKSTOP_PAGES: i64 = 16 * 1024;

/// How much of the database file the writer maps. Readers map nothing: every page a
/// mapping touches stays in the process's RSS, and identify touches every user's row.
const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// Prepared statements kept per connection (every query of this backend fits).
const STATEMENT_CACHE: usize = 128;

/// The SQLite store. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Connections>,
}

/// The writer thread and the reader threads.
struct Connections {
    writer: Workers,
    /// File stores checkpoint the WAL in the background.
    _checkpointer: Option<checkpoint::Checkpointer>,
    readers: Workers,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("readers", &self.inner.readers.len())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent folders if needed) the database file at
    /// `path`, applies pending migrations, and opens [`DEFAULT_READERS`] readers.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_readers(path, DEFAULT_READERS)
    }

    /// [`SqliteStore::open`] with `readers` read connections (0: reads use the writer).
    pub fn open_with_readers(path: &Path, readers: usize) -> Result<Self> {
        let (writer, _) = open_migrated(path)?;
        writer.busy_timeout(BUSY_TIMEOUT).store()?;
        // Checkpoints run on their own thread; the writer's own is only a backstop.
        writer
            .pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)
            .store()?;
        let readers = (0..readers)
            .map(|_| open_reader(path))
            .collect::<Result<Vec<_>>>()?;
        let mut store = Self::from_connections(writer, readers)?;
        if let Some(inner) = Arc::get_mut(&mut store.inner) {
            inner._checkpointer = Some(checkpoint::Checkpointer::spawn(path)?);
        }
        Ok(store)
    }

    /// A private in-memory database (tests, tools); gone when the store is dropped.
    pub fn open_in_memory() -> Result<Self> {
        let mut writer = Connection::open_in_memory().store()?;
        configure(&writer)?;
        migrate(&mut writer)?;
        Self::from_connections(writer, Vec::new())
    }

    /// Applies pending migrations to the file at `path` and closes it (`layer4
    /// migrate`); returns how many were applied.
    pub fn migrate_only(path: &Path) -> Result<usize> {
        open_migrated(path).map(|(_, applied)| applied)
    }

    fn from_connections(writer: Connection, readers: Vec<Connection>) -> Result<Self> {
        Ok(Self {
            inner: Arc::new(Connections {
                writer: Workers::spawn("sqlite-writer", vec![writer])?,
                _checkpointer: None,
                readers: Workers::spawn("sqlite-reader", readers)?,
            }),
        })
    }

    /// Runs `f` in a read transaction (one consistent snapshot) on a reader thread
    /// (on the writer thread when there are no readers).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let threads = if self.inner.readers.is_empty() {
            &self.inner.writer
        } else {
            &self.inner.readers
        };
        threads.run(move |conn| read_in(conn, f)).await
    }

    /// Runs `f` in an `IMMEDIATE` write transaction on the writer thread; commits when
    /// `f` succeeds, rolls back when it (or the commit) fails.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner
            .writer
            .run(move |conn| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .store()?;
                let out = f(&tx)?;
                tx.commit().store()?;
                Ok(out)
            })
            .await
    }
}

/// `f` in a deferred (read) transaction on `conn`.
fn read_in<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    let tx = conn.transaction().store()?;
    let out = f(&tx)?;
    tx.commit().store()?;
    Ok(out)
}

/// The write connection, opened and migrated, and how many migrations it applied. Another process opening the same file
/// at the same time can make SQLite answer "busy" at once, without waiting (a stale
/// read snapshot cannot be upgraded to a write; switching to WAL needs the file alone),
/// so a busy answer starts over after a pause, for up to [`OPEN_BUSY_TIMEOUT`].
fn open_migrated(path: &Path) -> Result<(Connection, usize)> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| {
            StoreError::Unavailable(format!("cannot create {}: {err}", parent.display()))
        })?;
    }
    let deadline = std::time::Instant::now() + OPEN_BUSY_TIMEOUT;
    loop {
        let opened = open_writer(path)
            .and_then(|mut conn| migrate(&mut conn).map(|applied| (conn, applied)));
        match opened {
            // From here on only SQLite's busy and locked answers are `Unavailable`.
            Err(StoreError::Unavailable(why)) if std::time::Instant::now() < deadline => {
                tracing::debug!("sqlite busy while opening, again: {why}");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Opens the read-write connection (its folder exists), creating the file.
fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).store()?;
    configure(&conn)?;
    // Switching to WAL and migrating take the write lock: wait for another opener.
    conn.busy_timeout(OPEN_BUSY_TIMEOUT).store()?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .store()?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "sqlite refused WAL mode; readers will wait for writers"
        );
    }
    Ok(conn)
}

/// Opens a read-only connection to a database the writer already set up.
fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).store()?;
    configure(&conn)?;
    // Readers read through the OS page cache, with a small cache of their own.
    conn.pragma_update(None, "cache_size", READER_CACHE_KIB)
        .store()?;
    conn.pragma_update(None, "mmap_size", 0).store()?;
    Ok(conn)
}

/// Per-connection settings.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).store()?;
    conn.pragma_update(None, "synchronous", "NORMAL").store()?;
    conn.pragma_update(None, "foreign_keys", "ON").store()?;
    conn.pragma_update(None, "temp_store", "MEMORY").store()?;
    // Hot pages in SQLite's own cache and the file mapped, rather than a read() copy
    // from the OS page cache per page: the group commit's profile was a third syscalls.
    conn.pragma_update(None, "cache_size", CACHE_KIB).store()?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES).store()?;

    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            conn.prepare_cached("SELECT 1")
                .and_then(|mut stmt| stmt.query_row([], |_| Ok(())))
                .store()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Several processes (here threads, each with its own connections) opening one new
    /// file at once, as `layer4 api` and gateways started together do: all succeed.
    #[test]
    fn many_openers_of_one_new_file_all_succeed() {
        for round in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("shared.db");
            let barrier = Arc::new(std::sync::Barrier::new(8));
            let openers: Vec<_> = (0..8)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        SqliteStore::open(&path).map(drop)
                    })
                })
                .collect();
            for opener in openers {
                if let Err(err) = opener.join().unwrap() {
                    panic!("round {round}: an opener failed: {err}");
                }
            }
        }
    }

    /// Opening waits for another process's migration past the usual busy timeout
    /// (here a write lock held 1 s longer than it), then proceeds.
    #[test]
    fn opening_waits_for_a_write_lock_held_longer_than_the_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("held.db");
        drop(SqliteStore::open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        let opener = {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(&path).map(drop))
        };
        std::thread::sleep(BUSY_TIMEOUT + Duration::from_secs(1));
        holder.execute_batch("COMMIT").unwrap();
        if let Err(err) = opener.join().unwrap() {
            panic!("opening gave up while another process held the lock: {err}");
        }
    }

    #[tokio::test]
    async fn open_creates_folders_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/layer4.db");
        let store = SqliteStore::open(&path).unwrap();
        assert!(path.exists());
        store.ping().await.unwrap();
        let mode: String = store
            .read(|conn| {
                conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))
                    .store()
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn readers_are_read_only_and_writes_roll_back_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        let denied = store
            .read(|conn| {
                conn.execute("DELETE FROM users", []).store()?;
                Ok(())
            })
            .await;
        assert!(denied.is_err());
        let failed: Result<()> = store
            .write(|conn| {
                conn.execute(
                    "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at)
                     VALUES (1, 'ann', 'Ann', ' ann', 'x', 0)",
                    [],
                )
                .store()?;
                Err(StoreError::Invalid("stop".into()))
            })
            .await;
        assert!(failed.is_err());
        let count: i64 = store
            .read(|conn| {
                conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
                    .store()
            })
            .await
            .unwrap();
        assert_eq!(count, 0, "the failed transaction was rolled back");
    }

    /// Occupies the writer thread, inside an open write transaction (so the database's
    /// write lock is held too), until the returned sender is dropped or sends.
    async fn block_writer(store: &SqliteStore) -> std::sync::mpsc::Sender<()> {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let store = store.clone();
        let job = async move {
            store
                .write(move |conn| {
                    conn.execute("DELETE FROM users WHERE id = -1", [])
                        .store()?;
                    let _ = started.send(());
                    let _ = wait.recv();
                    Ok(())
                })
                .await
        };
        tokio::spawn(job);
        running.await.unwrap();
        release
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_do_not_wait_for_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        let release = block_writer(&store).await;
        let read = tokio::time::timeout(Duration::from_secs(5), store.ping()).await;
        drop(release);
        assert!(matches!(read, Ok(Ok(()))), "a read waited for the writer");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queue_behind_the_writer_and_in_memory_reads_too() {
        let store = SqliteStore::open_in_memory().unwrap();
        let release = block_writer(&store).await;
        let ping = tokio::spawn({
            let store = store.clone();
            async move { store.ping().await }
        });
        let write = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(|_| Ok(std::thread::current().name().map(str::to_owned)))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!ping.is_finished(), "an in-memory read skipped the queue");
        assert!(
            !write.is_finished(),
            "a write ran while another was running"
        );
        release.send(()).unwrap();
        ping.await.unwrap().unwrap();
        assert_eq!(
            write.await.unwrap().unwrap().as_deref(),
            Some("sqlite-writer")
        );
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let store = SqliteStore::open_in_memory().unwrap();
        let failed: Result<()> = store
            .write(|conn| {
                conn.execute(
                    "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at)
                     VALUES (1, 'ann', 'Ann', ' ann', 'x', 0)",
                    [],
                )
                .store()?;
                panic!("job bug")
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Internal(_))), "{failed:?}");
        let count: i64 = store
            .write(|conn| {
                conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
                    .store()
            })
            .await
            .unwrap();
        assert_eq!(count, 0, "the panicking job's transaction was rolled back");
    }

    #[tokio::test]
    async fn the_writer_thread_ends_with_the_last_clone() {
        thread_local! {
            static KEEP: std::cell::RefCell<Option<Arc<()>>> = const { std::cell::RefCell::new(None) };
        }
        let marker = Arc::new(());
        let store = SqliteStore::open_in_memory().unwrap();
        let clone = store.clone();
        let planted = Arc::clone(&marker);
        store
            .write(move |_| {
                KEEP.with(|keep| *keep.borrow_mut() = Some(planted));
                Ok(())
            })
            .await
            .unwrap();
        drop(store);
        clone.ping().await.unwrap();
        assert_eq!(Arc::strong_count(&marker), 2, "the thread is alive");
        drop(clone);
        // Dropping the last clone waits for the thread, whose thread-locals are gone.
        assert_eq!(Arc::strong_count(&marker), 1, "the thread has ended");
    }

    #[tokio::test]
    async fn data_and_offsets_survive_closing_the_file() {
        use protocol::{ChannelId, MessageId, UserId};

        use crate::ops::channels::ChannelStore;
        use crate::ops::messages::{MessageStore, NewMessage};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (ann, channel) = (UserId::new(1), ChannelId::new(2));
        let message = |n: u64| NewMessage {
            id: MessageId::new(n),
            channel_id: channel,
            author_id: ann,
            content: format!("m{n}"),
            created_at: n,
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        };
        {
            let store = SqliteStore::open(&path).unwrap();
            crate::backend::sqlite::testutil::user_and_group(&store, ann, channel).await;
            for n in 10..13 {
                store.create_message(message(n)).await.unwrap();
            }
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.channel(channel).await.unwrap().unwrap().offset, 3);
        assert_eq!(store.create_message(message(13)).await.unwrap().1, 4);
    }

    #[test]
    fn migrate_only_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        assert_eq!(
            SqliteStore::migrate_only(&path).unwrap(),
            migrate::MIGRATIONS.len()
        );
        assert_eq!(SqliteStore::migrate_only(&path).unwrap(), 0);
        assert!(SqliteStore::open(&path).is_ok());
    }
}
