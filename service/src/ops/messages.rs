//! Messages: send, edit, delete, history.

use bytes::Bytes;
use protocol::events::client::{DeleteMessage, EditMessage, SendMessage};
use protocol::{ChannelId, Message, MessageId, UserId};
use storage::{EventWrite, NewMessage, Page};

use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};
use crate::validate;

impl Chat {
    /// `SEND_MESSAGE`: stores the message and publishes `MESSAGE_RECEIVED`.
    ///
    /// A `nonce` the same user sent to the same channel within
    /// [`crate::ChatConfig::nonce_window_ms`] answers the message stored the first
    /// time, stores and publishes nothing, and does not count against the rate limit
    /// (the sequencer's nonce window; storage's unique index answers older repeats).
    pub async fn send_message(&self, user: UserId, req: SendMessage) -> Result<Message> {
        Ok(self.send_message_encoded(user, req).await?.0)
    }

    /// [`Self::send_message`], with the published `MESSAGE_RECEIVED` as encoded for the
    /// channel (`None` for a repeated nonce): the gateway's `ACK` reuses its data.
    pub async fn send_message_encoded(
        &self,
        user: UserId,
        req: SendMessage,
    ) -> Result<(Message, Option<Bytes>)> {
        validate::content(&req.content)?;
        if let Some(nonce) = &req.nonce {
            validate::nonce(nonce)?;
        }
        let attachment_ids = req.attachment_ids.unwrap_or_default();
        if attachment_ids.len() > self.config().max_attachments {
            return Err(ServiceError::bad_request(
                "attachment_ids",
                format!("at most {} attachments", self.config().max_attachments),
            ));
        }
        let channel = req.channel_id;
        let (kind, _role) = self.member_kind(user, channel).await?;
        self.check_dm_not_blocked(user, channel, kind).await?;
        if let Some(reply_to) = req.reply_to {
            let target = self.store().message(reply_to).await?;
            if target.is_none_or(|m| m.message.channel_id != channel) {
                return Err(ServiceError::bad_request(
                    "reply_to",
                    "no such message in this channel",
                ));
            }
        }

        let committed = self
            .commit(
                EventWrite::CreateMessage(NewMessage {
                    id: MessageId::new(self.next_id()),
                    channel_id: channel,
                    author_id: user,
                    content: req.content,
                    created_at: now_ms(),
                    reply_to: req.reply_to,
                    nonce: req.nonce,
                    attachment_ids,
                }),
                None,
                Some((user, channel)),
            )
            .await?;
        let message = committed
            .message
            .ok_or_else(|| ServiceError::internal("a committed send without its message"))?;
        Ok((message, committed.event))
    }

    /// `EDIT_MESSAGE`: the author only; the old text goes to the audit trail;
    /// publishes `MESSAGE_EDITED`.
    pub async fn edit_message(&self, user: UserId, req: EditMessage) -> Result<Message> {
        Ok(self.edit_message_encoded(user, req).await?.0)
    }

    /// [`Self::edit_message`], with the published `MESSAGE_EDITED` as encoded.
    pub async fn edit_message_encoded(
        &self,
        user: UserId,
        req: EditMessage,
    ) -> Result<(Message, Option<Bytes>)> {
        validate::content(&req.content)?;
        let (record, channel, _role) = self.member_message(user, req.message_id).await?;
        if record.message.author.id != user {
            return Err(ServiceError::forbidden(
                "only the author can edit a message",
            ));
        }
        let committed = self
            .commit(
                EventWrite::EditMessage {
                    channel: channel.id,
                    id: req.message_id,
                    content: req.content,
                    edited_at: now_ms(),
                },
                None,
                None,
            )
            .await?;
        let message = committed
            .message
            .ok_or_else(|| ServiceError::not_found("message"))?;
        Ok((message, committed.event))
    }

    /// `DELETE_MESSAGE`: the author, or the channel's owner or an admin; soft delete;
    /// publishes `MESSAGE_DELETED`.
    pub async fn delete_message(&self, user: UserId, req: DeleteMessage) -> Result<()> {
        let (record, channel, role) = self.member_message(user, req.message_id).await?;
        if record.message.author.id != user && !role.can_manage() {
            return Err(ServiceError::forbidden(
                "only the author, the owner or an admin can delete a message",
            ));
        }
        let committed = self
            .commit(
                EventWrite::DeleteMessage {
                    channel: channel.id,
                    id: req.message_id,
                    deleted_at: now_ms(),
                },
                None,
                None,
            )
            .await?;
        match committed.offset {
            Some(_) => Ok(()),
            None => Err(ServiceError::not_found("message")),
        }
    }

