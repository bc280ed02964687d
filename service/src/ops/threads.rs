//! Threads: a channel started from a message of a group or DM.
//!
//! The creator is the thread's owner and only member; anyone who can see the parent
//! channel can see and join it (a thread follows its parent's visibility). Threads do
//! not nest. The creator gets `CHANNEL_CREATED`; other members of the parent learn of
//! the thread when they load or join it (there is no thread-created channel event in
//! protocol version 1).

use bus::Publication;
use protocol::events::server::ChannelData;
use protocol::events::ServerEvent;
use protocol::{Channel, ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::NewChannel;

use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};
use crate::validate;

impl Chat {
    /// Starts a thread named `name` from `message`; members of its channel only.
    pub async fn create_thread(
        &self,
        user: UserId,
        message: MessageId,
        name: &str,
    ) -> Result<Channel> {
        let name = validate::channel_name(name)?;
        let (_record, parent, _role) = self.member_message(user, message).await?;
        if parent.kind == ChannelKind::Thread {
            return Err(ServiceError::bad_request(
                "id",
                "threads cannot be started in a thread",
            ));
        }
        let visibility = match parent.kind {
            ChannelKind::Group => parent.visibility,
            _ => Visibility::Private,
        };
        let record = self
            .store()
            .create_channel(NewChannel {
                id: ChannelId::new(self.next_id()),
                kind: ChannelKind::Thread,
                name,
                visibility,
                parent_id: Some(parent.id),
                root_message_id: Some(message),
                owner_id: user,
                member_ids: Vec::new(),
                created_at: now_ms(),
            })
            .await?;
        let channel = self.channel_view(record.id, user).await?;
        self.publish(Publication::to_users(
            vec![user],
            ServerEvent::ChannelCreated(Box::new(ChannelData {
                channel: channel.clone(),
            })),
        ))
        .await;
        Ok(channel)
    }
}

#[cfg(test)]
mod tests {
    use protocol::ErrorCode;

    use super::*;
    use crate::test_support::Fixture;

    #[tokio::test]
    async fn a_thread_follows_its_parent() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let private = f.group(a, Visibility::Private, &[b]).await;
        let root = f.send(a, private, "root").await.unwrap();
        let thread = f.chat.create_thread(a, root.id, "topic").await.unwrap();
        assert_eq!(thread.kind, ChannelKind::Thread);
        assert_eq!(thread.parent_id, Some(private));
        assert_eq!(thread.root_message_id, Some(root.id));
        assert!(matches!(
            &f.drain()[1].event,
            ServerEvent::ChannelCreated(_)
        ));
        // A member of the parent sees it and may join; an outsider does not.
        assert_eq!(f.chat.channel(b, thread.id).await.unwrap().id, thread.id);
        assert_eq!(
            f.send(b, thread.id, "x").await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        f.chat.join_channel(b, thread.id).await.unwrap();
        f.send(b, thread.id, "in the thread").await.unwrap();
        assert_eq!(
            f.chat.channel(c, thread.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            f.chat.join_channel(c, thread.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        // No nesting; outsiders cannot start one.
        let inner = f.send(a, thread.id, "inner").await.unwrap();
        let err = f
            .chat
            .create_thread(a, inner.id, "nested")
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = f.chat.create_thread(c, root.id, "x").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
