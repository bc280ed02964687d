//! [`UserStore`]: users live in PostgreSQL.

use async_trait::async_trait;
use protocol::{User, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::users::{NewUser, UserStore};

#[async_trait]
impl UserStore for PgScyllaStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        self.pg.create_user(new).await
    }
    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.pg.user(id).await
    }
    async fn users(&self, ids: &[UserId]) -> Result<Vec<User>> {
        self.pg.users(ids).await
    }
    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        self.pg.credentials(username).await
    }
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>> {
        self.pg.search_users(query, limit).await
    }
    async fn count_users(&self) -> Result<u64> {
        self.pg.count_users().await
    }
    async fn update_display_name(&self, id: UserId, display_name: &str) -> Result<Option<User>> {
        self.pg.update_display_name(id, display_name).await
    }
}
