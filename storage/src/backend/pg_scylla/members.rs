//! [`MemberStore`]: members, and the offsets their joins and leaves take, live in
//! PostgreSQL.

use async_trait::async_trait;
use protocol::{ChannelId, Member, Role, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::members::MemberStore;

#[async_trait]
impl MemberStore for PgScyllaStore {
    async fn add_member(
        &self,
        channel: ChannelId,
        user: UserId,
        role: Role,
    ) -> Result<Option<u64>> {
        // This is the store's own implementation of the method, not a caller of it.
        #[allow(clippy::disallowed_methods)]
        self.pg.add_member(channel, user, role).await
    }
    async fn member_role(&self, channel: ChannelId, user: UserId) -> Result<Option<Role>> {
        self.pg.member_role(channel, user).await
    }
    async fn members(
        &self,
        channel: ChannelId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        self.pg.members(channel, after, limit).await
    }
    async fn member_ids(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        self.pg.member_ids(channel).await
    }
    async fn contacts(&self, user: UserId, max_members: u32) -> Result<Vec<UserId>> {
        self.pg.contacts(user, max_members).await
    }
    async fn remove_member(&self, channel: ChannelId, user: UserId) -> Result<Option<u64>> {
        #[allow(clippy::disallowed_methods)]
        self.pg.remove_member(channel, user).await
    }
}
