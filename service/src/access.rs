//! Who may see and act in a channel (PROTOCOL.md section 6, API.md "Visibility").
//!
//! - A member sees the channel and may act in it (roles decide management).
//! - A non-member sees a public group, and a thread whose parent channel they can see
//!   (a thread follows its parent's visibility); they get `FORBIDDEN` for its
//!   messages, members, receipts and sending.
//! - Anything else (private groups, DMs, threads of those) is `NOT_FOUND`, exactly as
//!   if it did not exist.

use protocol::{ChannelId, ChannelKind, MessageId, Role, UserId, Visibility};
use storage::{ChannelRecord, MessageRecord};

use crate::chat::Chat;
use crate::error::{Result, ServiceError};

/// A channel the caller can see, with their role in it (`None`: not a member).
pub(crate) struct Visible {
    pub(crate) record: ChannelRecord,
    pub(crate) role: Option<Role>,
}

impl Chat {
    /// The channel record, or `NOT_FOUND`.
    pub(crate) async fn channel_record(&self, channel: ChannelId) -> Result<ChannelRecord> {
        self.store()
            .channel(channel)
            .await?
            .ok_or_else(|| ServiceError::not_found("channel"))
    }

    /// Whether a non-member `user` can see `record`.
    pub(crate) async fn visible_to_non_member(
        &self,
        record: &ChannelRecord,
        user: UserId,
    ) -> Result<bool> {
        match record.kind {
            ChannelKind::Group => Ok(record.visibility == Visibility::Public),
            ChannelKind::Dm => Ok(false),
            ChannelKind::Thread => {
                let Some(parent_id) = record.parent_id else {
                    return Ok(false);
                };
                let Some(parent) = self.store().channel(parent_id).await? else {
                    return Ok(false);
                };
                if self.store().member_role(parent_id, user).await?.is_some() {
                    return Ok(true);
                }
                Ok(parent.kind == ChannelKind::Group && parent.visibility == Visibility::Public)
            }
        }
    }

    /// The channel if `user` can see it, else `NOT_FOUND`.
    pub(crate) async fn visible(&self, user: UserId, channel: ChannelId) -> Result<Visible> {
        let record = self.channel_record(channel).await?;
        let role = self.store().member_role(channel, user).await?;
        if role.is_none() && !self.visible_to_non_member(&record, user).await? {
            return Err(ServiceError::not_found("channel"));
        }
        Ok(Visible { record, role })
    }

    /// `Ok` when `user` is a member of `channel`; `FORBIDDEN` when they can see it
    /// without being a member, else `NOT_FOUND`. For callers that must answer
    /// visibility before anything else, e.g. before reading a request body.
    pub async fn check_member(&self, user: UserId, channel: ChannelId) -> Result<()> {
        self.member(user, channel).await.map(|_| ())
    }

    /// The channel and the caller's role if they are a member; `FORBIDDEN` when they
    /// can see it without being a member, else `NOT_FOUND`.
    pub(crate) async fn member(
        &self,
        user: UserId,
        channel: ChannelId,
    ) -> Result<(ChannelRecord, Role)> {
        let visible = self.visible(user, channel).await?;
        match visible.role {
            Some(role) => Ok((visible.record, role)),
            None => Err(ServiceError::forbidden("not a member of this channel")),
        }
    }

    /// The channel's kind and the caller's role if they are a member (the hot path of
    /// sends and typing: from the membership cache when it knows); errors as
    /// [`Self::member`].
    pub(crate) async fn member_kind(
        &self,
        user: UserId,
        channel: ChannelId,
    ) -> Result<(ChannelKind, Role)> {
        if let Some(known) = self.inner.members.get(channel, user) {
            return Ok(known);
        }
        let (record, role) = self.member(user, channel).await?;
        self.inner.members.insert(channel, user, record.kind, role);
        Ok((record.kind, role))
    }

    /// An undeleted message in a channel the caller is a member of; `NOT_FOUND` when
    /// it is absent, deleted or in a channel the caller cannot see.
    pub(crate) async fn member_message(
        &self,
        user: UserId,
        message: MessageId,
    ) -> Result<(MessageRecord, ChannelRecord, Role)> {
        let record = self
            .store()
            .message(message)
            .await?
            .filter(|m| m.deleted_at.is_none())
            .ok_or_else(|| ServiceError::not_found("message"))?;
        let (channel, role) = match self.member(user, record.message.channel_id).await {
            Err(e) if e.code == protocol::ErrorCode::NotFound => {
                return Err(ServiceError::not_found("message"))
            }
            other => other?,
        };
        Ok((record, channel, role))
    }

    /// `BLOCKED` when `user` and the other member of the DM `record` blocked each other
    /// (either way). A no-op for other kinds.
    pub(crate) async fn check_dm_not_blocked(
        &self,
        user: UserId,
        channel: ChannelId,
        kind: ChannelKind,
    ) -> Result<()> {
        if kind != ChannelKind::Dm {
            return Ok(());
        }
        let members = self.store().member_ids(channel).await?;
        for other in members.into_iter().filter(|m| *m != user) {
            if self.store().is_blocked_either(user, other).await? {
                return Err(ServiceError::blocked("you cannot message this user"));
            }
        }
        Ok(())
    }
}
