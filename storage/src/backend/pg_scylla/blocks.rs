//! [`BlockStore`]: blocks live in PostgreSQL.

use async_trait::async_trait;
use protocol::{User, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::blocks::BlockStore;

#[async_trait]
impl BlockStore for PgScyllaStore {
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        self.pg.block(blocker, blocked).await
    }
    async fn blocked_ids(&self, user: UserId) -> Result<Vec<UserId>> {
        self.pg.blocked_ids(user).await
    }
    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>> {
        self.pg.blocked_users(user).await
    }
    async fn blocked_by(&self, user: UserId) -> Result<Vec<UserId>> {
        self.pg.blocked_by(user).await
    }
    async fn is_blocked_either(&self, a: UserId, b: UserId) -> Result<bool> {
        self.pg.is_blocked_either(a, b).await
    }
    async fn blockers_of(&self, user: UserId, candidates: &[UserId]) -> Result<Vec<UserId>> {
        self.pg.blockers_of(user, candidates).await
    }
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<()> {
        self.pg.unblock(blocker, blocked).await
    }
}
