//! [`ChannelStore`] for SQLite.
//!
//! A DM is keyed by `"min:max"` of its two users (`dm_key`, unique), and created inside
//! an `IMMEDIATE` transaction after looking that key up, so racing calls — even from two
//! processes — get the same DM. Deleting a channel cascades through foreign keys to its
//! members, messages (and their reactions, edits, attachments and search entries),
//! receipts, mutes and threads.

use std::collections::BTreeSet;

use async_trait::async_trait;
use protocol::{Channel, ChannelId, ChannelKind, Role, UserId, Visibility};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{fold, id, int, kind_str, like_escape, new_id, to_id};
use super::error::SqlResultExt;
use super::view::{load_member_views, load_record, load_view, query_views, view_select};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::channels::{ChannelRecord, ChannelStore, NewChannel};

/// Inserts a member row (no offset move: joining at creation is no channel event).
fn insert_member(conn: &Connection, channel: i64, user: i64, role: Role) -> Result<()> {
    conn.prepare_cached("INSERT INTO members (channel_id, user_id, role) VALUES (?1, ?2, ?3)")
        .and_then(|mut stmt| stmt.execute(params![channel, user, role.as_str()]))
        .store()?;
    Ok(())
}

/// Whether a user exists.
fn user_exists(conn: &Connection, user: i64) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1)")
        .and_then(|mut stmt| stmt.query_row([user], |row| row.get(0)))
        .store()
}

/// Inserts a channel row.
#[allow(clippy::too_many_arguments)]
fn insert_channel(
    conn: &Connection,
    channel: i64,
    kind: ChannelKind,
    name: &str,
    visibility: Visibility,
    parent: Option<i64>,
    root: Option<i64>,
    owner: i64,
    dm_key: Option<&str>,
    member_count: usize,
    created_at: u64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO channels (id, kind, name, search_name, visibility, parent_id, \
         root_message_id, owner_id, dm_key, member_count, event_offset, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            channel,
            kind_str(kind),
            name,
            fold(name),
            visibility.as_str(),
            parent,
            root,
            owner,
            dm_key,
            i64::try_from(member_count).unwrap_or(i64::MAX),
            int(created_at),
        ])
    })
    .store()?;
    Ok(())
}

/// The record just written, which must exist inside the same transaction.
fn written(conn: &Connection, channel: i64) -> Result<ChannelRecord> {
    load_record(conn, channel)?
        .ok_or_else(|| StoreError::Internal("channel vanished inside its transaction".into()))
}

#[async_trait]
impl ChannelStore for SqliteStore {
    async fn create_channel(&self, new: NewChannel) -> Result<ChannelRecord> {
        if new.kind == ChannelKind::Dm {
            return Err(StoreError::Invalid(
                "kind: DMs are created with create_dm".into(),
            ));
        }
        let channel = new_id(new.id, "id")?;
        let owner = id(new.owner_id);
        let others: BTreeSet<i64> = new
            .member_ids
            .iter()
            .map(|&user| id(user))
            .filter(|&user| user != owner)
            .collect();
        self.write(move |conn| {
            if !user_exists(conn, owner)? {
                return Err(StoreError::Invalid("owner_id: no such user".into()));
            }
            for &user in &others {
                if !user_exists(conn, user)? {
                    return Err(StoreError::Invalid(format!("member_ids: no user {user}")));
                }
            }
            insert_channel(
                conn,
                channel,
                new.kind,
                &new.name,
                new.visibility,
                new.parent_id.map(id),
                new.root_message_id.map(id),
                owner,
                None,
                others.len() + 1,
                new.created_at,
            )?;
            insert_member(conn, channel, owner, Role::Owner)?;
            for &user in &others {
                insert_member(conn, channel, user, Role::Member)?;
            }
            written(conn, channel)
        })
        .await
    }

    async fn create_dm(
        &self,
        dm: ChannelId,
        a: UserId,
        b: UserId,
        created_at: u64,
    ) -> Result<(ChannelRecord, bool)> {
        let channel = new_id(dm, "id")?;
        let (low, high) = (id(a.min(b)), id(a.max(b)));
        let key = format!("{low}:{high}");
        let creator = id(a);
        self.write(move |conn| {
            let existing: Option<i64> = conn
                .prepare_cached("SELECT id FROM channels WHERE dm_key = ?1")
                .and_then(|mut stmt| stmt.query_row([&key], |row| row.get(0)).optional())
                .store()?;
            if let Some(existing) = existing {
                return Ok((written(conn, existing)?, false));
            }
            for user in [low, high] {
                if !user_exists(conn, user)? {
                    return Err(StoreError::Invalid(format!("user_id: no user {user}")));
                }
            }
            let members = if low == high { 1 } else { 2 };
            insert_channel(
                conn,
                channel,
                ChannelKind::Dm,
                "",
                Visibility::Private,
                None,
                None,
                creator,
                Some(&key),
                members,
                created_at,
            )?;
            insert_member(conn, channel, low, Role::Member)?;
            if high != low {
                insert_member(conn, channel, high, Role::Member)?;
            }
            Ok((written(conn, channel)?, true))
        })
        .await
    }

