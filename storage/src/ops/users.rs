//! Users and their credentials.

use async_trait::async_trait;
use protocol::{User, UserId};

use crate::error::Result;

/// A user to create. The password is already hashed (argon2id PHC string).
#[derive(Debug, Clone)]
pub struct NewUser {
    /// A fresh Snowflake.
    pub id: UserId,
    /// Unique, already validated (`[a-z0-9_.]{3,32}`).
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// ms since the epoch.
    pub created_at: u64,
}

/// Users, in CRUD order.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user. `StoreError::Conflict` when the username is taken.
    async fn create_user(&self, new: NewUser) -> Result<User>;
    /// One user by id (`status` left `None`).
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Several users by id, in no particular order; unknown ids are skipped.
    async fn users(&self, ids: &[UserId]) -> Result<Vec<User>>;
    /// The user and password hash for a login.
    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>>;
    /// Case-insensitive prefix match on the username or on any word of the display
    /// name, ordered by username, at most `limit`.
    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>>;
    /// Number of users (the seed fills only an empty store).
    async fn count_users(&self) -> Result<u64>;
    /// Sets the display name; `None` when the user does not exist.
    async fn update_display_name(&self, id: UserId, display_name: &str) -> Result<Option<User>>;
}
