//! [`UserStore`] for PostgreSQL.
//!
//! Usernames are unique whatever their case (`users_username` on `lower(username)`).
//! User search is a prefix match on the username or on any word of the display name;
//! the words are kept lowercased in `search_name` (`" ada lovelace"`), so the match is
//! one `LIKE` per column, as in the SQLite backend.

use async_trait::async_trait;
use protocol::{User, UserId};

use super::codec::{get, id, int, like_escape, name_words, new_id, to_u64};
use super::rows::{execute, load_user, query, query_one, query_opt, user_from};
use super::PostgresStore;
use crate::error::Result;
use crate::ops::users::{NewUser, UserStore};

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        let user_id = new_id(new.id, "id")?;
        let client = self.client().await?;
        execute(
            &client,
            "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &user_id,
                &new.username,
                &new.display_name,
                &name_words(&new.display_name),
                &new.password_hash,
                &int(new.created_at),
            ],
        )
        .await?;
        Ok(User {
            id: new.id,
            username: new.username,
            display_name: new.display_name,
            status: None,
        })
    }

    async fn user(&self, user: UserId) -> Result<Option<User>> {
        let client = self.client().await?;
        load_user(&client, id(user)).await
    }

    async fn users(&self, ids: &[UserId]) -> Result<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|&user| id(user)).collect();
        let client = self.client().await?;
        query(
            &client,
            "SELECT id, username, display_name FROM users WHERE id = ANY($1)",
            &[&ids],
        )
        .await?
        .iter()
        .map(|row| user_from(row, 0))
        .collect()
    }

    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        let client = self.client().await?;
        query_opt(
            &client,
            "SELECT id, username, display_name, password_hash FROM users \
             WHERE lower(username) = lower($1)",
            &[&username],
        )
        .await?
        .map(|row| Ok((user_from(&row, 0)?, get(&row, 3)?)))
        .transpose()
    }

    async fn search_users(&self, query_text: &str, limit: u32) -> Result<Vec<User>> {
        let needle = like_escape(&query_text.trim().to_lowercase());
        let prefix = format!("{needle}%");
        let word_prefix = format!("% {needle}%");
        let client = self.client().await?;
        query(
            &client,
            "SELECT id, username, display_name FROM users \
             WHERE lower(username) LIKE $1 ESCAPE '\\' OR search_name LIKE $2 ESCAPE '\\' \
             ORDER BY username COLLATE \"C\" LIMIT $3",
            &[&prefix, &word_prefix, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(|row| user_from(row, 0))
        .collect()
    }

    async fn count_users(&self) -> Result<u64> {
        let client = self.client().await?;
        let row = query_one(&client, "SELECT COUNT(*) FROM users", &[]).await?;
        Ok(to_u64(get(&row, 0)?))
    }

    async fn update_display_name(&self, user: UserId, display_name: &str) -> Result<Option<User>> {
        let client = self.client().await?;
        query_opt(
            &client,
            "UPDATE users SET display_name = $2, search_name = $3 WHERE id = $1 \
             RETURNING id, username, display_name",
            &[&id(user), &display_name, &name_words(display_name)],
        )
        .await?
        .map(|row| user_from(&row, 0))
        .transpose()
    }
}
