//! Channel mutes, per user. A change is sent to the user's own sessions as
//! `CHANNEL_UPDATED` (their view of the channel changed).

use bus::Publication;
use protocol::events::server::ChannelData;
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};

use crate::chat::Chat;
use crate::error::{Result, ServiceError};

/// The latest mute end, ms since the epoch: the largest signed 64-bit integer, as
/// storage keeps it (and as the OpenAPI document's `int64` says).
pub const MUTE_UNTIL_MAX: u64 = i64::MAX.unsigned_abs();

impl Chat {
    /// Mutes `channel` for `user` until `until` (ms since the epoch, at most
    /// [`MUTE_UNTIL_MAX`]), or until unmuted. Members only.
    pub async fn mute(&self, user: UserId, channel: ChannelId, until: Option<u64>) -> Result<()> {
        if until.is_some_and(|until| until > MUTE_UNTIL_MAX) {
            return Err(ServiceError::bad_request(
                "until",
                format!("must be at most {MUTE_UNTIL_MAX}"),
            ));
        }
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
        self.publish(Publication::to_users(
            vec![user],
            ServerEvent::ChannelUpdated(Box::new(ChannelData { channel: view })),
        ))
        .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use protocol::{ErrorCode, Visibility};

    use super::*;
    use crate::test_support::Fixture;

    #[tokio::test]
    async fn until_fits_storage() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        let err = f
            .chat
            .mute(a, ch, Some(MUTE_UNTIL_MAX + 1))
            .await
            .unwrap_err();
        assert_eq!(
            (err.code, err.message.starts_with("until: ")),
            (ErrorCode::BadRequest, true)
        );
        f.chat.mute(a, ch, Some(MUTE_UNTIL_MAX)).await.unwrap();
        let view = f.chat.channel(a, ch).await.unwrap();
        assert_eq!((view.muted, view.muted_until), (true, Some(MUTE_UNTIL_MAX)));
    }
}
