//! Typing indicators: ephemeral, to the channel's other members except those who
//! blocked the typist; a start expires after [`crate::ChatConfig::typing_ttl_ms`].

use std::time::Duration;

use bus::Publication;
use protocol::events::server::ChannelUser;
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};
use tokio::time::Instant;

use crate::chat::Chat;
use crate::error::Result;
use crate::typing::Wake;

impl Chat {
    /// `START_TYPING` (`started`) or `STOP_TYPING`: members only. A start publishes
    /// `TYPING_STARTED` and (re)arms the expiry, which publishes `TYPING_STOPPED`
    /// unless the user stops or starts again first. A stop always publishes
    /// `TYPING_STOPPED` (another node may hold the start).
    pub async fn typing(&self, user: UserId, channel: ChannelId, started: bool) -> Result<()> {
        self.member(user, channel).await?;
        let key = (user, channel);
        if started {
            let deadline = Instant::now() + Duration::from_millis(self.config().typing_ttl_ms);
            let spawn_timer = self.inner.typing.start(key, deadline);
            self.publish_typing(user, channel, true).await?;
            if spawn_timer {
                let chat = self.clone();
                tokio::spawn(async move { chat.typing_timer(key, deadline).await });
            }
        } else {
            self.inner.typing.stop(key);
            self.publish_typing(user, channel, false).await?;
        }
        Ok(())
    }

    async fn typing_timer(self, key: (UserId, ChannelId), mut deadline: Instant) {
        loop {
            tokio::time::sleep_until(deadline).await;
            match self.inner.typing.wake(key, Instant::now()) {
                Wake::Gone => return,
                Wake::SleepUntil(next) => deadline = next,
                Wake::Expired => {
                    if let Err(err) = self.publish_typing(key.0, key.1, false).await {
                        tracing::warn!(error = %err, "typing expiry not published");
                    }
                    return;
                }
            }
        }
    }

    async fn publish_typing(&self, user: UserId, channel: ChannelId, started: bool) -> Result<()> {
        let members = self.store().member_ids(channel).await?;
        let mut except = self.store().blockers_of(user, &members).await?;
        except.push(user);
        let data = ChannelUser {
            channel_id: channel,
            user_id: user,
        };
        let event = if started {
            ServerEvent::TypingStarted(data)
        } else {
            ServerEvent::TypingStopped(data)
        };
        self.publish(Publication::ephemeral(channel, except, event))
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::{ErrorCode, Visibility};

    use super::*;
    use crate::test_support::{config, Fixture};

    #[tokio::test]
    async fn typing_skips_the_typist_and_those_who_blocked_them() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let ch = f.group(a, Visibility::Private, &[b, c]).await;
        f.chat.block(c, a).await.unwrap();
        f.chat.typing(a, ch, true).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1);
        let Target::Channel { channel, except } = &published[0].target else {
            panic!("channel target expected");
        };
        assert_eq!(*channel, ch);
        assert!(except.contains(&a) && except.contains(&c) && !except.contains(&b));
        assert_eq!(published[0].offset, None, "typing is ephemeral");
        assert!(matches!(published[0].event, ServerEvent::TypingStarted(_)));
        f.chat.typing(a, ch, false).await.unwrap();
        assert!(matches!(f.drain()[0].event, ServerEvent::TypingStopped(_)));
    }

    #[tokio::test]
    async fn typing_expires_unless_refreshed() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            typing_ttl_ms: 300,
            ..config()
        });
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        f.chat.typing(a, ch, true).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        f.chat.typing(a, ch, true).await.unwrap(); // refresh
        assert_eq!(f.drain().len(), 2);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(f.drain().is_empty(), "refreshed: not expired at 400 ms");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let published = f.drain();
        assert_eq!(published.len(), 1);
        assert!(matches!(published[0].event, ServerEvent::TypingStopped(_)));
        assert_eq!(f.chat.inner.typing.len(), 0);
    }

    #[tokio::test]
    async fn a_stop_cancels_the_expiry() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            typing_ttl_ms: 100,
            ..config()
        });
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        f.chat.typing(a, ch, true).await.unwrap();
        f.chat.typing(a, ch, false).await.unwrap();
        assert_eq!(f.drain().len(), 2);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(f.drain().is_empty());
    }

    #[tokio::test]
    async fn typing_needs_membership() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let public = f.group(a, Visibility::Public, &[]).await;
        let private = f.group(a, Visibility::Private, &[]).await;
        let err = f.chat.typing(b, public, true).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        let err = f.chat.typing(b, private, true).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