    /// `FETCH_MESSAGES` and `GET .../messages`: members only; newest first, deleted
    /// messages left out; `limit` 1-100.
    pub async fn fetch_messages(
        &self,
        user: UserId,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<Message>> {
        validate::limit(limit)?;
        self.member(user, channel).await?;
        Ok(self.store().messages(channel, page, limit).await?)
    }

    /// The previous versions of a message, oldest first; members of its channel only.
    pub async fn message_edits(
        &self,
        user: UserId,
        message: MessageId,
    ) -> Result<Vec<storage::Edit>> {
        self.member_message(user, message).await?;
        Ok(self.store().edits(message).await?)
    }
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::events::server::MessageDeleted;
    use protocol::events::ServerEvent;
    use protocol::{ErrorCode, Role, Visibility};

    use super::*;
    use crate::test_support::Fixture;

    fn send_req(channel: ChannelId, content: &str, nonce: Option<&str>) -> SendMessage {
        SendMessage {
            channel_id: channel,
            content: content.to_owned(),
            nonce: nonce.map(str::to_owned),
            reply_to: None,
            attachment_ids: None,
        }
    }

    #[tokio::test]
    async fn send_stores_and_publishes_a_channel_event() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let m = f.send(a, ch, "hello").await.unwrap();
        assert_eq!((m.content.as_str(), m.author.id), ("hello", a));
        let published = f.drain();
        assert_eq!(published.len(), 1);
        let p = &published[0];
        assert_eq!(
            p.target,
            Target::Channel {
                channel: ch,
                except: vec![]
            }
        );
        assert_eq!(p.offset, Some(1));
        assert!(matches!(&p.event, ServerEvent::MessageReceived(d) if d.message == m));
        f.send(b, ch, "hi").await.unwrap();
        assert_eq!(f.drain()[0].offset, Some(2), "offsets rise by one");
    }

