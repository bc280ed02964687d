//! Presence: who is online, in memory on this process.
//!
//! A gateway session calls [`Presence::connect`] after IDENTIFY and keeps the returned
//! [`PresenceGuard`]; dropping it (or [`Presence::disconnect`]) ends that session's
//! presence. A user is shown with the status they chose while at least one session is
//! open, and goes offline [`crate::ChatConfig::presence_grace_ms`] after their last
//! session closed, unless a new session arrives first (so reconnects do not flap).
//! Status `offline` is invisible: connected, but shown offline to everyone.
//!
//! Every change of the shown status is published as `USER_STATUS_CHANGED` to the
//! user's own sessions and to their contacts (users sharing a DM or a channel of at
//! most `large_threshold` members). The publication carries the status shown when it
//! is sent, so two quick changes can never leave others with the older one.
//!
//! Not here: cluster-wide presence (Redis with TTLs) comes with the cluster issue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bus::{DynBus, Publication};
use parking_lot::Mutex;
use protocol::events::server::StatusChanged;
use protocol::events::ServerEvent;
use protocol::{UserId, UserStatus};
use storage::DynStore;

/// In-memory presence of the users connected to this process.
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    store: DynStore,
    bus: DynBus,
    large_threshold: u32,
    grace: Duration,
    users: Mutex<HashMap<UserId, Entry>>,
}

struct Entry {
    /// Open sessions.
    sessions: u32,
    /// The status shown to others.
    shown: UserStatus,
    /// Bumped on every change of `sessions`, so a stale grace timer does nothing.
    epoch: u64,
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
    /// Presence publishing through `bus`, with audiences from `store`.
    pub fn new(store: DynStore, bus: DynBus, large_threshold: u32, grace: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                bus,
                large_threshold,
                grace,
                users: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A session of `user` opened with `status` (`offline` = invisible). The newest
    /// session's status wins for the user.
    pub async fn connect(&self, user: UserId, status: UserStatus) -> PresenceGuard {
        let changed = {
            let mut users = self.inner.users.lock();
            let entry = users.entry(user).or_insert(Entry {
                sessions: 0,
                shown: UserStatus::Offline,
                epoch: 0,
            });
            entry.sessions += 1;
            entry.epoch += 1;
            let changed = entry.shown != status;
            entry.shown = status;
            changed
        };
        if changed {
            self.inner.notify(user).await;
        }
        PresenceGuard {
            inner: self.inner.clone(),
            user,
        }
    }

    /// Ends a session's presence (the same as dropping the guard).
    pub fn disconnect(&self, guard: PresenceGuard) {
        drop(guard);
    }

    /// `SET_STATUS`: the user's chosen status for all their sessions. Ignored for a
    /// user with no open session here.
    pub async fn set_status(&self, user: UserId, status: UserStatus) {
        let changed = {
            let mut users = self.inner.users.lock();
            match users.get_mut(&user) {
                Some(entry) if entry.sessions > 0 && entry.shown != status => {
                    entry.shown = status;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.inner.notify(user).await;
        }
    }

    /// The status others see for `user`.
    pub fn status(&self, user: UserId) -> UserStatus {
        self.inner.shown(user)
    }

    /// Number of open sessions of `user` on this process.
    pub fn sessions(&self, user: UserId) -> u32 {
        self.inner
            .users
            .lock()
            .get(&user)
            .map_or(0, |entry| entry.sessions)
    }
}

impl Inner {
    fn shown(&self, user: UserId) -> UserStatus {
        self.users
            .lock()
            .get(&user)
            .map_or(UserStatus::Offline, |entry| entry.shown)
    }

    /// Publishes the status shown now to the user and their contacts.
    async fn notify(&self, user: UserId) {
        let mut audience = match self.store.contacts(user, self.large_threshold).await {
            Ok(contacts) => contacts,
            Err(err) => {
                tracing::warn!(%user, error = %err, "presence audience unavailable");
                Vec::new()
            }
        };
        audience.push(user);
        let status = self.shown(user);
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

    fn release(self: &Arc<Self>, user: UserId) {
        let epoch = {
            let mut users = self.users.lock();
            let Some(entry) = users.get_mut(&user) else {
                return;
            };
            entry.sessions = entry.sessions.saturating_sub(1);
            entry.epoch += 1;
            if entry.sessions > 0 {
                return;
            }
            entry.epoch
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
            Err(_) => {
                inner.users.lock().remove(&user);
            }
        }
    }

    /// The grace period after the last session ended: go offline unless a session
    /// came back meanwhile.
    async fn expire(&self, user: UserId, epoch: u64) {
        let was_visible = {
            let mut users = self.users.lock();
            match users.get(&user) {
                Some(entry) if entry.epoch == epoch && entry.sessions == 0 => {
                    let visible = entry.shown != UserStatus::Offline;
                    users.remove(&user);
                    visible
                }
                _ => return,
            }
        };
        if was_visible {
            self.notify(user).await;
        }
    }
}

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
        assert_eq!(presence.status(u), UserStatus::Online);
        let (target, s) = next_status(&mut rx).unwrap();
        assert_eq!(target, Target::Users(vec![u]));
        assert_eq!(s.status, UserStatus::Online);

        drop(guard);
        tokio::time::sleep(GRACE / 2).await;
        assert_eq!(presence.status(u), UserStatus::Online, "still in grace");
        assert!(next_status(&mut rx).is_none());
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u), UserStatus::Offline);
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
        assert_eq!(presence.status(u), UserStatus::Online);
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
        assert_eq!(presence.status(u), UserStatus::Offline);
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
        assert_eq!(presence.status(u), UserStatus::Online);
        drop(b);
        tokio::time::sleep(GRACE * 2).await;
        assert_eq!(presence.status(u), UserStatus::Offline);
    }
}
