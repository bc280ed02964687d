//! Channels: create, list, read, update, delete (groups; DMs and threads have their
//! own files).
//!
//! Events: creation sends `CHANNEL_CREATED` to every member (one publication: a new
//! group looks the same to each of them); an update sends `CHANNEL_UPDATED` to every
//! member as they see it, read in one query and published once per distinct view
//! (members with the same read position, unread count and mute share one
//! publication); channels above `large_threshold` members get one channel-wide
//! publication with the per-viewer fields neutral: unread 0, not muted, no read
//! position. A delete sends `CHANNEL_DELETED` to the members it had, and, for a
//! group, one per thread to that thread's members.

use bus::Publication;
use protocol::events::server::{ChannelData, ChannelDeleted};
use protocol::events::ServerEvent;
use protocol::{Channel, ChannelId, ChannelKind, Role, UserId, Visibility};
use storage::NewChannel;

use crate::chat::{now_ms, Chat};
use crate::error::{Result, ServiceError};
use crate::validate;

/// A viewer id no user has (Snowflakes are never 0): `channel_for` with it gives the
/// neutral view of a channel.
const NOBODY: UserId = UserId::new(0);

impl Chat {
    /// Creates a group owned by `owner` with the other `member_ids`; visibility
    /// defaults to private. `BAD_REQUEST` naming `member_ids` for unknown users,
    /// `FORBIDDEN` above [`crate::ChatConfig::max_group_members`].
    pub async fn create_channel(
        &self,
        owner: UserId,
        name: &str,
        visibility: Option<Visibility>,
        member_ids: Vec<UserId>,
    ) -> Result<Channel> {
        let name = validate::channel_name(name)?;
        let members = dedup_without(member_ids, owner);
        self.check_room(1, members.len())?;
        self.check_users_exist("member_ids", &members).await?;
        let record = self
            .store()
            .create_channel(NewChannel {
                id: ChannelId::new(self.next_id()),
                kind: ChannelKind::Group,
                name,
                visibility: visibility.unwrap_or_default(),
                parent_id: None,
                root_message_id: None,
                owner_id: owner,
                member_ids: members.clone(),
                created_at: now_ms(),
            })
            .await?;
        let channel = self.channel_view(record.id, owner).await?;
        let mut audience = members;
        audience.push(owner);
        self.publish(Publication::to_users(
            audience,
            ServerEvent::ChannelCreated(Box::new(ChannelData {
                channel: channel.clone(),
            })),
        ))
        .await;
        Ok(channel)
    }

    /// The caller's channels, with unread counts.
    pub async fn channels(&self, user: UserId) -> Result<Vec<Channel>> {
        Ok(self.store().channels_for_user(user).await?)
    }