    #[tokio::test]
    async fn content_rules() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        assert_eq!(
            f.send(a, ch, "  ").await.unwrap_err().code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            f.send(a, ch, "").await.unwrap_err().code,
            ErrorCode::BadRequest
        );
        let long = "x".repeat(4001);
        assert_eq!(
            f.send(a, ch, &long).await.unwrap_err().code,
            ErrorCode::TooLarge
        );
        let bad_nonce = f
            .chat
            .send_message(a, send_req(ch, "x", Some(&"n".repeat(65))))
            .await
            .unwrap_err();
        assert_eq!(bad_nonce.code, ErrorCode::BadRequest);
        assert!(f.drain().is_empty());
    }

    #[tokio::test]
    async fn visibility_rules_for_sending() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let private = f.group(a, Visibility::Private, &[]).await;
        let public = f.group(a, Visibility::Public, &[]).await;
        assert_eq!(
            f.send(b, private, "x").await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            f.send(b, public, "x").await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        let missing = ChannelId::new(12345);
        assert_eq!(
            f.send(a, missing, "x").await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let page = f.chat.fetch_messages(b, public, Page::Latest, 50).await;
        assert_eq!(page.unwrap_err().code, ErrorCode::Forbidden);
        let page = f.chat.fetch_messages(b, private, Page::Latest, 50).await;
        assert_eq!(page.unwrap_err().code, ErrorCode::NotFound);
    }

    #[tokio::test]
    async fn a_repeated_nonce_answers_the_first_message_without_an_event_or_a_rate_count() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        let first = f
            .chat
            .send_message(a, send_req(ch, "once", Some("n1")))
            .await
            .unwrap();
        assert_eq!(first.nonce.as_deref(), Some("n1"));
        for _ in 0..10 {
            let again = f
                .chat
                .send_message(a, send_req(ch, "once", Some("n1")))
                .await
                .unwrap();
            assert_eq!(again.id, first.id);
        }
        assert_eq!(f.drain().len(), 1, "only the first send published");
        // The ten repeats did not use the rate limit: four more fresh sends pass.
        for i in 0..4 {
            f.send(a, ch, &format!("m{i}")).await.unwrap();
        }
        let stored = f
            .chat
            .fetch_messages(a, ch, Page::Latest, 100)
            .await
            .unwrap();
        assert_eq!(stored.len(), 5);
    }

    #[tokio::test]
    async fn five_messages_per_five_seconds_per_channel() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        let other = f.group(a, Visibility::Private, &[]).await;
        for i in 0..5 {
            f.send(a, ch, &format!("m{i}")).await.unwrap();
        }
        let err = f.send(a, ch, "m5").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        let retry = err.retry_after_ms.unwrap();
        assert!(retry > 0 && retry <= 5000, "{retry}");
        f.send(a, other, "elsewhere").await.unwrap();
        assert_eq!(f.drain().len(), 6, "the refused send published nothing");
    }

    #[tokio::test]
    async fn a_removed_member_cannot_send_though_their_membership_was_cached() {
        let f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f
            .chat
            .create_channel(a, "g", Some(Visibility::Public), vec![b])
            .await
            .unwrap()
            .id;
        f.send(b, ch, "cached now").await.unwrap();
        f.chat.remove_member(a, ch, b).await.unwrap();
        assert_eq!(
            f.send(b, ch, "x").await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        f.chat.join_channel(b, ch).await.unwrap();
        f.send(b, ch, "back").await.unwrap();
        f.chat.leave_channel(b, ch).await.unwrap();
        assert_eq!(
            f.send(b, ch, "x").await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        f.chat.delete_channel(a, ch).await.unwrap();
        assert_eq!(
            f.send(a, ch, "x").await.unwrap_err().code,
            ErrorCode::NotFound
        );
    }

    #[tokio::test]
    async fn blocked_dm_refuses_sending() {
        let f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let (dm, _) = f.chat.create_dm(a, b).await.unwrap();
        f.send(a, dm.id, "before").await.unwrap();
        f.chat.block(b, a).await.unwrap();
        assert_eq!(
            f.send(a, dm.id, "x").await.unwrap_err().code,
            ErrorCode::Blocked
        );
        assert_eq!(
            f.send(b, dm.id, "x").await.unwrap_err().code,
            ErrorCode::Blocked
        );
        f.chat.unblock(b, a).await.unwrap();
        f.send(a, dm.id, "after").await.unwrap();
    }

    #[tokio::test]
    async fn reply_to_must_be_in_the_same_channel() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let one = f.group(a, Visibility::Private, &[]).await;
        let two = f.group(a, Visibility::Private, &[]).await;
        let m = f.send(a, one, "root").await.unwrap();
        let mut req = send_req(two, "reply", None);
        req.reply_to = Some(m.id);
        let err = f.chat.send_message(a, req).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.starts_with("reply_to"));
        let mut req = send_req(one, "reply", None);
        req.reply_to = Some(m.id);
        assert_eq!(
            f.chat.send_message(a, req).await.unwrap().reply_to,
            Some(m.id)
        );
    }

    #[tokio::test]
    async fn edit_is_for_the_author_and_keeps_an_audit_trail() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let m = f.send(a, ch, "v1").await.unwrap();
        f.drain();
        let edit = |content: &str| EditMessage {
            message_id: m.id,
            content: content.to_owned(),
        };
        let err = f.chat.edit_message(b, edit("hijack")).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        let edited = f.chat.edit_message(a, edit("v2")).await.unwrap();
        assert_eq!(edited.content, "v2");
        assert!(edited.edited_at.is_some());
        f.chat.edit_message(a, edit("v3")).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 2);
        assert!(
            matches!(&published[0].event, ServerEvent::MessageEdited(d) if d.message.content == "v2")
        );
        assert_eq!(published[1].offset, Some(3));
        let edits = f.chat.message_edits(b, m.id).await.unwrap();
        let old: Vec<&str> = edits.iter().map(|e| e.content.as_str()).collect();
        assert_eq!(old, ["v1", "v2"]);
        let outsider = f.user("carol").await;
        let err = f.chat.message_edits(outsider, m.id).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }

    #[tokio::test]
    async fn delete_by_author_or_manager_and_hidden_from_history() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let ch = f.group(a, Visibility::Private, &[b, c]).await;
        let by_b = f.send(b, ch, "b's").await.unwrap();
        let by_c = f.send(c, ch, "c's").await.unwrap();
        f.drain();
        let del = |id| DeleteMessage { message_id: id };
        assert_eq!(
            f.chat
                .delete_message(c, del(by_b.id))
                .await
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        f.chat.delete_message(c, del(by_c.id)).await.unwrap();
        f.chat.delete_message(a, del(by_b.id)).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 2);
        assert!(matches!(
            published[1].event,
            ServerEvent::MessageDeleted(MessageDeleted { message_id, .. }) if message_id == by_b.id
        ));
        assert!(f
            .chat
            .fetch_messages(a, ch, Page::Latest, 50)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            f.chat
                .delete_message(a, del(by_b.id))
                .await
                .unwrap_err()
                .code,
            ErrorCode::NotFound
        );
        assert_eq!(
            f.chat.store().member_role(ch, a).await.unwrap(),
            Some(Role::Owner)
        );
    }

    #[tokio::test]
    async fn fetch_validates_the_limit_and_pages_newest_first() {
        let mut f = Fixture::new();
        let a = f.user("alice").await;
        let ch = f.group(a, Visibility::Private, &[]).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(f.send(a, ch, &format!("m{i}")).await.unwrap().id);
        }
        for bad in [0, 101] {
            let err = f
                .chat
                .fetch_messages(a, ch, Page::Latest, bad)
                .await
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::BadRequest);
        }
        let page = f.chat.fetch_messages(a, ch, Page::Latest, 2).await.unwrap();
        assert_eq!(
            page.iter().map(|m| m.id).collect::<Vec<_>>(),
            [ids[2], ids[1]]
        );
        let before = f
            .chat
            .fetch_messages(a, ch, Page::Before(ids[1]), 50)
            .await
            .unwrap();
        assert_eq!(before.iter().map(|m| m.id).collect::<Vec<_>>(), [ids[0]]);
    }
}
