//! Tokens and the state a gateway session starts from.

use protocol::{Channel, ChannelId, User, UserId};

use crate::auth::jwt;
use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};

impl Chat {
    /// A signed token for `user`, valid for [`crate::ChatConfig::token_ttl_secs`].
    pub fn issue_token(&self, user: UserId) -> Result<String> {
        jwt::issue(
            &self.config().jwt_secret,
            user,
            now_ms() / 1000,
            self.config().token_ttl_secs,
        )
    }

    /// Checks a token's algorithm, signature and expiry without touching storage;
    /// returns the user id it names. `UNAUTHORIZED` otherwise.
    pub fn verify_token(&self, token: &str) -> Result<UserId> {
        jwt::verify(&self.config().jwt_secret, token)
    }

    /// [`Self::verify_token`], and the user must still exist. `UNAUTHORIZED` otherwise.
    pub async fn authenticate(&self, token: &str) -> Result<User> {
        let id = self.verify_token(token)?;
        self.user_by_token_id(id).await
    }

    /// The user a verified token names; `UNAUTHORIZED` when they no longer exist.
    pub async fn user_by_token_id(&self, id: UserId) -> Result<User> {
        self.store()
            .user(id)
            .await?
            .ok_or_else(|| ServiceError::unauthorized("invalid token"))
    }

    /// What `READY` carries: the user, their channels as they see them, and the ids
    /// of the users they blocked, in one read. `UNAUTHORIZED` when the user (named by a
    /// verified token) no longer exists.
    pub async fn ready(&self, user: UserId) -> Result<(User, Vec<Channel>, Vec<UserId>)> {
        let start = self
            .store()
            .session_start(user)
            .await?
            .ok_or_else(|| ServiceError::unauthorized("invalid token"))?;
        Ok((start.user, start.channels, start.blocked))
    }

    /// The subset of `ids` the user is a member of (replay `positions`), in the order
    /// given, without duplicates.
    pub async fn visible_channel_ids(
        &self,
        user: UserId,
        ids: &[ChannelId],
    ) -> Result<Vec<ChannelId>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mine: std::collections::HashSet<ChannelId> = self
            .store()
            .channels_for_user(user)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .iter()
            .copied()
            .filter(|id| mine.contains(id) && seen.insert(*id))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use protocol::{ErrorCode, Visibility};

    use super::*;
    use crate::test_support::Fixture;

    #[tokio::test]
    async fn a_token_for_a_user_that_does_not_exist_is_refused() {
        let f = Fixture::new();
        let token = f.chat.issue_token(UserId::new(404)).unwrap();
        assert_eq!(f.chat.verify_token(&token).unwrap(), UserId::new(404));
        let err = f.chat.authenticate(&token).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthorized);
        assert_eq!(
            f.chat.authenticate("junk").await.unwrap_err().code,
            ErrorCode::Unauthorized
        );
    }

    #[tokio::test]
    async fn ready_lists_channels_and_blocks() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[]).await;
        f.chat.block(a, b).await.unwrap();
        let (me, channels, blocked) = f.chat.ready(a).await.unwrap();
        assert_eq!(me.id, a);
        assert_eq!(channels.iter().map(|c| c.id).collect::<Vec<_>>(), [ch]);
        assert_eq!(blocked, [b]);
        // A verified token of a user that no longer exists.
        assert_eq!(
            f.chat.ready(UserId::new(9)).await.unwrap_err().code,
            ErrorCode::Unauthorized
        );
        assert_eq!(
            f.chat.block(a, a).await.unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            f.chat.block(a, UserId::new(9)).await.unwrap_err().code,
            ErrorCode::NotFound
        );
    }
}
