//! The SQLite backend: the embedded, single-node default.
//!
//! One file (WAL mode) holds everything. rusqlite is synchronous, so every call runs on
//! tokio's blocking pool ([`tokio::task::spawn_blocking`]) and async callers never block
//! the runtime. Writes go through one writer connection in `IMMEDIATE` transactions
//! (SQLite allows one writer at a time anyway, and serialising them in-process avoids
//! busy retries); reads use a small pool of read-only connections, which WAL lets run
//! alongside the writer, so a read never waits for the writer lock. An in-memory store
//! (tests) has only the writer connection.
//!
//! Each `impl <Aggregate>Store for SqliteStore` lives in the file named after its trait's
//! module in [`crate::ops`]; [`rows`] and [`view`] hold the row loaders they share.

mod attachments;
mod blocks;
mod channels;
mod codec;
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
mod users;
mod view;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use self::error::SqlResultExt;
pub use self::migrate::migrate;
use crate::error::{Result, StoreError};
use crate::Store;

/// Read connections opened by [`SqliteStore::open`].
pub const DEFAULT_READERS: usize = 4;

/// How long a connection waits for a lock held by another process before `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection (every query of this backend fits).
const STATEMENT_CACHE: usize = 128;

/// The SQLite store. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Connections>,
}

/// The writer and the readers.
struct Connections {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
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
        let mut writer = open_writer(path)?;
        migrate(&mut writer)?;
        let readers = (0..readers)
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_connections(writer, readers))
    }

    /// A private in-memory database (tests, tools); gone when the store is dropped.
    pub fn open_in_memory() -> Result<Self> {
        let mut writer = Connection::open_in_memory().store()?;
        configure(&writer)?;
        migrate(&mut writer)?;
        Ok(Self::from_connections(writer, Vec::new()))
    }

    /// Applies pending migrations to the file at `path` and closes it (`layer4
    /// migrate`); returns how many were applied.
    pub fn migrate_only(path: &Path) -> Result<usize> {
        let mut writer = open_writer(path)?;
        migrate(&mut writer)
    }

    fn from_connections(writer: Connection, readers: Vec<Mutex<Connection>>) -> Self {
        Self {
            inner: Arc::new(Connections {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }),
        }
    }

    /// Runs `f` in a read transaction (one consistent snapshot) on a reader, off the
    /// async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mut conn = inner.reader();
            let tx = conn.transaction().store()?;
            let out = f(&tx)?;
            tx.commit().store()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` in an `IMMEDIATE` write transaction on the writer, off the async
    /// runtime; commits when `f` succeeds, rolls back when it fails.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let mut conn = inner.writer.lock();
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

impl Connections {
    /// A free reader if there is one, else the next in turn (or the writer when there
    /// are no readers).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let count = self.readers.len();
        if count == 0 {
            return self.writer.lock();
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed) % count;
        for i in 0..count {
            if let Some(guard) = self.readers[(start + i) % count].try_lock() {
                return guard;
            }
        }
        self.readers[start].lock()
    }
}

/// Runs blocking database work on tokio's blocking pool.
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| StoreError::Internal(format!("sqlite task failed: {err}")))?
}

/// Opens the read-write connection, creating the file and its folders.
fn open_writer(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|err| {
            StoreError::Unavailable(format!("cannot create {}: {err}", parent.display()))
        })?;
    }
    let conn = Connection::open(path).store()?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .store()?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "sqlite refused WAL mode; readers will wait for writers"
        );
    }
    configure(&conn)?;
    Ok(conn)
}

/// Opens a read-only connection to a database the writer already set up.
fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).store()?;
    configure(&conn)?;
    Ok(conn)
}

/// Per-connection settings.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).store()?;
    conn.pragma_update(None, "synchronous", "NORMAL").store()?;
    conn.pragma_update(None, "foreign_keys", "ON").store()?;
    conn.pragma_update(None, "temp_store", "MEMORY").store()?;
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

    // Holding the writer lock across the read is the point: the read must not need it.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test]
    async fn reads_do_not_wait_for_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db")).unwrap();
        let writer = store.inner.writer.lock();
        let read = tokio::time::timeout(Duration::from_secs(5), store.ping()).await;
        drop(writer);
        assert!(
            matches!(read, Ok(Ok(()))),
            "a read waited for the writer lock"
        );
    }

    #[tokio::test]
    async fn data_and_offsets_survive_closing_the_file() {
        use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};

        use crate::ops::channels::{ChannelStore, NewChannel};
        use crate::ops::messages::{MessageStore, NewMessage};
        use crate::ops::users::{NewUser, UserStore};

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
            store
                .create_user(NewUser {
                    id: ann,
                    username: "ann".into(),
                    display_name: "Ann".into(),
                    password_hash: "h".into(),
                    created_at: 0,
                })
                .await
                .unwrap();
            store
                .create_channel(NewChannel {
                    id: channel,
                    kind: ChannelKind::Group,
                    name: "g".into(),
                    visibility: Visibility::Private,
                    parent_id: None,
                    root_message_id: None,
                    owner_id: ann,
                    member_ids: Vec::new(),
                    created_at: 0,
                })
                .await
                .unwrap();
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
