//! [`MuteStore`]: mutes live in PostgreSQL.

use async_trait::async_trait;
use protocol::{ChannelId, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::mutes::MuteStore;

#[async_trait]
impl MuteStore for PgScyllaStore {
    async fn mute(&self, channel: ChannelId, user: UserId, until: Option<u64>) -> Result<()> {
        self.pg.mute(channel, user, until).await
    }
    async fn unmute(&self, channel: ChannelId, user: UserId) -> Result<()> {
        self.pg.unmute(channel, user).await
    }
}
