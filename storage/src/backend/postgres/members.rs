//! [`MemberStore`] for PostgreSQL.
//!
//! A join or leave that changes membership moves `member_count` and the channel offset
//! in one `UPDATE`, in the same transaction as the member row; a repeat changes nothing.
//! The writes ([`insert_member`], [`delete_member`]) are shared with batches (`events.rs`).

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use protocol::{ChannelId, Member, Role, UserId};

use super::codec::{get, id, parse_role, to_id, to_u64};
use super::error::PgResultExt;
use super::rows::{column, execute, query, query_opt, user_from};
use super::view::no_channel;
use super::PostgresStore;
use crate::error::Result;
use crate::ops::members::MemberStore;

#[async_trait]
impl MemberStore for PostgresStore {
    async fn add_member(
        &self,
        channel: ChannelId,
        user: UserId,
        role: Role,
    ) -> Result<Option<u64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let offset = insert_member(&tx, id(channel), user, role).await?;
        tx.commit().await.pg()?;
        Ok(offset)
    }

    async fn member_role(&self, channel: ChannelId, user: UserId) -> Result<Option<Role>> {
        let client = self.client().await?;
        query_opt(
            &client,
            "SELECT role FROM members WHERE channel_id = $1 AND user_id = $2",
            &[&id(channel), &id(user)],
        )
        .await?
        .map(|row| parse_role(&get::<String>(&row, 0)?))
        .transpose()
    }

    async fn members(
        &self,
        channel: ChannelId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        let client = self.client().await?;
        query(
            &client,
            "SELECT u.id, u.username, u.display_name, m.role FROM members m \
             JOIN users u ON u.id = m.user_id \
             WHERE m.channel_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3",
            &[&id(channel), &after.map_or(-1, id), &i64::from(limit)],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(Member {
                user: user_from(row, 0)?,
                role: parse_role(&get::<String>(row, 3)?)?,
            })
        })
        .collect()
    }

    async fn member_ids(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT user_id FROM members WHERE channel_id = $1 ORDER BY user_id",
            &[&id(channel)],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn contacts(&self, user: UserId, max_members: u32) -> Result<Vec<UserId>> {
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT DISTINCT other.user_id FROM members mine \
             JOIN channels c ON c.id = mine.channel_id \
             JOIN members other ON other.channel_id = mine.channel_id \
             WHERE mine.user_id = $1 AND other.user_id <> $1 \
             AND (c.kind = 'dm' OR c.member_count <= $2) \
             ORDER BY other.user_id",
            &[&id(user), &i64::from(max_members)],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn remove_member(&self, channel: ChannelId, user: UserId) -> Result<Option<u64>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        let offset = delete_member(&tx, id(channel), user).await?;
        tx.commit().await.pg()?;
        Ok(offset)
    }
}

/// Adds `user` to `channel` with `role`: `Some(offset)` of the `USER_JOINED` event, or
/// `None` when they were already a member.
pub(super) async fn insert_member<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    user: UserId,
    role: Role,
) -> Result<Option<u64>> {
    let added = execute(
        c,
        "INSERT INTO members (channel_id, user_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (channel_id, user_id) DO NOTHING",
        &[&channel, &id(user), &role.as_str()],
    )
    .await?;
    if added == 0 {
        return Ok(None);
    }
    change_count(c, channel, 1).await.map(Some)
}

/// Removes `user` from `channel`: `Some(offset)` of the `USER_LEFT` event, or `None`
/// when they were not a member.
pub(super) async fn delete_member<C: GenericClient + Sync>(
    c: &C,
    channel: i64,
    user: UserId,
) -> Result<Option<u64>> {
    let removed = execute(
        c,
        "DELETE FROM members WHERE channel_id = $1 AND user_id = $2",
        &[&channel, &id(user)],
    )
    .await?;
    if removed == 0 {
        return Ok(None);
    }
    change_count(c, channel, -1).await.map(Some)
}

/// Moves `member_count` by `delta` and the offset by one; returns the new offset.
async fn change_count<C: GenericClient + Sync>(c: &C, channel: i64, delta: i64) -> Result<u64> {
    let row = query_opt(
        c,
        "UPDATE channels SET member_count = GREATEST(member_count + $2, 0), \
         event_offset = event_offset + 1 WHERE id = $1 RETURNING event_offset",
        &[&channel, &delta],
    )
    .await?
    .ok_or_else(no_channel)?;
    Ok(to_u64(get(&row, 0)?))
}
