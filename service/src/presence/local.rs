//! The per-process part of presence: open sessions per user, the status this process
//! shows for each, and the epochs that keep a stale grace timer from acting.
//!
//! Alone (one process), this is all of presence. In a cluster each change is also
//! handed, in the order it happened, to the writer of [`super::cluster`] as a
//! [`Write`]: it is sent while the lock is held, so two changes of one user can
//! never reach Redis in the other order. This file does no IO and reads no clock.

use std::collections::HashMap;

use parking_lot::Mutex;
use protocol::{UserId, UserStatus};
use tokio::sync::{mpsc, oneshot};

/// The sessions of the users connected to this process.
pub(super) struct Local {
    users: Mutex<HashMap<UserId, Entry>>,
    /// The cluster writer's queue (cluster mode only).
    writes: Option<mpsc::UnboundedSender<Write>>,
}

struct Entry {
    /// Open sessions.
    sessions: u32,
    /// The status this process shows (the newest session's or `SET_STATUS`).
    shown: UserStatus,
    /// Bumped on every change of `sessions`, so a stale grace timer does nothing.
    epoch: u64,
}

/// A change of this process's presence, for the cluster writer.
#[derive(Debug)]
pub(super) enum Write {
    /// This node shows `status` for `user` (a session opened, or `SET_STATUS`).
    Set {
        user: UserId,
        status: UserStatus,
        /// What to publish if Redis cannot be reached: the change as this process
        /// alone sees it, if any.
        fallback: Option<UserStatus>,
        /// Answered once the write is done (or failed).
        done: Option<oneshot::Sender<()>>,
    },
    /// The grace period after this node's last session of `user` passed.
    Remove {
        user: UserId,
        /// `Some(Offline)` if this process alone showed the user.
        fallback: Option<UserStatus>,
    },
    /// Everything this node shows, to put back in Redis after it lost or reaped it.
    Resync(Vec<(UserId, UserStatus)>),
}

impl Local {
    /// An empty table; `writes` is the cluster writer's queue, if any.
    pub(super) fn new(writes: Option<mpsc::UnboundedSender<Write>>) -> Self {
        Self {
            users: Mutex::new(HashMap::new()),
            writes,
        }
    }

    /// Whether changes go to a cluster.
    pub(super) fn clustered(&self) -> bool {
        self.writes.is_some()
    }

    /// A session of `user` opened with `status`; whether the status this process
    /// shows changed. In a cluster the status is always written (the newest session
    /// wins cluster-wide too); `done` is answered when it is.
    pub(super) fn open(
        &self,
        user: UserId,
        status: UserStatus,
        done: Option<oneshot::Sender<()>>,
    ) -> bool {
        let mut users = self.users.lock();
        let entry = users.entry(user).or_insert(Entry {
            sessions: 0,
            shown: UserStatus::Offline,
            epoch: 0,
        });
        entry.sessions += 1;
        entry.epoch += 1;
        let changed = entry.shown != status;
        entry.shown = status;
        self.write(Write::Set {
            user,
            status,
            fallback: changed.then_some(status),
            done,
        });
        changed
    }

    /// `SET_STATUS` for a user with an open session here (ignored otherwise);
    /// whether the status this process shows changed.
    pub(super) fn set(
        &self,
        user: UserId,
        status: UserStatus,
        done: Option<oneshot::Sender<()>>,
    ) -> bool {
        let mut users = self.users.lock();
        let Some(entry) = users.get_mut(&user).filter(|e| e.sessions > 0) else {
            return false;
        };
        let changed = entry.shown != status;
        entry.shown = status;
        self.write(Write::Set {
            user,
            status,
            fallback: changed.then_some(status),
            done,
        });
        changed
    }

    /// A session of `user` closed: the epoch to expire at if it was the last one.
    pub(super) fn close(&self, user: UserId) -> Option<u64> {
        let mut users = self.users.lock();
        let entry = users.get_mut(&user)?;
        entry.sessions = entry.sessions.saturating_sub(1);
        entry.epoch += 1;
        (entry.sessions == 0).then_some(entry.epoch)
    }

