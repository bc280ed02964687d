//! Direct messages: one DM channel per pair of users, created on first use.

use bus::Publication;
use protocol::events::server::ChannelData;
use protocol::events::ServerEvent;
use protocol::{Channel, ChannelId, UserId};

use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};

impl Chat {
    /// The DM between the caller and `other`, created when there is none (then `true`,
    /// and each of the two gets `CHANNEL_CREATED` with the DM as they see it: its name
    /// is the other member's display name). `BLOCKED` when either blocked the other.
    pub async fn create_dm(&self, user: UserId, other: UserId) -> Result<(Channel, bool)> {
        if user == other {
            return Err(ServiceError::bad_request(
                "user_id",
                "cannot open a DM with yourself",
            ));
        }
        self.existing_user(other).await?;
        if self.store().is_blocked_either(user, other).await? {
            return Err(ServiceError::blocked("you cannot message this user"));
        }
        let (record, created) = self
            .store()
            .create_dm(ChannelId::new(self.next_id()), user, other, now_ms())
            .await?;
        if created {
            for member in [user, other] {
                let view = self.channel_view(record.id, member).await?;
                self.publish(Publication::to_users(
                    vec![member],
                    ServerEvent::ChannelCreated(Box::new(ChannelData { channel: view })),
                ))
                .await;
            }
        }
        Ok((self.channel_view(record.id, user).await?, created))
    }
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::{ChannelKind, ErrorCode, Visibility};

    use super::*;
    use crate::test_support::Fixture;

    #[tokio::test]
    async fn the_same_dm_every_time_named_after_the_other() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let (dm, created) = f.chat.create_dm(a, b).await.unwrap();
        assert!(created);
        assert_eq!(
            (dm.kind, dm.visibility),
            (ChannelKind::Dm, Visibility::Private)
        );
        assert_eq!(dm.name, "BOB");
        let published = f.drain();
        assert_eq!(published.len(), 2);
        assert_eq!(published[0].target, Target::Users(vec![a]));
        assert!(
            matches!(&published[1].event, ServerEvent::ChannelCreated(d) if d.channel.name == "ALICE")
        );
        let (again, created) = f.chat.create_dm(b, a).await.unwrap();
        assert!(!created);
        assert_eq!(again.id, dm.id);
        assert!(f.drain().is_empty());
    }

    #[tokio::test]
    async fn refuses_self_unknown_and_blocked() {
        let f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        assert_eq!(
            f.chat.create_dm(a, a).await.unwrap_err().code,
            ErrorCode::BadRequest
        );
        let unknown = UserId::new(77);
        assert_eq!(
            f.chat.create_dm(a, unknown).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        f.chat.block(a, b).await.unwrap();
        assert_eq!(
            f.chat.create_dm(b, a).await.unwrap_err().code,
            ErrorCode::Blocked
        );
    }
}
