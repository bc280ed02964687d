//! Blocks between users.

use async_trait::async_trait;
use protocol::{User, UserId};

use crate::error::Result;

/// Blocks, in CRUD order.
#[async_trait]
pub trait BlockStore: Send + Sync {
    /// `blocker` blocks `blocked` (idempotent).
    async fn block(&self, blocker: UserId, blocked: UserId) -> Result<()>;
    /// Ids `user` blocked.
    async fn blocked_ids(&self, user: UserId) -> Result<Vec<UserId>>;
    /// Users `user` blocked.
    async fn blocked_users(&self, user: UserId) -> Result<Vec<User>>;
    /// Ids of the users who blocked `user`: a short list read by the reverse index,
    /// whatever the size of the channels they share (typing leaves them out).
    async fn blocked_by(&self, user: UserId) -> Result<Vec<UserId>>;
    /// Whether either user blocked the other.
    async fn is_blocked_either(&self, a: UserId, b: UserId) -> Result<bool>;
    /// Users among `candidates` who blocked `user` (typing is never sent to them).
    async fn blockers_of(&self, user: UserId, candidates: &[UserId]) -> Result<Vec<UserId>>;
    /// Removes a block (idempotent).
    async fn unblock(&self, blocker: UserId, blocked: UserId) -> Result<()>;
}
