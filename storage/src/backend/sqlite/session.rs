//! [`SessionStore`] for SQLite: the user, their channels and their blocks in one read
//! transaction on one reader, so IDENTIFY costs one trip to a reader thread, not three.

use async_trait::async_trait;
use protocol::UserId;

use super::blocks::blocked_of;
use super::channels::channels_of;
use super::codec::id;
use super::rows::load_user;
use super::SqliteStore;
use crate::error::Result;
use crate::ops::session::{SessionStart, SessionStore};

#[async_trait]
impl SessionStore for SqliteStore {
    async fn session_start(&self, user: UserId) -> Result<Option<SessionStart>> {
        self.read(move |conn| {
            let Some(found) = load_user(conn, id(user))? else {
                return Ok(None);
            };
            Ok(Some(SessionStart {
                user: found,
                channels: channels_of(conn, user)?,
                blocked: blocked_of(conn, user)?,
            }))
        })
        .await
    }
}
