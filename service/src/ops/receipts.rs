//! Read receipts: each member's last read message.

use bus::Publication;
use protocol::events::client::MarkAsRead;
use protocol::events::server::ReadReceipt;
use protocol::events::ServerEvent;
use protocol::{ChannelId, MessageId, UserId};

use crate::chat::Chat;
use crate::error::{Result, ServiceError};

impl Chat {
    /// `MARK_AS_READ`: members only; the position only moves forward. When it moved,
    /// `READ_RECEIPT_UPDATED` goes to the channel's members if it has at most
    /// `large_threshold` members, else only to the reader's own sessions.
    pub async fn mark_read(&self, user: UserId, req: MarkAsRead) -> Result<()> {
        let (record, _role) = self.member(user, req.channel_id).await?;
        let message = self.store().message(req.message_id).await?;
        if message.is_none_or(|m| m.message.channel_id != req.channel_id) {
            return Err(ServiceError::not_found("message"));
        }
        let moved = self
            .store()
            .mark_read(req.channel_id, user, req.message_id)
            .await?;
        if moved {
            let event = ServerEvent::ReadReceiptUpdated(ReadReceipt {
                channel_id: req.channel_id,
                user_id: user,
                message_id: req.message_id,
            });
            let publication = if record.member_count <= self.config().large_threshold {
                Publication::ephemeral(req.channel_id, Vec::new(), event)
            } else {
                Publication::to_users(vec![user], event)
            };
            self.publish(publication).await;
        }
        Ok(())
    }

    /// Every member's last read message; members only.
    pub async fn receipts(
        &self,
        user: UserId,
        channel: ChannelId,
    ) -> Result<Vec<(UserId, MessageId)>> {
        self.member(user, channel).await?;
        Ok(self.store().receipts(channel).await?)
    }
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::{ErrorCode, Visibility};

    use super::*;
    use crate::test_support::{config, Fixture};

    #[tokio::test]
    async fn receipts_go_to_members_in_small_channels() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let m = f.send(a, ch, "hi").await.unwrap();
        f.drain();
        let read = MarkAsRead {
            channel_id: ch,
            message_id: m.id,
        };
        f.chat.mark_read(b, read).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1);
        assert_eq!(
            published[0].target,
            Target::Channel {
                channel: ch,
                except: vec![]
            }
        );
        assert_eq!(published[0].offset, None);
        f.chat.mark_read(b, read).await.unwrap();
        assert!(f.drain().is_empty(), "did not move: no event");
        assert_eq!(f.chat.receipts(a, ch).await.unwrap(), vec![(b, m.id)]);
    }

    #[tokio::test]
    async fn receipts_go_only_to_the_reader_in_large_channels() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            large_threshold: 1,
            ..config()
        });
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let m = f.send(a, ch, "hi").await.unwrap();
        f.drain();
        f.chat
            .mark_read(
                b,
                MarkAsRead {
                    channel_id: ch,
                    message_id: m.id,
                },
            )
            .await
            .unwrap();
        assert_eq!(f.drain()[0].target, Target::Users(vec![b]));
    }

    #[tokio::test]
    async fn receipts_need_membership_and_a_message_of_the_channel() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Public, &[]).await;
        let other = f.group(a, Visibility::Private, &[]).await;
        let m = f.send(a, other, "elsewhere").await.unwrap();
        assert_eq!(
            f.chat.receipts(b, ch).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        let err = f
            .chat
            .mark_read(
                a,
                MarkAsRead {
                    channel_id: ch,
                    message_id: m.id,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
