//! [`MemberStore`] for SQLite.
//!
//! A join or leave that changes membership moves `member_count` and the channel offset
//! in one `UPDATE`, in the same transaction as the member row; a repeat changes nothing.
//! The writes ([`insert_member`], [`delete_member`]) are shared with batches (`events.rs`).

use async_trait::async_trait;
use protocol::{ChannelId, Member, Role, UserId};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{id, parse_role, to_id};
use super::error::SqlResultExt;
use super::rows::user_from;
use super::view::no_channel;
use super::SqliteStore;
use crate::error::Result;
use crate::ops::members::MemberStore;

#[async_trait]
impl MemberStore for SqliteStore {
    async fn add_member(
        &self,
        channel: ChannelId,
        user: UserId,
        role: Role,
    ) -> Result<Option<u64>> {
        self.write(move |conn| insert_member(conn, id(channel), user, role))
            .await
    }

    async fn member_role(&self, channel: ChannelId, user: UserId) -> Result<Option<Role>> {
        let role: Option<String> = self
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT role FROM members WHERE channel_id = ?1 AND user_id = ?2",
                )
                .and_then(|mut stmt| {
                    stmt.query_row([id(channel), id(user)], |row| row.get(0))
                        .optional()
                })
                .store()
            })
            .await?;
        role.as_deref().map(parse_role).transpose()
    }

    async fn members(
        &self,
        channel: ChannelId,
        after: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Member>> {
        let rows: Vec<(protocol::User, String)> = self
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT u.id, u.username, u.display_name, m.role FROM members m \
                     JOIN users u ON u.id = m.user_id \
                     WHERE m.channel_id = ?1 AND m.user_id > ?2 ORDER BY m.user_id LIMIT ?3",
                )
                .and_then(|mut stmt| {
                    stmt.query_map(params![id(channel), after.map_or(-1, id), limit], |row| {
                        Ok((user_from(row, 0)?, row.get(3)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .store()
            })
            .await?;
        rows.into_iter()
            .map(|(user, role)| {
                Ok(Member {
                    user,
                    role: parse_role(&role)?,
                })
            })
            .collect()
    }

    async fn member_ids(&self, channel: ChannelId) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT user_id FROM members WHERE channel_id = ?1 ORDER BY user_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([id(channel)], |row| row.get::<_, i64>(0).map(to_id))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn contacts(&self, user: UserId, max_members: u32) -> Result<Vec<UserId>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT DISTINCT other.user_id FROM members mine \
                 JOIN channels c ON c.id = mine.channel_id \
                 JOIN members other ON other.channel_id = mine.channel_id \
                 WHERE mine.user_id = ?1 AND other.user_id <> ?1 \
                 AND (c.kind = 'dm' OR c.member_count <= ?2) \
                 ORDER BY other.user_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![id(user), max_members], |row| {
                    row.get::<_, i64>(0).map(to_id)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }

    async fn remove_member(&self, channel: ChannelId, user: UserId) -> Result<Option<u64>> {
        self.write(move |conn| delete_member(conn, id(channel), user))
            .await
    }
}

/// Adds `user` to `channel` with `role`: `Some(offset)` of the `USER_JOINED` event, or
/// `None` when they were already a member.
pub(super) fn insert_member(
    conn: &Connection,
    channel: i64,
    user: UserId,
    role: Role,
) -> Result<Option<u64>> {
    let added = conn
        .prepare_cached(
            "INSERT INTO members (channel_id, user_id, role) VALUES (?1, ?2, ?3) \
             ON CONFLICT (channel_id, user_id) DO NOTHING",
        )
        .and_then(|mut stmt| stmt.execute(params![channel, id(user), role.as_str()]))
        .store()?;
    if added == 0 {
        return Ok(None);
    }
    change_count(conn, channel, 1).map(Some)
}

/// Removes `user` from `channel`: `Some(offset)` of the `USER_LEFT` event, or `None`
/// when they were not a member.
pub(super) fn delete_member(conn: &Connection, channel: i64, user: UserId) -> Result<Option<u64>> {
    let removed = conn
        .prepare_cached("DELETE FROM members WHERE channel_id = ?1 AND user_id = ?2")
        .and_then(|mut stmt| stmt.execute([channel, id(user)]))
        .store()?;
    if removed == 0 {
        return Ok(None);
    }
    change_count(conn, channel, -1).map(Some)
}

/// Moves `member_count` by `delta` and the offset by one; returns the new offset.
fn change_count(conn: &Connection, channel: i64, delta: i64) -> Result<u64> {
    conn.prepare_cached(
        "UPDATE channels SET member_count = MAX(member_count + ?2, 0), \
         event_offset = event_offset + 1 WHERE id = ?1 RETURNING event_offset",
    )
    .and_then(|mut stmt| {
        stmt.query_row([channel, delta], |row| row.get::<_, i64>(0))
            .optional()
    })
    .store()?
    .map(super::codec::to_u64)
    .ok_or_else(no_channel)
}
