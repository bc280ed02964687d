//! [`BlockStore`] for SQLite: one row per (blocker, blocked); the reverse index serves
//! "who blocked this user".

use async_trait::async_trait;
use protocol::{User, UserId};
use rusqlite::{params, Connection};

use super::codec::{id, id_list, to_id};
use super::error::SqlResultExt;
use super::rows::user_from;
use super::SqliteStore;
use crate::error::Result;
use crate::ops::blocks::BlockStore;

#[async_trait]
impl BlockStore for SqliteStore {
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO blocks (blocker_id, blocked_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )
            .and_then(|mut stmt| stmt.execute([id(blocker), id(blocked)]))
            .store()?;
            Ok(())
        })
        .await
    }

    async fn blocked_ids(&self, user: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| blocked_of(conn, user)).await
    }

    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT u.id, u.username, u.display_name FROM blocks b \
                 JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = ?1 ORDER BY u.username",
            )
            .and_then(|mut stmt| {
                stmt.query_map([id(user)], |row| user_from(row, 0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn blocked_by(&self, user: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT blocker_id FROM blocks WHERE blocked_id = ?1 ORDER BY blocker_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([id(user)], |row| row.get::<_, i64>(0).map(to_id))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn is_blocked_either(&self, a: UserId, b: UserId) -> Result<bool> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2) \
                 OR EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1)",
            )
            .and_then(|mut stmt| stmt.query_row([id(a), id(b)], |row| row.get(0)))
            .store()
        })
        .await
    }

    async fn blockers_of(&self, user: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let candidates = id_list(candidates.iter().copied());
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT blocker_id FROM blocks WHERE blocked_id = ?1 \
                 AND blocker_id IN (SELECT value FROM json_each(?2)) ORDER BY blocker_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![id(user), candidates], |row| {
                    row.get::<_, i64>(0).map(to_id)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")
                .and_then(|mut stmt| stmt.execute([id(blocker), id(blocked)]))
                .store()?;
            Ok(())
        })
        .await
    }
}

/// The ids `user` blocked, ascending.
pub(super) fn blocked_of(conn: &Connection, user: UserId) -> Result<Vec<UserId>> {
    conn.prepare_cached("SELECT blocked_id FROM blocks WHERE blocker_id = ?1 ORDER BY blocked_id")
        .and_then(|mut stmt| {
            stmt.query_map([id(user)], |row| row.get::<_, i64>(0).map(to_id))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .store()
}