    /// Public groups whose name contains `query`, to join.
    pub async fn public_channels(
        &self,
        user: UserId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Channel>> {
        validate::limit(limit)?;
        let query = validate::search_query(query)?;
        Ok(self.store().public_channels(user, &query, limit).await?)
    }

    /// One channel as the caller sees it: members, and anyone for public groups (and
    /// threads of channels they can see). `NOT_FOUND` otherwise.
    pub async fn channel(&self, user: UserId, channel: ChannelId) -> Result<Channel> {
        self.visible(user, channel).await?;
        self.channel_view(channel, user).await
    }

    /// Renames and/or changes visibility: owner or admin of a group or thread (a
    /// thread's visibility follows its parent and cannot be set). Publishes
    /// `CHANNEL_UPDATED` to the members.
    pub async fn update_channel(
        &self,
        user: UserId,
        channel: ChannelId,
        name: Option<&str>,
        visibility: Option<Visibility>,
    ) -> Result<Channel> {
        let name = name.map(validate::channel_name).transpose()?;
        let (record, role) = self.member(user, channel).await?;
        match record.kind {
            ChannelKind::Dm => return Err(ServiceError::forbidden("a DM cannot be changed")),
            ChannelKind::Thread if visibility.is_some() => {
                return Err(ServiceError::bad_request(
                    "visibility",
                    "a thread follows its parent's visibility",
                ))
            }
            _ => {}
        }
        if !role.can_manage() {
            return Err(ServiceError::forbidden(
                "only the owner or an admin can change the channel",
            ));
        }
        if name.is_none() && visibility.is_none() {
            return self.channel_view(channel, user).await;
        }
        let updated = self
            .store()
            .update_channel(channel, name, visibility)
            .await?
            .ok_or_else(|| ServiceError::not_found("channel"))?;
        if updated.member_count <= self.config().large_threshold {
            let views = self.store().member_views(channel).await?;
            let publications = by_view(views)
                .into_iter()
                .map(|(view, members)| {
                    Publication::to_users(
                        members,
                        ServerEvent::ChannelUpdated(Box::new(ChannelData { channel: view })),
                    )
                })
                .collect();
            self.publish_all(publications).await;
        } else {
            let view = self.channel_view(channel, NOBODY).await?;
            self.publish(Publication::ephemeral(
                channel,
                Vec::new(),
                ServerEvent::ChannelUpdated(Box::new(ChannelData { channel: view })),
            ))
            .await;
        }
        self.channel_view(channel, user).await
    }

    /// Deletes a group or thread with its messages (and a group's threads): the owner
    /// only. Publishes `CHANNEL_DELETED` to the members it had, and one per thread of
    /// a group to the members that thread had.
    pub async fn delete_channel(&self, user: UserId, channel: ChannelId) -> Result<()> {
        let (record, role) = self.member(user, channel).await?;
        if record.kind == ChannelKind::Dm {
            return Err(ServiceError::forbidden("a DM cannot be deleted"));
        }
        if role != Role::Owner {
            return Err(ServiceError::forbidden(
                "only the owner can delete the channel",
            ));
        }
        let mut audiences = vec![(channel, self.store().member_ids(channel).await?)];
        if record.kind == ChannelKind::Group {
            for thread in self.store().thread_ids(channel).await? {
                audiences.push((thread, self.store().member_ids(thread).await?));
            }
        }
        if !self.store().delete_channel(channel).await? {
            return Err(ServiceError::not_found("channel"));
        }
        for (gone, _) in &audiences {
            self.inner.members.forget_channel(*gone);
        }
        let publications = audiences
            .into_iter()
            .filter(|(_, members)| !members.is_empty())
            .map(|(channel_id, members)| {
                Publication::to_users(
                    members,
                    ServerEvent::ChannelDeleted(ChannelDeleted { channel_id }),
                )
            })
            .collect();
        self.publish_all(publications).await;
        Ok(())
    }

    /// The channel as `viewer` sees it; `NOT_FOUND` when it is gone.
    pub(crate) async fn channel_view(&self, channel: ChannelId, viewer: UserId) -> Result<Channel> {
        self.store()
            .channel_for(channel, viewer)
            .await?
            .ok_or_else(|| ServiceError::not_found("channel"))
    }

    /// `FORBIDDEN` when `current + adding` exceeds the member limit.
    pub(crate) fn check_room(&self, current: u32, adding: usize) -> Result<()> {
        let max = u64::from(self.config().max_group_members);
        let total = u64::from(current).saturating_add(u64::try_from(adding).unwrap_or(u64::MAX));
        if total > max {
            return Err(ServiceError::forbidden(format!(
                "a channel has at most {max} members"
            )));
        }
        Ok(())
    }

    /// `BAD_REQUEST` naming `field` when any id names no user.
    pub(crate) async fn check_users_exist(&self, field: &str, ids: &[UserId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let found = self.store().users(ids).await?;
        if found.len() != ids.len() {
            let known: std::collections::HashSet<UserId> = found.iter().map(|u| u.id).collect();
            let missing = ids.iter().find(|id| !known.contains(id)).copied();
            return Err(ServiceError::bad_request(
                field,
                format!(
                    "no user {}",
                    missing.map_or_else(String::new, |id| id.to_string())
                ),
            ));
        }
        Ok(())
    }
}

/// The members grouped by the view they have of the channel, in the order of each
/// view's first member. The views differ only in the per-viewer fields.
fn by_view(views: Vec<(UserId, Channel)>) -> Vec<(Channel, Vec<UserId>)> {
    type Key = (Option<protocol::MessageId>, u32, bool, Option<u64>);
    let key = |view: &Channel| -> Key {
        (
            view.last_read_message_id,
            view.unread_count,
            view.muted,
            view.muted_until,
        )
    };
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    let mut groups: Vec<(Channel, Vec<UserId>)> = Vec::new();
    for (member, view) in views {
        match index.get(&key(&view)) {
            Some(&i) => groups[i].1.push(member),
            None => {
                index.insert(key(&view), groups.len());
                groups.push((view, vec![member]));
            }
        }
    }
    groups
}

/// `ids` without duplicates and without `skip`, in their first order.
pub(crate) fn dedup_without(ids: Vec<UserId>, skip: UserId) -> Vec<UserId> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter()
        .filter(|id| *id != skip && seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    use bus::Target;
    use protocol::ErrorCode;

    use super::*;
    use crate::test_support::{config, Fixture};

    #[tokio::test]
    async fn create_publishes_channel_created_to_every_member() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let channel = f
            .chat
            .create_channel(a, " team ", None, vec![b, c, b, a])
            .await
            .unwrap();
        assert_eq!(channel.name, "team");
        assert_eq!(channel.visibility, Visibility::Private);
        assert_eq!(channel.member_count, 3);
        let published = f.drain();
        assert_eq!(published.len(), 1);
        let Target::Users(users) = &published[0].target else {
            panic!("users target expected")
        };
        let mut users = users.clone();
        users.sort();
        let mut expected = vec![a, b, c];
        expected.sort();
        assert_eq!(users, expected);
        assert!(
            matches!(&published[0].event, ServerEvent::ChannelCreated(d) if d.channel.id == channel.id)
        );
    }

    #[tokio::test]
    async fn create_checks_names_members_and_the_limit() {
        let f = Fixture::with_config(crate::ChatConfig {
            max_group_members: 2,
            ..config()
        });
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let err = f
            .chat
            .create_channel(a, " ", None, vec![])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        let err = f
            .chat
            .create_channel(a, "x", None, vec![UserId::new(999)])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.starts_with("member_ids"));
        let err = f
            .chat
            .create_channel(a, "x", None, vec![b, c])
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        f.chat.create_channel(a, "x", None, vec![b]).await.unwrap();
    }

