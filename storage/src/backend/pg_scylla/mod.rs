//! PostgreSQL+ScyllaDB: the whole [`crate::Store`] for deployments whose message
//! history outgrows one PostgreSQL server (DESIGN.md idea 8). `DATABASE_URL` names the
//! PostgreSQL database, `SCYLLA_URI` the cluster.
//!
//! # Who holds what, and why
//!
//! History (messages, their edit trail, reactions) is the one aggregate that grows
//! without bound and is read as "a slice of one channel": it lives in ScyllaDB
//! ([`crate::backend::scylla`], behind the [`History`] trait). Everything relational
//! stays in PostgreSQL and runs the PostgreSQL backend's own code: users, channels,
//! members, receipts, blocks, mutes, attachments and, above all, every channel's
//! offset, whose row lock orders a channel's writers across nodes. Three questions
//! about messages are relational too: search, unread counts and a channel's last
//! message. They read `message_index` (PostgreSQL migration 0002): one row per message
//! with its channel, author, times, delete mark, has-attachment flag and `tsvector`,
//! no content. Search answers ids there and reads the messages from ScyllaDB; unread
//! counts and the last message are the PostgreSQL backend's statements, which read
//! `message_heads` (both tables).
//!
//! # Writes: reserve, then write ([`events`])
//!
//! A channel event is first decided and reserved in one PostgreSQL transaction that
//! holds its channels' rows locked (the offset, the index row, claimed attachments),
//! then written to ScyllaDB stamped with its offset. A write that fails is not
//! acknowledged (its item answers `Unavailable`) and leaves a gap in the channel's
//! offsets, which clients heal with `resync` (PROTOCOL.md); a sender retries with the
//! same nonce. The one-item methods (`create_message`, `add_reaction`, ...) are
//! batches of one with the one-item contracts mapped onto the outcomes.
//!
//! Each `impl <Aggregate>Store` lives in the file named after its trait's module, as
//! in the other backends; the pure delegations to PostgreSQL are short. A batch's
//! parts: [`locks`] (held across both phases), [`overlay`] and [`step`] (phase 1's
//! decisions), [`index`] (`message_index`), [`writes`] (phase 2).

mod attachments;
mod blocks;
mod channels;
mod events;
pub mod history;
mod index;
mod locks;
mod members;
pub mod memory;
mod messages;
mod mutes;
mod overlay;
mod reactions;
mod receipts;
mod search;
mod session;
mod step;
mod users;
mod writes;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use protocol::{Message, UserId};

pub use self::history::History;
pub use self::memory::MemoryHistory;
use crate::backend::postgres::PostgresStore;
use crate::backend::scylla::{ScyllaHistory, StoredMessage};
use crate::error::{Result, StoreError};
use crate::ops::users::UserStore;
use crate::Store;

/// PostgreSQL for everything but history, a [`History`] (ScyllaDB) for history.
#[derive(Debug, Clone)]
pub struct PgScyllaStore {
    pg: PostgresStore,
    history: Arc<dyn History>,
}

impl PgScyllaStore {
    /// Connects to both, ScyllaDB first (each applies its pending migrations); errors
    /// name the store that failed.
    pub async fn connect(database_url: &str, scylla_uri: &str, keyspace: &str) -> Result<Self> {
        let history = ScyllaHistory::connect(scylla_uri, keyspace).await?;
        let pg = PostgresStore::connect(database_url).await?;
        Ok(Self::new(pg, Arc::new(history)))
    }

    /// The composite of a connected PostgreSQL store and a history.
    pub fn new(pg: PostgresStore, history: Arc<dyn History>) -> Self {
        Self { pg, history }
    }

    /// Applies the pending migrations of both and disconnects (`layer4 migrate`): how
    /// many PostgreSQL and ScyllaDB migrations were applied.
    pub async fn migrate_only(
        database_url: &str,
        scylla_uri: &str,
        keyspace: &str,
    ) -> Result<(usize, usize)> {
        let (_, applied) = ScyllaHistory::connect_migrated(scylla_uri, keyspace).await?;
        let pg = PostgresStore::migrate_only(database_url).await?;
        Ok((pg, applied.len()))
    }

    /// The messages of `stored` as the traits return them: authors resolved with one
    /// read of PostgreSQL.
    pub(crate) async fn with_authors(&self, stored: Vec<StoredMessage>) -> Result<Vec<Message>> {
        let mut ids: Vec<UserId> = stored.iter().map(|m| m.author_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let users: HashMap<UserId, protocol::User> = self
            .pg
            .users(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        stored
            .into_iter()
            .map(|m| {
                let author = users.get(&m.author_id).cloned().ok_or_else(|| {
                    StoreError::Internal(format!(
                        "author {} of message {} is gone",
                        m.author_id, m.id
                    ))
                })?;
                Ok(m.into_message(author))
            })
            .collect()
    }
}

#[async_trait]
impl Store for PgScyllaStore {
    async fn ping(&self) -> Result<()> {
        self.pg.ping().await?;
        self.history.ping().await
    }

    async fn dependencies(&self) -> Vec<(&'static str, Result<()>)> {
        let (pg, history) = tokio::join!(self.pg.ping(), self.history.ping());
        vec![("storage", pg), ("scylla", history)]
    }
}
