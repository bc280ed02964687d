//! The PostgreSQL backend: several nodes, one database.
//!
//! A pool of connections ([`deadpool_postgres`], statements prepared once per
//! connection with `prepare_cached`) serves every call; each call takes a connection for
//! the length of one transaction and gives it back. Reads are single statements or
//! read-only transactions; every write is one transaction, committed before the call
//! returns, so an `Ok` is durable.
//!
//! **Offsets.** A channel event raises `channels.event_offset` in the same transaction
//! that writes its rows (`UPDATE channels ... RETURNING event_offset`), so the row lock
//! taken by that update orders the writers of one channel, whichever node they run on:
//! a second batch waits for the first to commit and continues from its offset. A batch
//! locks all its channels up front, in id order, so two batches that share channels
//! cannot deadlock ([`events`]).
//!
//! **Failure.** A database that goes away makes calls fail with
//! [`crate::StoreError::Unavailable`] (503) within the pool's timeouts rather than
//! hang; the pool drops closed connections when they come back and opens new ones, so
//! the store recovers by itself when the database returns.
//!
//! **A separate history store.** [`events`] keeps the reservation of offsets (the
//! channel row update) apart from the writing of the message rows, so that the
//! PostgreSQL+ScyllaDB backend (`super::pg_scylla`) keeps offsets here and writes
//! history rows there (DESIGN.md idea 8), reusing these functions (`pub(crate)`).
//!
//! Each `impl <Aggregate>Store for PostgresStore` lives in the file named after its
//! trait's module in [`crate::ops`], as in the SQLite backend; [`rows`] and [`view`]
//! hold the row loaders they share, [`config`] the URL forms.

pub(crate) mod attachments;
pub(crate) mod blocks;
pub(crate) mod bulk;
pub(crate) mod channels;
pub(crate) mod codec;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod members;
pub(crate) mod messages;
pub(crate) mod migrate;
pub(crate) mod mutes;
pub(crate) mod reactions;
pub(crate) mod receipts;
pub(crate) mod rows;
pub(crate) mod search;
mod session;
pub(crate) mod users;
pub(crate) mod view;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

pub use self::config::{PostgresConfig, DEFAULT_POOL_SIZE};
use self::error::{pool_err, PgResultExt};
use crate::error::{Result, StoreError};
use crate::Store;

/// The PostgreSQL store. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStore")
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database of `url` (see [`PostgresConfig::parse`]), applies
    /// pending migrations, and keeps a pool of connections.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(PostgresConfig::parse(url)?).await
    }

    /// [`PostgresStore::connect`] with a parsed configuration.
    pub async fn open(config: PostgresConfig) -> Result<Self> {
        let store = Self::pool_only(&config)?;
        let mut client = store.client().await?;
        migrate::migrate(&mut client, config.schema()).await?;
        drop(client);
        Ok(store)
    }

    /// Applies pending migrations to the database of `url` and closes the connection
    /// (`layer4 migrate`); returns how many were applied.
    pub async fn migrate_only(url: &str) -> Result<usize> {
        let config = PostgresConfig::parse(url)?;
        let store = Self::pool_only(&config)?;
        let mut client = store.client().await?;
        migrate::migrate(&mut client, config.schema()).await
    }

    /// The pool, without touching the database yet.
    fn pool_only(config: &PostgresConfig) -> Result<Self> {
        let manager = Manager::from_config(
            config.connection().clone(),
            NoTls,
            ManagerConfig {
                // A closed connection (the server restarted) is dropped when it comes
                // back to the pool; a broken one that looks open fails its next call
                // with `Unavailable` and is dropped then.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = Some(config.timeout());
        let pool = Pool::builder(manager)
            .max_size(config.pool_size())
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|err| StoreError::Internal(format!("postgres pool: {err}")))?;
        Ok(Self { pool })
    }

    /// A connection from the pool; `Unavailable` when none can be had in time.
    pub(crate) async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_err)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<()> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.pg()?;
        Ok(())
    }
}
