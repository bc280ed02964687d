//! Accounts: register, login, the caller's profile, user search.

use protocol::{User, UserId};
use storage::{NewUser, StoreError};

use crate::auth::password;
use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};
use crate::validate;

/// A user with a fresh token (register and login answer this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSession {
    /// The user.
    pub user: User,
    /// Their token.
    pub token: String,
}

impl Chat {
    /// Creates an account and signs a token for it. The display name defaults to the
    /// username. `CONFLICT` when the username is taken.
    pub async fn register(
        &self,
        username: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<AuthSession> {
        validate::username(username)?;
        validate::password(password)?;
        let display_name = match display_name {
            Some(name) => validate::display_name(name)?,
            None => username.to_owned(),
        };
        let password_hash = self.hash_password(password).await?;
        let user = self
            .store()
            .create_user(NewUser {
                id: UserId::new(self.next_id()),
                username: username.to_owned(),
                display_name,
                password_hash,
                created_at: now_ms(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ServiceError::conflict("username: already taken"),
                other => other.into(),
            })?;
        let token = self.issue_token(user.id)?;
        Ok(AuthSession { user, token })
    }

    /// Checks a username and password; `UNAUTHORIZED` for an unknown user or a wrong
    /// password alike (and both take as long, so the answer does not tell which).
    pub async fn login(&self, username: &str, password: &str) -> Result<AuthSession> {
        let bad = || ServiceError::unauthorized("invalid username or password");
        if password.is_empty() || password.chars().count() > validate::PASSWORD_MAX_CHARS {
            return Err(bad());
        }
        let username = username.to_ascii_lowercase();
        let found = if username.len() <= validate::USERNAME_MAX_BYTES {
            self.store().credentials(&username).await?
        } else {
            None
        };
        let (user, hash) = match found {
            Some(found) => found,
            None => {
                let dummy = self.dummy_hash().await?;
                self.verify_password(password, dummy).await?;
                return Err(bad());
            }
        };
        if !self.verify_password(password, hash).await? {
            return Err(bad());
        }
        let token = self.issue_token(user.id)?;
        Ok(AuthSession { user, token })
    }

    /// The caller, with their presence status.
    pub async fn me(&self, user: UserId) -> Result<User> {
        let mut me = self
            .store()
            .user(user)
            .await?
            .ok_or_else(|| ServiceError::unauthorized("invalid token"))?;
        me.status = Some(self.presence().status(user).await);
        Ok(me)
    }

    /// Changes the caller's display name (when given); answers the caller.
    pub async fn update_me(&self, user: UserId, display_name: Option<&str>) -> Result<User> {
        if let Some(name) = display_name {
            let name = validate::display_name(name)?;
            self.store()
                .update_display_name(user, &name)
                .await?
                .ok_or_else(|| ServiceError::unauthorized("invalid token"))?;
        }
        self.me(user).await
    }

    /// Users whose username, or any word of whose display name, starts with `query`
    /// (case-insensitive), by username. A blank query finds nobody (no enumeration).
    pub async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>> {
        validate::limit(limit)?;
        let query = validate::search_query(query)?;
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut users = self.store().search_users(&query, limit).await?;
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let statuses = self.presence().statuses(&ids).await;
        for (user, status) in users.iter_mut().zip(statuses) {
            user.status = Some(status);
        }
        Ok(users)
    }

    async fn hash_password(&self, plain: &str) -> Result<String> {
        let _permit = self
            .inner
            .hash_permits
            .acquire()
            .await
            .map_err(|e| ServiceError::internal(format!("hash permits: {e}")))?;
        password::hash(plain.to_owned(), self.config().password).await
    }

    async fn verify_password(&self, plain: &str, hash: String) -> Result<bool> {
        let _permit = self
            .inner
            .hash_permits
            .acquire()
            .await
            .map_err(|e| ServiceError::internal(format!("hash permits: {e}")))?;
        password::verify(plain.to_owned(), hash).await
    }

    async fn dummy_hash(&self) -> Result<String> {
        let params = self.config().password;
        self.inner
            .dummy_hash
            .get_or_try_init(|| async move {
                password::hash(format!("dummy-{}", rand::random::<u64>()), params).await
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use protocol::ErrorCode;

    use crate::test_support::Fixture;

    #[tokio::test]
    async fn register_then_login_with_tokens_that_authenticate() {
        let f = Fixture::new();
        let reg = f
            .chat
            .register("ada", "correct horse", Some(" Ada L "))
            .await
            .unwrap();
        assert_eq!(
            (reg.user.username.as_str(), reg.user.display_name.as_str()),
            ("ada", "Ada L")
        );
        assert_eq!(
            f.chat.authenticate(&reg.token).await.unwrap().id,
            reg.user.id
        );
        let login = f.chat.login("ada", "correct horse").await.unwrap();
        assert_eq!(login.user.id, reg.user.id);
        assert_eq!(
            f.chat.authenticate(&login.token).await.unwrap().id,
            reg.user.id
        );
        let plain = f.chat.register("bob", "12345678", None).await.unwrap();
        assert_eq!(plain.user.display_name, "bob");
    }

    #[tokio::test]
    async fn register_rules() {
        let f = Fixture::new();
        for (name, password, field) in [
            ("Ada", "12345678", "username"),
            ("ab", "12345678", "username"),
            ("ada", "short", "password"),
        ] {
            let err = f.chat.register(name, password, None).await.unwrap_err();
            assert_eq!(err.code, ErrorCode::BadRequest);
            assert!(err.message.starts_with(field), "{}", err.message);
        }
        let err = f
            .chat
            .register("ada", "12345678", Some("  "))
            .await
            .unwrap_err();
        assert!(err.message.starts_with("display_name"));
        f.chat.register("ada", "12345678", None).await.unwrap();
        let err = f.chat.register("ada", "87654321", None).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict);
    }

    #[tokio::test]
    async fn login_failures_are_all_unauthorized() {
        let f = Fixture::new();
        f.chat.register("ada", "12345678", None).await.unwrap();
        for (name, password) in [
            ("ada", "wrong pass"),
            ("nobody", "12345678"),
            ("ada", ""),
            (&"x".repeat(300) as &str, "12345678"),
        ] {
            let err = f.chat.login(name, password).await.unwrap_err();
            assert_eq!(err.code, ErrorCode::Unauthorized, "{name}");
        }
        assert!(
            f.chat.login("ADA", "12345678").await.is_ok(),
            "usernames are lowercase"
        );
    }

    #[tokio::test]
    async fn profile_and_search() {
        let f = Fixture::new();
        let ada = f
            .chat
            .register("ada", "12345678", Some("Ada Lovelace"))
            .await
            .unwrap();
        f.chat.register("bob", "12345678", None).await.unwrap();
        let me = f
            .chat
            .update_me(ada.user.id, Some("Countess"))
            .await
            .unwrap();
        assert_eq!(me.display_name, "Countess");
        assert_eq!(me.status, Some(protocol::UserStatus::Offline));
        let found = f.chat.search_users("COU", 10).await.unwrap();
        assert_eq!(
            found
                .iter()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>(),
            ["ada"]
        );
        assert!(f.chat.search_users("  ", 10).await.unwrap().is_empty());
        assert_eq!(
            f.chat.search_users("a", 0).await.unwrap_err().code,
            ErrorCode::BadRequest
        );
    }
}
