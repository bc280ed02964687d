//! [`BlockStore`] for PostgreSQL: one row per (blocker, blocked); the reverse index
//! (`blocks_blocked`) serves "who blocked this user".

use async_trait::async_trait;
use protocol::{User, UserId};

use super::codec::{get, id, to_id};
use super::rows::{column, execute, query, query_one, user_from};
use super::PostgresStore;
use crate::error::Result;
use crate::ops::blocks::BlockStore;

#[async_trait]
impl BlockStore for PostgresStore {
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        let client = self.client().await?;
        execute(
            &client,
            "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id(blocker), &id(blocked)],
        )
        .await?;
        Ok(())
    }

    async fn blocked_ids(&self, user: UserId) -> Result<Vec<UserId>> {
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT blocked_id FROM blocks WHERE blocker_id = $1 ORDER BY blocked_id",
            &[&id(user)],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>> {
        let client = self.client().await?;
        query(
            &client,
            "SELECT u.id, u.username, u.display_name FROM blocks b \
             JOIN users u ON u.id = b.blocked_id WHERE b.blocker_id = $1 \
             ORDER BY u.username COLLATE \"C\"",
            &[&id(user)],
        )
        .await?
        .iter()
        .map(|row| user_from(row, 0))
        .collect()
    }

    async fn blocked_by(&self, user: UserId) -> Result<Vec<UserId>> {
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT blocker_id FROM blocks WHERE blocked_id = $1 ORDER BY blocker_id",
            &[&id(user)],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn is_blocked_either(&self, a: UserId, b: UserId) -> Result<bool> {
        let client = self.client().await?;
        let row = query_one(
            &client,
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2) \
             OR EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $2 AND blocked_id = $1)",
            &[&id(a), &id(b)],
        )
        .await?;
        get(&row, 0)
    }

    async fn blockers_of(&self, user: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let candidates: Vec<i64> = candidates.iter().map(|&c| id(c)).collect();
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT blocker_id FROM blocks WHERE blocked_id = $1 AND blocker_id = ANY($2) \
             ORDER BY blocker_id",
            &[&id(user), &candidates],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        let client = self.client().await?;
        execute(
            &client,
            "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
            &[&id(blocker), &id(blocked)],
        )
        .await?;
        Ok(())
    }
}