    #[tokio::test]
    async fn get_follows_visibility() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let public = f.group(a, Visibility::Public, &[]).await;
        let private = f.group(a, Visibility::Private, &[]).await;
        assert_eq!(f.chat.channel(b, public).await.unwrap().id, public);
        assert_eq!(
            f.chat.channel(b, private).await.unwrap_err().code,
            ErrorCode::NotFound
        );
        let listed = f.chat.public_channels(b, "", 50).await.unwrap();
        assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [public]);
        assert!(f.chat.channels(b).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn update_needs_a_manager_and_notifies_members() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        let err = f
            .chat
            .update_channel(b, ch, Some("mine"), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Forbidden);
        let updated = f
            .chat
            .update_channel(a, ch, Some("renamed"), Some(Visibility::Public))
            .await
            .unwrap();
        assert_eq!(
            (updated.name.as_str(), updated.visibility),
            ("renamed", Visibility::Public)
        );
        let published = f.drain();
        assert_eq!(
            published.len(),
            1,
            "both see the same channel: one publication"
        );
        assert_eq!(published[0].target, Target::Users(vec![a, b]));
        assert!(
            matches!(&published[0].event, ServerEvent::ChannelUpdated(d) if d.channel.name == "renamed")
        );
    }

    /// One CHANNEL_UPDATED per distinct view, each to the members who see that one,
    /// with their own read position, unread count and mute.
    #[tokio::test]
    async fn update_publishes_once_per_distinct_view() {
        let mut f = Fixture::new();
        let mut users = Vec::new();
        for name in ["alice", "bob", "carol", "dan", "erin"] {
            users.push(f.user(name).await);
        }
        let [a, b, c, d, e] = users[..] else {
            unreachable!()
        };
        let ch = f.group(a, Visibility::Private, &[b, c, d, e]).await;
        let m1 = f.send(a, ch, "hello").await.unwrap();
        f.chat.store().mark_read(ch, b, m1.id).await.unwrap();
        f.chat.store().mute(ch, c, None).await.unwrap();
        f.drain();
        f.chat
            .update_channel(a, ch, Some("renamed"), None)
            .await
            .unwrap();
        let mut seen: Vec<(Vec<UserId>, Channel)> = f
            .drain()
            .iter()
            .map(|p| {
                let Target::Users(users) = &p.target else {
                    panic!("users target expected")
                };
                let ServerEvent::ChannelUpdated(data) = &p.event else {
                    panic!("{:?}", p.event)
                };
                let mut users = users.clone();
                users.sort();
                (users, data.channel.clone())
            })
            .collect();
        seen.sort_by_key(|(users, _)| users[0]);
        let mut expected = vec![vec![a], vec![b], vec![c], vec![d, e]];
        for group in &mut expected {
            group.sort();
        }
        expected.sort_by_key(|users| users[0]);
        assert_eq!(
            seen.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(),
            expected
        );
        for (users, view) in &seen {
            assert_eq!(view.name, "renamed");
            for user in users {
                let alone = f.chat.channel(*user, ch).await.unwrap();
                assert_eq!(view, &alone, "{user} gets their own view");
            }
        }
    }

    /// Deleting a group tells each thread's members that the thread is gone too.
    #[tokio::test]
    async fn deleting_a_group_deletes_its_threads_for_their_members() {
        let mut f = Fixture::new();
        let (a, b, c) = (
            f.user("alice").await,
            f.user("bob").await,
            f.user("carol").await,
        );
        let ch = f.group(a, Visibility::Public, &[b]).await;
        let root = f.send(b, ch, "root").await.unwrap();
        let thread = f.chat.create_thread(b, root.id, "thread").await.unwrap();
        f.chat.join_channel(c, thread.id).await.unwrap();
        let empty_root = f.send(a, ch, "another").await.unwrap();
        let lonely = f.chat.create_thread(a, empty_root.id, "t2").await.unwrap();
        f.chat.leave_channel(a, lonely.id).await.unwrap();
        f.drain();

        f.chat.delete_channel(a, ch).await.unwrap();
        let mut deleted: Vec<(ChannelId, Vec<UserId>)> = f
            .drain()
            .iter()
            .map(|p| {
                let ServerEvent::ChannelDeleted(d) = &p.event else {
                    panic!("{:?}", p.event)
                };
                let Target::Users(users) = &p.target else {
                    panic!("users target expected")
                };
                let mut users = users.clone();
                users.sort();
                (d.channel_id, users)
            })
            .collect();
        deleted.sort();
        let mut expected = vec![(ch, vec![a, b]), (thread.id, vec![b, c])];
        for (_, users) in &mut expected {
            users.sort();
        }
        expected.sort();
        assert_eq!(
            deleted, expected,
            "no publication for a thread without members"
        );
        assert_eq!(
            f.chat.channel(c, thread.id).await.unwrap_err().code,
            ErrorCode::NotFound
        );
    }

    #[tokio::test]
    async fn delete_is_for_the_owner_and_notifies_the_members_it_had() {
        let mut f = Fixture::new();
        let (a, b) = (f.user("alice").await, f.user("bob").await);
        let ch = f.group(a, Visibility::Private, &[b]).await;
        assert_eq!(
            f.chat.delete_channel(b, ch).await.unwrap_err().code,
            ErrorCode::Forbidden
        );
        f.chat.delete_channel(a, ch).await.unwrap();
        let published = f.drain();
        assert_eq!(published.len(), 1);
        let Target::Users(users) = &published[0].target else {
            panic!("users target expected")
        };
        assert_eq!(users.len(), 2);
        assert!(matches!(published[0].event, ServerEvent::ChannelDeleted(d) if d.channel_id == ch));
        assert_eq!(
            f.chat.channel(a, ch).await.unwrap_err().code,
            ErrorCode::NotFound
        );
    }
}
