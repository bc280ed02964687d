//! Members: list, add, remove, join, leave.
//!
//! Every membership change is a channel event with an offset (`USER_JOINED`,
//! `USER_LEFT`), committed through the channel's sequencer. A user who becomes a
//! member (added by an admin, or joining) also gets `CHANNEL_CREATED` with the channel
//! as they see it, in the same published batch, so each of their sessions learns the
//! channel object; the gateway subscribes their sessions on the join and unsubscribes
//! them on `USER_LEFT`.
//!
//! Leaving: a DM cannot be left. An owner may leave their group; the group keeps
//! existing, managed by its admins, and nobody can delete it afterwards (ownership is
//! not transferred).

use protocol::{Channel, ChannelId, ChannelKind, Member, Role, UserId};
use storage::EventWrite;

use crate::chat::Chat;
use crate::error::{Result, ServiceError};
use crate::ops::channels::dedup_without;
use crate::validate;

/// Most users one `POST .../members` may add.
pub const MAX_ADD_PER_REQUEST: usize = 100;

impl Chat {
    /// Members with ids after `after`, by id; members only.
    pub async fn members(
        &self,
        user: UserId,
        channel: ChannelId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        validate::limit(limit)?;
        self.member(user, channel).await?;
        let mut members = self.store().members(channel, after, limit).await?;
        let ids: Vec<UserId> = members.iter().map(|m| m.user.id).collect();
        let statuses = self.presence().statuses(&ids).await;
        for (member, status) in members.iter_mut().zip(statuses) {
            member.user.status = Some(status);
        }
        Ok(members)
    }

