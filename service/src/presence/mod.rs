//! Presence: who is online.
//!
//! A gateway session calls [`Presence::connect`] after IDENTIFY and keeps the returned
//! [`PresenceGuard`]; dropping it (or [`Presence::disconnect`]) ends that session's
//! presence. A user is shown with the status they chose while at least one session is
//! open, and goes offline [`crate::ChatConfig::presence_grace_ms`] after their last
//! session closed, unless a new session arrives first (so reconnects do not flap).
//! Status `offline` is invisible: connected, but shown offline to everyone. The
//! newest session's status (or the latest `SET_STATUS`) wins.
//!
//! Every change of the shown status is published as `USER_STATUS_CHANGED` to the
//! user's own sessions and to their contacts (users sharing a DM or a channel of at
//! most `large_threshold` members).
//!
//! Two backends behind one API:
//! - [`Presence::new`]: one process. [`local`] counts sessions and runs the grace
//!   timers; a publication carries the status shown when it is sent, so two quick
//!   changes can never leave others with the older one.
//! - [`Presence::cluster`]: many nodes over Redis ([`cluster`]). [`local`] still
//!   counts this node's sessions; each node writes its users' status to Redis, a
//!   change is published once, by the node whose write changed the cluster-wide
//!   status, and reads ([`Presence::statuses`]) are cluster reads. A dead node's
//!   users go offline one TTL after its last heartbeat (published within TTL + TTL/3).
//!   While Redis fails, a node falls back to its own sessions.

mod cluster;
mod local;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use bus::{DynBus, Publication};
use protocol::events::server::StatusChanged;
use protocol::events::ServerEvent;
use protocol::{UserId, UserStatus};
use storage::DynStore;
use tokio::sync::oneshot;

use self::cluster::Cluster;
pub use self::cluster::{ClusterConfig, PresenceError, CALL_TIMEOUT};
use self::local::Local;

/// Presence of the users connected to this process, alone or in a cluster.
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    local: Arc<Local>,
    notifier: Notifier,
    grace: Duration,
    /// Cluster mode: Redis.
    cluster: Option<Cluster>,
}

/// One session's presence; dropping it disconnects the session.
#[must_use = "dropping the guard disconnects the session"]
pub struct PresenceGuard {
    inner: Arc<Inner>,
    user: UserId,
}

impl PresenceGuard {
    /// The session's user.
    pub fn user(&self) -> UserId {
        self.user
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.inner.release(self.user);
    }
}

