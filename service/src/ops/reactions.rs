//! Reactions: one per user, message and emoji; at most
//! [`crate::ChatConfig::max_distinct_emoji`] distinct emoji per message.

use protocol::events::client::Reaction;
use protocol::UserId;
use storage::EventWrite;

use crate::chat::Chat;
use crate::error::Result;
use crate::validate;

impl Chat {
    /// `ADD_REACTION`: publishes `REACTION_ADDED`; a repeat is no event.
    pub async fn add_reaction(&self, user: UserId, req: Reaction) -> Result<()> {
        validate::emoji(&req.emoji)?;
        let (_record, channel, _role) = self.member_message(user, req.message_id).await?;
        let max_distinct = usize::try_from(self.config().max_distinct_emoji).unwrap_or(usize::MAX);
        self.commit(
            EventWrite::AddReaction {
                channel: channel.id,
                message: req.message_id,
                user,
                emoji: req.emoji,
                max_distinct,
            },
            None,
            None,
        )
        .await?;
        Ok(())
    }

    /// `REMOVE_REACTION`: publishes `REACTION_REMOVED`; removing an absent reaction is
    /// no event.
    pub async fn remove_reaction(&self, user: UserId, req: Reaction) -> Result<()> {
        validate::emoji(&req.emoji)?;
        let (_record, channel, _role) = self.member_message(user, req.message_id).await?;
        self.commit(
            EventWrite::RemoveReaction {
                channel: channel.id,
                message: req.message_id,
                user,
                emoji: req.emoji,
            },
            None,
            None,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use protocol::events::ServerEvent;
    use protocol::{ErrorCode, MessageId, Visibility};

    use super::*;
    use crate::test_support::Fixture;

    fn reaction(message_id: MessageId, emoji: &str) -> Reaction {
        Reaction {
            message_id,
            emoji: emoji.to_owned(),
        }
    }

    #[tokio::test]
    async fn add_and_remove_publish_only_changes() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let m = f.send(a, ch, "hi").await.unwrap();
        f.drain();
        f.chat.add_reaction(b, reaction(m.id, "👍")).await.unwrap();
        f.chat.add_reaction(b, reaction(m.id, "👍")).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1, "a repeat is no event");
        assert_eq!(published[0].offset, Some(2));
        assert!(
            matches!(&published[0].event, ServerEvent::ReactionAdded(r) if r.user_id == b && r.emoji == "👍")
        );
        f.chat
            .remove_reaction(a, reaction(m.id, "👍"))
            .await
            .unwrap();
        assert!(
            f.drain().is_empty(),
            "removing an absent reaction is no event"
        );
        f.chat
            .remove_reaction(b, reaction(m.id, "👍"))
            .await
            .unwrap();
        let published = f.drain();
        assert!(matches!(
            &published[0].event,
            ServerEvent::ReactionRemoved(_)
        ));
        assert_eq!(published[0].offset, Some(3));
    }

    #[tokio::test]
    async fn emoji_rules() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        let m = f.send(a, ch, "hi").await.unwrap();
        let err = f
            .chat
            .add_reaction(a, reaction(m.id, ""))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = f
            .chat
            .add_reaction(a, reaction(m.id, &"e".repeat(65)))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        for i in 0..20 {
            f.chat
                .add_reaction(a, reaction(m.id, &format!("e{i}")))
                .await
                .unwrap();
        }
        let err = f
            .chat
            .add_reaction(a, reaction(m.id, "e20"))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let outsider = f.user("bob").await;
        let err = f
            .chat
            .add_reaction(outsider, reaction(m.id, "e0"))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