    /// The grace period since `epoch` passed: forgets the user unless a session came
    /// back meanwhile. `Some(visible)` when forgotten, `visible` if they were shown
    /// other than offline.
    pub(super) fn expire(&self, user: UserId, epoch: u64) -> Option<bool> {
        let mut users = self.users.lock();
        match users.get(&user) {
            Some(entry) if entry.epoch == epoch && entry.sessions == 0 => {
                let visible = entry.shown != UserStatus::Offline;
                users.remove(&user);
                self.write(Write::Remove {
                    user,
                    fallback: visible.then_some(UserStatus::Offline),
                });
                Some(visible)
            }
            _ => None,
        }
    }

    /// Forgets `user` at once, publishing nothing (no runtime left for a timer).
    pub(super) fn forget(&self, user: UserId) {
        if self.users.lock().remove(&user).is_some() {
            self.write(Write::Remove {
                user,
                fallback: None,
            });
        }
    }

    /// The status this process shows for `user`.
    pub(super) fn shown(&self, user: UserId) -> UserStatus {
        self.users
            .lock()
            .get(&user)
            .map_or(UserStatus::Offline, |entry| entry.shown)
    }

    /// Open sessions of `user` here.
    pub(super) fn sessions(&self, user: UserId) -> u32 {
        self.users
            .lock()
            .get(&user)
            .map_or(0, |entry| entry.sessions)
    }

    /// Queues a [`Write::Resync`] of every user shown here (also those in their
    /// grace period).
    pub(super) fn resync(&self) {
        let users = self.users.lock();
        let all = users.iter().map(|(user, e)| (*user, e.shown)).collect();
        self.write(Write::Resync(all));
    }

    /// Hands `write` to the cluster writer (called with the lock held: in order).
    fn write(&self, write: Write) {
        if let Some(writes) = &self.writes {
            // The writer stops only with the process (or a test killing a node).
            let _ = writes.send(write);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sessions_and_ignores_stale_epochs() {
        let local = Local::new(None);
        let u = UserId::new(1);
        assert!(local.open(u, UserStatus::Online, None));
        assert!(!local.open(u, UserStatus::Online, None));
        assert_eq!(local.close(u), None, "one session left");
        let epoch = local.close(u).unwrap();
        assert!(
            !local.open(u, UserStatus::Online, None),
            "back within grace: no change"
        );
        assert_eq!(local.expire(u, epoch), None, "a stale timer does nothing");
        let epoch = local.close(u).unwrap();
        assert_eq!(local.expire(u, epoch), Some(true));
        assert_eq!(local.shown(u), UserStatus::Offline);
        assert!(!local.set(u, UserStatus::Idle, None), "no session: ignored");
    }

    #[test]
    fn in_a_cluster_every_change_is_queued_in_order() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let local = Local::new(Some(tx));
        let u = UserId::new(1);
        local.open(u, UserStatus::Online, None);
        local.open(u, UserStatus::Online, None);
        local.set(u, UserStatus::Idle, None);
        local.close(u);
        let epoch = local.close(u).unwrap();
        local.expire(u, epoch);
        let mut seen = Vec::new();
        while let Ok(write) = rx.try_recv() {
            seen.push(match write {
                Write::Set {
                    status, fallback, ..
                } => format!("set {} {fallback:?}", status.as_str()),
                Write::Remove { fallback, .. } => format!("remove {fallback:?}"),
                Write::Resync(all) => format!("resync {}", all.len()),
            });
        }
        assert_eq!(
            seen,
            [
                "set online Some(Online)",
                "set online None",
                "set idle Some(Idle)",
                "remove Some(Offline)",
            ]
        );
        local.open(u, UserStatus::Away, None);
        rx.try_recv().unwrap();
        local.resync();
        assert!(
            matches!(rx.try_recv().unwrap(), Write::Resync(all) if all == [(u, UserStatus::Away)])
        );
    }
}