    async fn channel(&self, channel: ChannelId) -> Result<Option<ChannelRecord>> {
        self.read(move |conn| load_record(conn, id(channel))).await
    }

    async fn channel_for(&self, channel: ChannelId, viewer: UserId) -> Result<Option<Channel>> {
        self.read(move |conn| load_view(conn, id(channel), id(viewer)))
            .await
    }

    async fn member_views(&self, channel: ChannelId) -> Result<Vec<(UserId, Channel)>> {
        self.read(move |conn| load_member_views(conn, id(channel)))
            .await
    }

    async fn thread_ids(&self, parent: ChannelId) -> Result<Vec<ChannelId>> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT id FROM channels WHERE parent_id = ?1 ORDER BY id")
                .and_then(|mut stmt| {
                    stmt.query_map([id(parent)], |row| row.get::<_, i64>(0).map(to_id))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .store()
        })
        .await
    }

    async fn channels_for_user(&self, user: UserId) -> Result<Vec<Channel>> {
        self.read(move |conn| channels_of(conn, user)).await
    }

    async fn public_channels(
        &self,
        viewer: UserId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Channel>> {
        let pattern = format!("%{}%", like_escape(&fold(query.trim())));
        self.read(move |conn| {
            query_views(
                conn,
                concat!(
                    view_select!(),
                    "WHERE c.kind = 'group' AND c.visibility = 'public' \
                     AND c.search_name LIKE ?2 ESCAPE '\\' \
                     ORDER BY c.search_name, c.id LIMIT ?3"
                ),
                params![id(viewer), pattern, limit],
            )
        })
        .await
    }

    async fn update_channel(
        &self,
        channel: ChannelId,
        name: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Option<ChannelRecord>> {
        self.write(move |conn| {
            let search_name = name.as_deref().map(fold);
            let changed = conn
                .prepare_cached(
                    "UPDATE channels SET name = COALESCE(?2, name), \
                     search_name = COALESCE(?3, search_name), \
                     visibility = COALESCE(?4, visibility) WHERE id = ?1",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        id(channel),
                        name,
                        search_name,
                        visibility.map(Visibility::as_str),
                    ])
                })
                .store()?;
            if changed == 0 {
                return Ok(None);
            }
            load_record(conn, id(channel))
        })
        .await
    }

    async fn delete_channel(&self, channel: ChannelId) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM channels WHERE id = ?1")
                .and_then(|mut stmt| stmt.execute([id(channel)]))
                .map(|deleted| deleted > 0)
                .store()
        })
        .await
    }
}

/// The user's channels as they see them, the most recently active first.
pub(super) fn channels_of(conn: &Connection, user: UserId) -> Result<Vec<Channel>> {
    query_views(
        conn,
        concat!(
            view_select!(),
            "WHERE c.id IN (SELECT channel_id FROM members WHERE user_id = ?1) \
             ORDER BY MAX(c.id, COALESCE(c.last_message_id, 0)) DESC"
        ),
        [id(user)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::users::{NewUser, UserStore};

    #[tokio::test]
    async fn dm_keys_are_ordered_and_a_dm_with_oneself_has_one_member() {
        let store = SqliteStore::open_in_memory().unwrap();
        for (n, name) in [(1, "ann"), (2, "bob")] {
            store
                .create_user(NewUser {
                    id: UserId::new(n),
                    username: name.into(),
                    display_name: name.to_uppercase(),
                    password_hash: "h".into(),
                    created_at: 0,
                })
                .await
                .unwrap();
        }
        let (dm, created) = store
            .create_dm(ChannelId::new(10), UserId::new(2), UserId::new(1), 5)
            .await
            .unwrap();
        assert!(created);
        let key: String = store
            .read(|conn| {
                conn.query_row("SELECT dm_key FROM channels WHERE id = 10", [], |row| {
                    row.get(0)
                })
                .store()
            })
            .await
            .unwrap();
        assert_eq!(key, "1:2");
        assert_eq!(dm.owner_id, UserId::new(2));

        let (own, created) = store
            .create_dm(ChannelId::new(11), UserId::new(1), UserId::new(1), 5)
            .await
            .unwrap();
        assert!(created);
        assert_eq!(own.member_count, 1);
        let seen = store
            .channel_for(own.id, UserId::new(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seen.name, "ANN");
    }

    #[tokio::test]
    async fn dm_kind_is_refused_by_create_channel() {
        let store = SqliteStore::open_in_memory().unwrap();
        let err = store
            .create_channel(NewChannel {
                id: ChannelId::new(1),
                kind: ChannelKind::Dm,
                name: String::new(),
                visibility: Visibility::Private,
                parent_id: None,
                root_message_id: None,
                owner_id: UserId::new(1),
                member_ids: Vec::new(),
                created_at: 0,
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
    }
}
