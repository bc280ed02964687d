//! [`UserStore`] for SQLite.
//!
//! User search is a prefix match on the username or on any word of the display name;
//! the words are kept lowercased in `search_name` (`" ada lovelace"`) so the match is
//! one `LIKE` per column, case-insensitive for any script, without a full-text index.

use async_trait::async_trait;
use protocol::{User, UserId};
use rusqlite::OptionalExtension;

use super::codec::{id, id_list, int, like_escape, name_words, new_id};
use super::error::SqlResultExt;
use super::rows::{load_user, user_from};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::users::{NewUser, UserStore};

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        let user_id = new_id(new.id, "id")?;
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO users (id, username, display_name, search_name, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(rusqlite::params![
                    user_id,
                    new.username,
                    new.display_name,
                    name_words(&new.display_name),
                    new.password_hash,
                    int(new.created_at),
                ])
            })
            .map_err(|err| match super::error::map_err(err) {
                StoreError::Conflict(text) if text.contains("username") => {
                    StoreError::Conflict("username: already taken".into())
                }
                other => other,
            })?;
            Ok(User {
                id: new.id,
                username: new.username,
                display_name: new.display_name,
                status: None,
            })
        })
        .await
    }

    async fn user(&self, user: UserId) -> Result<Option<User>> {
        self.read(move |conn| load_user(conn, id(user))).await
    }

    async fn users(&self, ids: &[UserId]) -> Result<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = id_list(ids.iter().copied());
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, username, display_name FROM users \
                 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .and_then(|mut stmt| {
                stmt.query_map([ids], |row| user_from(row, 0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        let username = username.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, username, display_name, password_hash FROM users WHERE username = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([username], |row| Ok((user_from(row, 0)?, row.get(3)?)))
                    .optional()
            })
            .store()
        })
        .await
    }

    async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<User>> {
        let needle = like_escape(&query.trim().to_lowercase());
        let prefix = format!("{needle}%");
        let word_prefix = format!("% {needle}%");
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, username, display_name FROM users \
                 WHERE username LIKE ?1 ESCAPE '\\' OR search_name LIKE ?2 ESCAPE '\\' \
                 ORDER BY username LIMIT ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_map(rusqlite::params![prefix, word_prefix, limit], |row| {
                    user_from(row, 0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn count_users(&self) -> Result<u64> {
        self.read(|conn| {
            conn.prepare_cached("SELECT COUNT(*) FROM users")
                .and_then(|mut stmt| stmt.query_row([], |row| row.get::<_, i64>(0)))
                .map(super::codec::to_u64)
                .store()
        })
        .await
    }

    async fn update_display_name(&self, user: UserId, display_name: &str) -> Result<Option<User>> {
        let display_name = display_name.to_owned();
        self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE users SET display_name = ?2, search_name = ?3 WHERE id = ?1 \
                 RETURNING id, username, display_name",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    rusqlite::params![id(user), display_name, name_words(&display_name)],
                    |row| user_from(row, 0),
                )
                .optional()
            })
            .store()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(id: u64, username: &str, display_name: &str) -> NewUser {
        NewUser {
            id: UserId::new(id),
            username: username.into(),
            display_name: display_name.into(),
            password_hash: "hash".into(),
            created_at: 1,
        }
    }

    #[tokio::test]
    async fn like_wildcards_in_queries_are_literal() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.create_user(new_user(1, "a_b", "X")).await.unwrap();
        store.create_user(new_user(2, "axb", "Y")).await.unwrap();
        let found = store.search_users("a_", 10).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].username, "a_b");
        assert!(store.search_users("%", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unicode_display_names_match_case_insensitively() {
        let store = SqliteStore::open_in_memory().unwrap();
        store
            .create_user(new_user(1, "eve", "Émile Zola"))
            .await
            .unwrap();
        let found = store.search_users("émi", 10).await.unwrap();
        assert_eq!(found.len(), 1);
        let found = store.search_users("ÉMI", 10).await.unwrap();
        assert_eq!(found.len(), 1);
    }

    #[tokio::test]
    async fn oversized_ids_are_refused() {
        let store = SqliteStore::open_in_memory().unwrap();
        let err = store
            .create_user(new_user(u64::MAX, "big", "Big"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
    }
}
