//! [`MuteStore`] for PostgreSQL. Expiry is judged when a channel is read
//! ([`super::view`]), so an expired mute needs no cleanup to read as not muted.

use async_trait::async_trait;
use protocol::{ChannelId, UserId};

use super::codec::{id, int};
use super::rows::execute;
use super::PostgresStore;
use crate::error::Result;
use crate::ops::mutes::MuteStore;

#[async_trait]
impl MuteStore for PostgresStore {
    async fn mute(&self, channel: ChannelId, user: UserId, until: Option<u64>) -> Result<()> {
        let client = self.client().await?;
        execute(
            &client,
            "INSERT INTO mutes (channel_id, user_id, until) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, user_id) DO UPDATE SET until = excluded.until",
            &[&id(channel), &id(user), &until.map(int)],
        )
        .await?;
        Ok(())
    }

    async fn unmute(&self, channel: ChannelId, user: UserId) -> Result<()> {
        let client = self.client().await?;
        execute(
            &client,
            "DELETE FROM mutes WHERE channel_id = $1 AND user_id = $2",
            &[&id(channel), &id(user)],
        )
        .await?;
        Ok(())
    }
}
