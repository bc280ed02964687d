//! [`MuteStore`] for SQLite. Expiry is judged when a channel is read
//! ([`super::view`]), so an expired mute needs no cleanup to read as not muted.

use async_trait::async_trait;
use protocol::{ChannelId, UserId};
use rusqlite::params;

use super::codec::{id, int};
use super::error::SqlResultExt;
use super::SqliteStore;
use crate::error::Result;
use crate::ops::mutes::MuteStore;

#[async_trait]
impl MuteStore for SqliteStore {
    async fn mute(&self, channel: ChannelId, user: UserId, until: Option<u64>) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO mutes (channel_id, user_id, until) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (channel_id, user_id) DO UPDATE SET until = excluded.until",
            )
            .and_then(|mut stmt| stmt.execute(params![id(channel), id(user), until.map(int)]))
            .store()?;
            Ok(())
        })
        .await
    }

    async fn unmute(&self, channel: ChannelId, user: UserId) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM mutes WHERE channel_id = ?1 AND user_id = ?2")
                .and_then(|mut stmt| stmt.execute([id(channel), id(user)]))
                .store()?;
            Ok(())
        })
        .await
    }
}