impl Presence {
    /// Presence of one process, publishing through `bus`, with audiences from `store`.
    pub fn new(store: DynStore, bus: DynBus, large_threshold: u32, grace: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                local: Arc::new(Local::new(None)),
                notifier: Notifier {
                    store,
                    bus,
                    large_threshold,
                },
                grace,
                cluster: None,
            }),
        }
    }

    /// Presence of a cluster node, kept in Redis: connects and registers the node,
    /// and starts its tasks (writer, heartbeat, reaper, publisher) on the current
    /// runtime. Fails with a one-line reason if Redis cannot be reached now; later
    /// failures degrade to this node's own sessions.
    pub async fn cluster(
        store: DynStore,
        bus: DynBus,
        large_threshold: u32,
        grace: Duration,
        config: ClusterConfig,
    ) -> Result<Self, PresenceError> {
        let (writes, queue) = tokio::sync::mpsc::unbounded_channel();
        let local = Arc::new(Local::new(Some(writes)));
        let notifier = Notifier {
            store,
            bus,
            large_threshold,
        };
        let cluster = Cluster::start(config, local.clone(), notifier.clone(), queue).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                notifier,
                grace,
                cluster: Some(cluster),
            }),
        })
    }

    /// A session of `user` opened with `status` (`offline` = invisible). The newest
    /// session's status wins for the user. In a cluster, waits (at most about
    /// [`CALL_TIMEOUT`]) until Redis has it.
    pub async fn connect(&self, user: UserId, status: UserStatus) -> PresenceGuard {
        let guard = PresenceGuard {
            inner: self.inner.clone(),
            user,
        };
        if self.inner.local.clustered() {
            let (done, written) = oneshot::channel();
            self.inner.local.open(user, status, Some(done));
            written_within(written).await;
        } else if self.inner.local.open(user, status, None) {
            self.inner.notify(user).await;
        }
        guard
    }

    /// Ends a session's presence (the same as dropping the guard).
    pub fn disconnect(&self, guard: PresenceGuard) {
        drop(guard);
    }

    /// `SET_STATUS`: the user's chosen status for all their sessions. Ignored for a
    /// user with no open session here.
    pub async fn set_status(&self, user: UserId, status: UserStatus) {
        if self.inner.local.clustered() {
            let (done, written) = oneshot::channel();
            self.inner.local.set(user, status, Some(done));
            written_within(written).await;
        } else if self.inner.local.set(user, status, None) {
            self.inner.notify(user).await;
        }
    }

    /// The status others see for `user`.
    pub async fn status(&self, user: UserId) -> UserStatus {
        self.statuses(&[user])
            .await
            .pop()
            .unwrap_or(UserStatus::Offline)
    }

    /// The status others see for each of `users`, in order: in a cluster one Redis
    /// round trip for all; what this process alone shows if Redis fails.
    pub async fn statuses(&self, users: &[UserId]) -> Vec<UserStatus> {
        if let Some(cluster) = &self.inner.cluster {
            if users.is_empty() {
                return Vec::new();
            }
            if let Some(statuses) = cluster.statuses(users).await {
                return statuses;
            }
        }
        users
            .iter()
            .map(|user| self.inner.local.shown(*user))
            .collect()
    }

    /// Number of open sessions of `user` on this process.
    pub fn sessions(&self, user: UserId) -> u32 {
        self.inner.local.sessions(user)
    }

    /// This node's id in the cluster.
    #[cfg(test)]
    pub(crate) fn node_id(&self) -> Option<&str> {
        self.inner.cluster.as_ref().map(Cluster::id)
    }

    /// Simulates this node dying: its cluster tasks stop (no heartbeat, no writes).
    #[cfg(test)]
    pub(crate) fn halt(&self) {
        if let Some(cluster) = &self.inner.cluster {
            cluster.halt();
        }
    }
}

/// Waits for a cluster write, at most a little over one Redis time box.
async fn written_within(written: oneshot::Receiver<()>) {
    let wait = CALL_TIMEOUT + CALL_TIMEOUT / 5;
    if tokio::time::timeout(wait, written).await.is_err() {
        tracing::debug!("cluster presence: write slower than {wait:?}; not waiting");
    }
}

impl Inner {
    /// Publishes the status this process shows now to the user and their contacts
    /// (one process).
    async fn notify(&self, user: UserId) {
        let audience = self.notifier.audience(user).await;
        let status = self.local.shown(user);
        self.notifier.publish(audience, user, status).await;
    }

    fn release(self: &Arc<Self>, user: UserId) {
        let Some(epoch) = self.local.close(user) else {
            return;
        };
        let inner = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    tokio::time::sleep(inner.grace).await;
                    inner.expire(user, epoch).await;
                });
            }
            // No runtime (process shutting down): forget the user without publishing.
            Err(_) => self.local.forget(user),
        }
    }

    /// The grace period after the last session ended: go offline unless a session
    /// came back meanwhile. In a cluster the writer decides what to publish.
    async fn expire(&self, user: UserId, epoch: u64) {
        let was_visible = self.local.expire(user, epoch);
        if was_visible == Some(true) && !self.local.clustered() {
            self.notify(user).await;
        }
    }
}

/// Publishes `USER_STATUS_CHANGED` (presence has no `Chat`).
#[derive(Clone)]
struct Notifier {
    store: DynStore,
    bus: DynBus,
    large_threshold: u32,
}

impl Notifier {
    /// The user and their contacts.
    async fn audience(&self, user: UserId) -> Vec<UserId> {
        let mut audience = match self.store.contacts(user, self.large_threshold).await {
            Ok(contacts) => contacts,
            Err(err) => {
                tracing::warn!(%user, error = %err, "presence audience unavailable");
                Vec::new()
            }
        };
        audience.push(user);
        audience
    }

