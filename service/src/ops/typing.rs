//! Typing indicators: ephemeral, to the channel topic except the typist and those who
//! blocked them; a start expires after [`crate::ChatConfig::typing_ttl_ms`], and at
//! most one `TYPING_STARTED` per [`crate::ChatConfig::typing_interval_ms`] reaches the
//! channel ([`crate::typing`]).
//!
//! The cost of one event does not grow with the channel: no member list is read and
//! no query names the members. The membership check reads one row; the audience is the
//! channel topic, which each gateway shard delivers to its own sessions following the
//! channel; `except` is the typist and the users who blocked them, a short list read
//! by the blocked user.

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
    /// `START_TYPING` (`started`) or `STOP_TYPING`: members only. A start (re)arms the
    /// expiry, which publishes `TYPING_STOPPED` unless the user stops or starts again
    /// first, and publishes `TYPING_STARTED` unless one was published for this user
    /// and channel within the interval (then it answers success and publishes
    /// nothing). A stop always publishes `TYPING_STOPPED` (another node may hold the
    /// start).
    pub async fn typing(&self, user: UserId, channel: ChannelId, started: bool) -> Result<()> {
        self.member_kind(user, channel).await?;
        let key = (user, channel);
        if started {
            let now = Instant::now();
            let deadline = now + Duration::from_millis(self.config().typing_ttl_ms);
            let start = self.inner.typing.start(key, now, deadline);
            if start.spawn_timer {
                let chat = self.clone();
                tokio::spawn(async move { chat.typing_timer(key, deadline).await });
            }
            if start.publish {
                self.publish_typing(user, channel, true).await?;
            }
        } else {
            self.inner.typing.stop(key);
            self.publish_typing(user, channel, false).await?;
        }
        Ok(())
    }

    /// The one task of a (user, channel) entry: publishes the expiry, ends with the
    /// entry.
    async fn typing_timer(self, key: (UserId, ChannelId), mut until: Instant) {
        loop {
            tokio::time::sleep_until(until).await;
            match self.inner.typing.wake(key, Instant::now()) {
                Wake::Gone => return,
                Wake::SleepUntil(next) => until = next,
                Wake::Expired => {
                    if let Err(err) = self.publish_typing(key.0, key.1, false).await {
                        tracing::warn!(error = %err.cause(), "typing expiry not published");
                    }
                }
            }
        }
    }

    async fn publish_typing(&self, user: UserId, channel: ChannelId, started: bool) -> Result<()> {
        let mut except = self.store().blocked_by(user).await?;
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
            typing_interval_ms: 300,
            ..config()
        });
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        f.chat.typing(a, ch, true).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        f.chat.typing(a, ch, true).await.unwrap(); // refresh: within 3 s, not published
        assert_eq!(f.drain().len(), 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(f.drain().is_empty(), "refreshed: not expired at 400 ms");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let published = f.drain();
        assert_eq!(published.len(), 1);
        assert!(matches!(published[0].event, ServerEvent::TypingStopped(_)));
        assert_eq!(f.chat.inner.typing.len(), 0);
    }

    /// One TYPING_STARTED per user per channel per interval reaches the channel;
    /// repeats within it answer success, publish nothing and keep the typing alive.
    #[tokio::test]
    async fn repeats_within_the_interval_publish_nothing() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            typing_interval_ms: 300,
            typing_ttl_ms: 10_000,
            ..config()
        });
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let other = f.group(a, Visibility::Private, &[b]).await;
        for _ in 0..5 {
            f.chat.typing(a, ch, true).await.unwrap();
        }
        f.chat.typing(b, ch, true).await.unwrap();
        f.chat.typing(a, other, true).await.unwrap();
        let started: Vec<_> = f
            .drain()
            .iter()
            .map(|p| match &p.event {
                ServerEvent::TypingStarted(d) => (d.user_id, d.channel_id),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            started,
            [(a, ch), (b, ch), (a, other)],
            "per user and channel"
        );
        // A stop is published; a start right after it is still within the interval.
        f.chat.typing(a, ch, false).await.unwrap();
        f.chat.typing(a, ch, true).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1);
        assert!(matches!(published[0].event, ServerEvent::TypingStopped(_)));
        tokio::time::sleep(Duration::from_millis(350)).await;
        f.chat.typing(a, ch, true).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1, "the interval is over");
        assert!(matches!(published[0].event, ServerEvent::TypingStarted(_)));
    }

    /// The audience is the channel topic; `except` is the typist and whoever blocked
    /// them, read by the blocked user: it does not grow with the channel, and it
    /// names a blocker who is not even a member (no member list was intersected).
    #[tokio::test]
    async fn except_does_not_grow_with_a_10_000_member_channel() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let mut members = Vec::with_capacity(9_999);
        for n in 0..9_999 {
            members.push(f.user(&format!("m{n}")).await);
        }
        let outsider = f.user("outsider").await;
        let ch = f.group(a, Visibility::Public, &members).await;
        assert_eq!(f.chat.channel(a, ch).await.unwrap().member_count, 10_000);
        f.chat.block(members[7], a).await.unwrap();
        f.chat.block(outsider, a).await.unwrap();
        f.chat.block(a, members[8]).await.unwrap(); // the other way: not left out
        f.drain();
        f.chat.typing(a, ch, true).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1);
        let Target::Channel { channel, except } = &published[0].target else {
            panic!("channel target expected");
        };
        assert_eq!(*channel, ch);
        let mut except = except.clone();
        except.sort();
        let mut expected = vec![a, members[7], outsider];
        expected.sort();
        assert_eq!(except, expected);
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
