//! Blocks between users. No event: clients reload `GET /api/chat/users/blocked`; the
//! gateway reads blocks when it filters typing, and sending checks them in DMs.

use protocol::{User, UserId};

use crate::chat::Chat;
use crate::error::{Result, ServiceError};

impl Chat {
    /// `user` blocks `target` (idempotent). `BAD_REQUEST` for oneself, `NOT_FOUND` for
    /// an unknown user.
    pub async fn block(&self, user: UserId, target: UserId) -> Result<()> {
        if user == target {
            return Err(ServiceError::bad_request("id", "cannot block yourself"));
        }
        self.existing_user(target).await?;
        Ok(self.store().block(user, target).await?)
    }

    /// Removes a block (idempotent). `NOT_FOUND` for an unknown user.
    pub async fn unblock(&self, user: UserId, target: UserId) -> Result<()> {
        self.existing_user(target).await?;
        Ok(self.store().unblock(user, target).await?)
    }

    /// The users `user` blocked.
    pub async fn blocked_users(&self, user: UserId) -> Result<Vec<User>> {
        Ok(self.store().blocked_users(user).await?)
    }

    /// The user, or `NOT_FOUND`.
    pub(crate) async fn existing_user(&self, id: UserId) -> Result<User> {
        self.store()
            .user(id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user"))
    }
}