    /// Adds users to a group or thread: owner or admin. Answers how many were not
    /// members before. Each new member is a `USER_JOINED` channel event, followed by
    /// `CHANNEL_CREATED` to that user.
    pub async fn add_members(
        &self,
        user: UserId,
        channel: ChannelId,
        user_ids: Vec<UserId>,
    ) -> Result<u32> {
        // Counted as sent (duplicates too), as the OpenAPI document's `maxItems` says.
        if user_ids.len() > MAX_ADD_PER_REQUEST {
            return Err(ServiceError::bad_request(
                "user_ids",
                format!("at most {MAX_ADD_PER_REQUEST} per request"),
            ));
        }
        let ids = dedup_without(user_ids, user);
        if ids.is_empty() {
            return Err(ServiceError::bad_request(
                "user_ids",
                "name at least one other user",
            ));
        }
        let (record, role) = self.member(user, channel).await?;
        if record.kind == ChannelKind::Dm {
            return Err(ServiceError::forbidden("a DM has exactly two members"));
        }
        if !role.can_manage() {
            return Err(ServiceError::forbidden(
                "only the owner or an admin can add members",
            ));
        }
        self.check_users_exist("user_ids", &ids).await?;
        let mut new = Vec::with_capacity(ids.len());
        for id in ids {
            if self.store().member_role(channel, id).await?.is_none() {
                if record.kind == ChannelKind::Thread
                    && !self.visible_to_non_member(&record, id).await?
                {
                    return Err(ServiceError::forbidden(format!(
                        "user {id} cannot see this thread's channel"
                    )));
                }
                new.push(id);
            }
        }
        self.check_room(record.member_count, new.len())?;

        let mut added = 0u32;
        for id in new {
            if self.join(channel, id).await?.is_some() {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Removes `target`: an owner or admin may remove members of a lower role; anyone
    /// may remove themselves (the same as leaving). Publishes `USER_LEFT`.
    pub async fn remove_member(
        &self,
        user: UserId,
        channel: ChannelId,
        target: UserId,
    ) -> Result<()> {
        if user == target {
            return self.leave_channel(user, channel).await;
        }
        let (record, role) = self.member(user, channel).await?;
        if record.kind == ChannelKind::Dm {
            return Err(ServiceError::forbidden("a DM has exactly two members"));
        }
        if !role.can_manage() {
            return Err(ServiceError::forbidden(
                "only the owner or an admin can remove members",
            ));
        }
        let target_role = self
            .store()
            .member_role(channel, target)
            .await?
            .ok_or_else(|| ServiceError::not_found("member"))?;
        if target_role >= role {
            return Err(ServiceError::forbidden(format!(
                "a {} cannot remove a {}",
                role.as_str(),
                target_role.as_str()
            )));
        }
        if !self.leave(channel, target).await? {
            return Err(ServiceError::not_found("member"));
        }
        Ok(())
    }

    /// `JOIN_CHANNEL`: become a member of a public group, or of a thread whose parent
    /// the caller can see. Private groups and DMs are `NOT_FOUND`. Joining a channel
    /// one is already in answers it without an event.
    pub async fn join_channel(&self, user: UserId, channel: ChannelId) -> Result<Channel> {
        let visible = self.visible(user, channel).await?;
        if visible.role.is_some() {
            return self.channel_view(channel, user).await;
        }
        // `visible` with no role means a public group or a thread of a visible channel.
        self.check_room(visible.record.member_count, 1)?;
        self.join(channel, user).await?;
        self.channel_view(channel, user).await
    }

    /// `LEAVE_CHANNEL`: stop being a member; publishes `USER_LEFT`. A DM cannot be
    /// left (`FORBIDDEN`).
    pub async fn leave_channel(&self, user: UserId, channel: ChannelId) -> Result<()> {
        let (record, _role) = self.member(user, channel).await?;
        if record.kind == ChannelKind::Dm {
            return Err(ServiceError::forbidden("a DM cannot be left"));
        }
        self.leave(channel, user).await?;
        Ok(())
    }

    /// Adds `user` as a member: `USER_JOINED` to the channel, then `CHANNEL_CREATED` to
    /// them (the sequencer publishes both). `None` when they already were a member.
    /// The member cap is checked by storage inside the commit (`FORBIDDEN` when the
    /// channel is full), so joins racing past the callers' early checks cannot
    /// exceed it.
    async fn join(&self, channel: ChannelId, user: UserId) -> Result<Option<u64>> {
        let joined = self.existing_user(user).await?;
        let write = EventWrite::AddMember {
            channel,
            user,
            role: Role::Member,
            max_members: self.config().max_group_members,
        };
        Ok(self.commit(write, Some(joined), None).await?.offset)
    }

    /// Removes `user`: `USER_LEFT`. `false` when they were not a member.
    async fn leave(&self, channel: ChannelId, user: UserId) -> Result<bool> {
        let write = EventWrite::RemoveMember { channel, user };
        Ok(self.commit(write, None, None).await?.offset.is_some())
    }
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::events::ServerEvent;
    use protocol::{ErrorCode, Visibility};

    use super::*;
    use crate::test_support::{config, Fixture};

    /// The limit counts ids as sent, repeats too (the API documents `maxItems: 100`).
    #[tokio::test]
    async fn add_counts_ids_as_sent() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[]).await;
        let err = f
            .chat
            .add_members(a, ch, vec![b; MAX_ADD_PER_REQUEST + 1])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.starts_with("user_ids: at most"));
        let added = f
            .chat
            .add_members(a, ch, vec![b; MAX_ADD_PER_REQUEST])
            .await
            .unwrap();
        assert_eq!(added, 1);
    }

