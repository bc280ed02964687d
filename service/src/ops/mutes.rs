//! Channel mutes, per user. A change is sent to the user's own sessions as
//! `CHANNEL_UPDATED` (their view of the channel changed).

use bus::Publication;
use protocol::events::server::ChannelData;
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};

use crate::chat::Chat;
use crate::error::Result;

impl Chat {
    /// Mutes `channel` for `user` until `until` (ms since the epoch), or until unmuted.
    /// Members only.
    pub async fn mute(&self, user: UserId, channel: ChannelId, until: Option<u64>) -> Result<()> {
        self.member(user, channel).await?;
        self.store().mute(channel, user, until).await?;
        self.publish_own_view(user, channel).await
    }

    /// Removes the mute (idempotent). Members only.
    pub async fn unmute(&self, user: UserId, channel: ChannelId) -> Result<()> {
        self.member(user, channel).await?;
        self.store().unmute(channel, user).await?;
        self.publish_own_view(user, channel).await
    }

    async fn publish_own_view(&self, user: UserId, channel: ChannelId) -> Result<()> {
        let view = self.channel_view(channel, user).await?;
        self.bus().publish(Publication::to_users(
            vec![user],
            ServerEvent::ChannelUpdated(Box::new(ChannelData { channel: view })),
        ));
        Ok(())
    }
}
