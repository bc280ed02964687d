//! [`Chat`]: the handle every API handler and gateway session calls.
//!
//! It holds the store, the bus, the config and the state of the rules (message rate
//! limits, typing timers, presence, the Snowflake generator). The
//! operations themselves live in [`crate::ops`], one file per aggregate.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bus::{DynBus, Publication};
use protocol::snowflake::{Snowflake, MAX_WORKER};
use protocol::{ChannelId, User, UserId};
use storage::{DynStore, EventWrite};
use tokio::sync::Semaphore;

use crate::config::ChatConfig;
use crate::error::{Result, ServiceError};
use crate::members_cache::MembersCache;
use crate::presence::Presence;
use crate::ratelimit::RateLimiter;
use crate::sequencer::{self, Committed, Job, Sequencers};
use crate::typing::TypingTimers;

/// The chat operations shared by the API and the gateway. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: DynStore,
    pub(crate) bus: DynBus,
    pub(crate) config: ChatConfig,
    ids: Snowflake,
    pub(crate) sequencers: Sequencers,
    pub(crate) members: Arc<MembersCache>,
    pub(crate) typing: TypingTimers,
    pub(crate) presence: Presence,
    /// Bounds concurrent argon2 computations (memory-hard by design).
    pub(crate) hash_permits: Semaphore,
    /// A hash of a random password, verified against when a login names no user, so
    /// that answer takes as long as a wrong password.
    pub(crate) dummy_hash: tokio::sync::OnceCell<String>,
}

impl Chat {
    /// A chat service over `store` and `bus`, with the presence of this process alone.
    /// A `worker_id` above 1023 is reduced to its low 10 bits (with a warning), as a
    /// Snowflake has room for no more.
    pub fn new(store: DynStore, bus: DynBus, config: ChatConfig) -> Self {
        let presence = Presence::new(
            store.clone(),
            bus.clone(),
            config.large_threshold,
            Duration::from_millis(config.presence_grace_ms),
        );
        Self::with_presence(store, bus, config, presence)
    }

    /// [`Chat::new`] with the given presence backend (cluster mode: [`Presence::cluster`]
    /// over the same store and bus).
    pub fn with_presence(
        store: DynStore,
        bus: DynBus,
        config: ChatConfig,
        presence: Presence,
    ) -> Self {
        if config.worker_id > MAX_WORKER {
            tracing::warn!(
                worker_id = config.worker_id,
                used = config.worker_id & MAX_WORKER,
                "worker id above 1023; using its low 10 bits"
            );
        }
        let ids = generator(config.worker_id);
        let message_limiter = Arc::new(RateLimiter::new(
            config.messages_per_window,
            Duration::from_millis(config.message_window_ms),
            config.rate_limit_max_keys,
        ));
        let members = Arc::new(MembersCache::new());
        let sequencers = Sequencers::new(
            config.sequencers,
            sequencer::worker::maker(
                store.clone(),
                bus.clone(),
                message_limiter,
                config.nonce_window_ms,
                members.clone(),
            ),
        );
        let hash_permits = Semaphore::new(config.max_concurrent_hashes.max(1));
        Self {
            inner: Arc::new(Inner {
                store,
                bus,
                ids,
                sequencers,
                members,
                typing: TypingTimers::new(Duration::from_millis(config.typing_interval_ms)),
                presence,
                hash_permits,
                dummy_hash: tokio::sync::OnceCell::new(),
                config,
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &DynStore {
        &self.inner.store
    }

    /// The bus.
    pub fn bus(&self) -> &DynBus {
        &self.inner.bus
    }

    /// The config.
    pub fn config(&self) -> &ChatConfig {
        &self.inner.config
    }

    /// Presence: this process's sessions, and in a cluster everyone's status.
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    /// A fresh Snowflake id.
    pub fn next_id(&self) -> u64 {
        self.inner.ids.next()
    }

    /// The sequencers: a gateway shard takes the one it is home to and runs it.
    pub fn sequencers(&self) -> &Sequencers {
        &self.inner.sequencers
    }

    /// THE commit function of channel events: `write` goes to its channel's sequencer,
    /// which stores it in a group commit, publishes its event, then answers.
    /// `joined` is the user of an `AddMember`; `rate_key` counts a send against the
    /// message rate limit.
    pub(crate) async fn commit(
        &self,
        write: EventWrite,
        joined: Option<User>,
        rate_key: Option<(UserId, ChannelId)>,
    ) -> Result<Committed> {
        let (reply, answer) = sequencer::reply();
        self.inner
            .sequencers
            .submit(Job {
                write,
                joined,
                rate_key,
                reply,
            })
            .await?;
        answer
            .await
            .map_err(|_| ServiceError::unavailable("the sequencer stopped"))?
    }

    /// THE publish function of everything that is not a channel event (channel list
    /// changes, typing, receipts, presence): no offset, no storage.
    pub(crate) async fn publish(&self, publication: Publication) {
        self.publish_all(vec![publication]).await;
    }

    /// [`Chat::publish`] for several publications made together: one batch, in order.
    pub(crate) async fn publish_all(&self, publications: Vec<Publication>) {
        if publications.is_empty() {
            return;
        }
        // THE publish function (clippy.toml bans the raw call elsewhere).
        #[allow(clippy::disallowed_methods)]
        if let Err(err) = self.inner.bus.publish(publications).await {
            tracing::warn!(error = %err, "event not published");
        }
    }
}

/// A generator for the low 10 bits of `worker` (worker 0 if even that were refused).
fn generator(worker: u16) -> Snowflake {
    match Snowflake::new(worker & MAX_WORKER) {
        Ok(ids) => ids,
        Err(_) => generator(0),
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