    #[tokio::test]
    async fn join_public_publishes_user_joined_then_channel_created() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Public, &[]).await;
        let joined = f.chat.join_channel(b, ch).await.unwrap();
        assert_eq!(joined.member_count, 2);
        let published = f.drain();
        assert_eq!(published.len(), 2);
        assert_eq!(published[0].offset, Some(1));
        assert!(matches!(&published[0].event, ServerEvent::UserJoined(j) if j.user.id == b));
        assert_eq!(published[1].target, Target::Users(vec![b]));
        assert!(matches!(
            &published[1].event,
            ServerEvent::ChannelCreated(_)
        ));
        // Joining again: no event.
        f.chat.join_channel(b, ch).await.unwrap();
        assert!(f.drain().is_empty());
        f.send(b, ch, "now a member").await.unwrap();
    }

    #[tokio::test]
    async fn join_refuses_private_groups_dms_and_full_groups() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            max_group_members: 2,
            ..config()
        });
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let private = f.group(a, Visibility::Private, &[]).await;
        assert_eq!(
            f.chat.join_channel(b, private).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let (dm, _) = f.chat.create_dm(a, b).await.unwrap();
        assert_eq!(
            f.chat.join_channel(c, dm.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let public = f.group(a, Visibility::Public, &[b]).await;
        assert_eq!(
            f.chat.join_channel(c, public).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
    }

    /// Joins racing for the last place: the early check lets them all through, the
    /// commit admits one; the others are FORBIDDEN and publish nothing.
    #[tokio::test]
    async fn racing_joins_cannot_exceed_the_cap() {
        let mut f = Fixture::with_config(crate::ChatConfig {
            max_group_members: 3,
            ..config()
        });
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let public = f.group(a, Visibility::Public, &[b]).await;
        let mut joiners = Vec::new();
        for n in 0..6 {
            joiners.push(f.user(&format!("joiner{n}")).await);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for user in joiners {
            let chat = f.chat.clone();
            tasks.spawn(async move { chat.join_channel(user, public).await });
        }
        let results = tasks.join_all().await;
        let joined = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(joined, 1, "{results:?}");
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(err.code, ErrorCode::Forbidden, "{err}");
        }
        assert_eq!(f.chat.channel(a, public).await.unwrap().member_count, 3);
        let joins = f
            .drain()
            .iter()
            .filter(|p| matches!(p.event, ServerEvent::UserJoined(_)))
            .count();
        assert_eq!(joins, 1);
    }

    /// Adding over the cap in one request is refused before any write; the cap also
    /// holds inside the commit when members were added meanwhile.
    #[tokio::test]
    async fn the_store_refuses_a_join_over_the_cap() {
        let f = Fixture::with_config(crate::ChatConfig {
            max_group_members: 2,
            ..config()
        });
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let ch = f
            .chat
            .create_channel(a, "g", Some(Visibility::Public), vec![b])
            .await
            .unwrap()
            .id;
        // Past the early check (as a racing join would be): the commit refuses it.
        let err = f.chat.join(ch, c).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        assert_eq!(err.fault, crate::error::Fault::Client);
        assert!(err.message.contains("at most 2 members"), "{}", err.message);
        assert_eq!(f.chat.join(ch, b).await.unwrap(), None, "a member already");
    }

    #[tokio::test]
    async fn leave_publishes_user_left_and_dms_cannot_be_left() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        f.chat.leave_channel(b, ch).await.unwrap();
        let published = f.drain();
        assert!(matches!(published[0].event, ServerEvent::UserLeft(u) if u.user_id == b));
        assert_eq!(published[0].offset, Some(1));
        assert_eq!(
            f.chat.leave_channel(b, ch).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let (dm, _) = f.chat.create_dm(a, b).await.unwrap();
        assert_eq!(
            f.chat.leave_channel(a, dm.id).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
    }

    #[tokio::test]
    async fn add_and_remove_follow_roles() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let err = f.chat.add_members(b, ch, vec![c]).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        assert_eq!(f.chat.add_members(a, ch, vec![c, b]).await.unwrap(), 1);
        let published = f.drain();
        assert_eq!(published.len(), 2);
        assert!(matches!(&published[0].event, ServerEvent::UserJoined(j) if j.user.id == c));
        assert_eq!(published[1].target, Target::Users(vec![c]));
        let err = f
            .chat
            .add_members(a, ch, vec![UserId::new(1)])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);

        let err = f.chat.remove_member(b, ch, c).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        f.chat.remove_member(a, ch, c).await.unwrap();
        assert!(matches!(f.drain()[0].event, ServerEvent::UserLeft(u) if u.user_id == c));
        assert_eq!(
            f.chat.remove_member(a, ch, c).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        // Removing oneself is leaving.
        f.chat.remove_member(b, ch, b).await.unwrap();
        let members = f.chat.members(a, ch, None, 50).await.unwrap();
        assert_eq!(members.iter().map(|m| m.user.id).collect::<Vec<_>>(), [a]);
    }

    #[tokio::test]
    async fn members_list_is_for_members() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let public = f.group(a, Visibility::Public, &[]).await;
        let err = f.chat.members(b, public, None, 50).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        let members = f.chat.members(a, public, None, 50).await.unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].role, Role::Owner);
        assert_eq!(members[0].user.status, Some(protocol::UserStatus::Offline));
    }

    #[tokio::test]
    async fn visible_channel_ids_is_the_member_subset() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let mine = f.group(a, Visibility::Private, &[]).await;
        let theirs = f.group(b, Visibility::Public, &[]).await;
        let ids = [theirs, mine, mine, ChannelId::new(5)];
        assert_eq!(f.chat.visible_channel_ids(a, &ids).await.unwrap(), [mine]);
    }
}