    async fn publish(&self, audience: Vec<UserId>, user: UserId, status: UserStatus) {
        let publication = Publication::to_users(
            audience,
            ServerEvent::UserStatusChanged(StatusChanged {
                user_id: user,
                status,
            }),
        );
        // Presence publishes its own status events (it has no Chat).
        #[allow(clippy::disallowed_methods)]
        if let Err(err) = self.bus.publish(vec![publication]).await {
            tracing::warn!(error = %err, "presence not published");
        }
    }
}

#[cfg(test)]
mod cluster_tests;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bus::{LocalBus, Subscription, Target};
    use storage::backend::sqlite::SqliteStore;

    use super::*;

    // Real time with a short grace: storage runs on the blocking pool, which paused
    // time would race past.
    const GRACE: Duration = Duration::from_millis(200);

    fn setup() -> (Presence, Subscription) {
        let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
        let bus = Arc::new(LocalBus::new());
        let rx = bus.watch_all();
        (Presence::new(store, bus, 250, GRACE), rx)
    }

    fn next_status(rx: &mut Subscription) -> Option<(Target, StatusChanged)> {
        let batch = rx.rx.try_recv().ok()?;
        let p = &batch[0];
        match &p.event {
            ServerEvent::UserStatusChanged(s) => Some((p.target.clone(), *s)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn online_then_offline_after_grace() {
        let (presence, mut rx) = setup();
        let u = UserId::new(7);
        let guard = presence.connect(u, UserStatus::Online).await;
        assert_eq!(presence.status(u).await, UserStatus::Online);
        let (target, s) = next_status(&mut rx).unwrap();
        assert_eq!(target, Target::Users(vec![u]));
        assert_eq!(s.status, UserStatus::Online);

        drop(guard);
        tokio::time::sleep(GRACE / 2).await;
        assert_eq!(
            presence.status(u).await,
            UserStatus::Online,
            "still in grace"
        );
        assert!(next_status(&mut rx).is_none());
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u).await, UserStatus::Offline);
        assert_eq!(next_status(&mut rx).unwrap().1.status, UserStatus::Offline);
    }

    #[tokio::test]
    async fn a_reconnect_within_grace_does_not_flap() {
        let (presence, mut rx) = setup();
        let u = UserId::new(7);
        drop(presence.connect(u, UserStatus::Online).await);
        next_status(&mut rx).unwrap();
        tokio::time::sleep(GRACE / 2).await;
        let _again = presence.connect(u, UserStatus::Online).await;
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u).await, UserStatus::Online);
        assert!(
            next_status(&mut rx).is_none(),
            "no offline, no second online"
        );
    }

    #[tokio::test]
    async fn invisible_is_offline_and_set_status_publishes_changes_only() {
        let (presence, mut rx) = setup();
        let u = UserId::new(7);
        let guard = presence.connect(u, UserStatus::Offline).await;
        assert_eq!(presence.status(u).await, UserStatus::Offline);
        assert!(
            next_status(&mut rx).is_none(),
            "invisible: nothing changed for others"
        );
        presence.set_status(u, UserStatus::Idle).await;
        assert_eq!(next_status(&mut rx).unwrap().1.status, UserStatus::Idle);
        presence.set_status(u, UserStatus::Idle).await;
        assert!(next_status(&mut rx).is_none());
        presence.set_status(u, UserStatus::Offline).await;
        assert_eq!(next_status(&mut rx).unwrap().1.status, UserStatus::Offline);
        presence.disconnect(guard);
        tokio::time::sleep(GRACE * 2).await;
        assert!(next_status(&mut rx).is_none(), "was already shown offline");
        assert_eq!(presence.sessions(u), 0);
    }

    #[tokio::test]
    async fn two_sessions_stay_online_until_both_close() {
        let (presence, mut rx) = setup();
        let u = UserId::new(7);
        let a = presence.connect(u, UserStatus::Online).await;
        let b = presence.connect(u, UserStatus::Online).await;
        assert_eq!(presence.sessions(u), 2);
        next_status(&mut rx).unwrap();
        drop(a);
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u).await, UserStatus::Online);
        drop(b);
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u).await, UserStatus::Offline);
    }
}
