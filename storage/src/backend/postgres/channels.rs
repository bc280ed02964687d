//! [`ChannelStore`] for PostgreSQL.
//!
//! A DM is keyed by `"min:max"` of its two users (`dm_key`, unique) and created with
//! `INSERT ... ON CONFLICT (dm_key) DO NOTHING`: of two racing calls, on any nodes, the
//! second waits for the first to commit and then reads its DM. Deleting a channel
//! cascades through foreign keys to its members, messages (and their reactions, edits,
//! attachments), receipts, mutes and threads.

use std::collections::BTreeSet;

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use protocol::{Channel, ChannelId, ChannelKind, Role, UserId, Visibility};

use super::codec::{count, fold, get, id, int, like_escape, new_id, to_id};
use super::error::PgResultExt;
use super::rows::{column, execute, query_opt};
use super::view::{load_member_views, load_record, load_view, query_views, view_select};
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::channels::{ChannelRecord, ChannelStore, NewChannel};

/// Inserts member rows with one role (no offset move: joining at creation is no
/// channel event).
async fn insert_members(
    tx: &Transaction<'_>,
    channel: i64,
    users: &[i64],
    role: Role,
) -> Result<()> {
    execute(
        tx,
        "INSERT INTO members (channel_id, user_id, role) SELECT $1, u, $3 FROM unnest($2::bigint[]) u",
        &[&channel, &users, &role.as_str()],
    )
    .await?;
    Ok(())
}

/// The users among `users` that do not exist, by id.
async fn missing_users(tx: &Transaction<'_>, users: &[i64]) -> Result<Vec<i64>> {
    column(
        tx,
        "SELECT u FROM unnest($1::bigint[]) u WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = u) \
         ORDER BY u",
        &[&users],
    )
    .await
}

/// A channel row to insert.
struct ChannelRow<'a> {
    id: i64,
    kind: ChannelKind,
    name: &'a str,
    visibility: Visibility,
    parent: Option<i64>,
    root: Option<i64>,
    owner: i64,
    member_count: usize,
    created_at: u64,
}

/// Inserts a channel row (not a DM).
async fn insert_channel(tx: &Transaction<'_>, row: ChannelRow<'_>) -> Result<()> {
    execute(
        tx,
        "INSERT INTO channels (id, kind, name, search_name, visibility, parent_id, \
         root_message_id, owner_id, member_count, event_offset, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10)",
        &[
            &row.id,
            &row.kind.as_str(),
            &row.name,
            &fold(row.name),
            &row.visibility.as_str(),
            &row.parent,
            &row.root,
            &row.owner,
            &count(row.member_count),
            &int(row.created_at),
        ],
    )
    .await?;
    Ok(())
}

/// The record just written, which must exist inside the same transaction.
async fn written(tx: &Transaction<'_>, channel: i64) -> Result<ChannelRecord> {
    load_record(tx, channel)
        .await?
        .ok_or_else(|| StoreError::Internal("channel vanished inside its transaction".into()))
}

#[async_trait]
impl ChannelStore for PostgresStore {
    async fn create_channel(&self, new: NewChannel) -> Result<ChannelRecord> {
        if new.kind == ChannelKind::Dm {
            return Err(StoreError::Invalid(
                "kind: DMs are created with create_dm".into(),
            ));
        }
        let channel = new_id(new.id, "id")?;
        let owner = id(new.owner_id);
        let others: Vec<i64> = new
            .member_ids
            .iter()
            .map(|&user| id(user))
            .filter(|&user| user != owner)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        if !missing_users(&tx, &[owner]).await?.is_empty() {
            return Err(StoreError::Invalid("owner_id: no such user".into()));
        }
        if let Some(user) = missing_users(&tx, &others).await?.first() {
            return Err(StoreError::Invalid(format!("member_ids: no user {user}")));
        }
        insert_channel(
            &tx,
            ChannelRow {
                id: channel,
                kind: new.kind,
                name: &new.name,
                visibility: new.visibility,
                parent: new.parent_id.map(id),
                root: new.root_message_id.map(id),
                owner,
                member_count: others.len() + 1,
                created_at: new.created_at,
            },
        )
        .await?;
        insert_members(&tx, channel, &[owner], Role::Owner).await?;
        insert_members(&tx, channel, &others, Role::Member).await?;
        let record = written(&tx, channel).await?;
        tx.commit().await.pg()?;
        Ok(record)
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
        let members: Vec<i64> = if low == high {
            vec![low]
        } else {
            vec![low, high]
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await.pg()?;
        if let Some(user) = missing_users(&tx, &members).await?.first() {
            return Err(StoreError::Invalid(format!("user_id: no user {user}")));
        }
        // Waits for a racing transaction with the same key, then does nothing.
        let created = query_opt(
            &tx,
            "INSERT INTO channels (id, kind, name, search_name, visibility, owner_id, dm_key, \
             member_count, event_offset, created_at) \
             VALUES ($1, 'dm', '', '', 'private', $2, $3, $4, 0, $5) \
             ON CONFLICT (dm_key) DO NOTHING RETURNING id",
            &[
                &channel,
                &id(a),
                &key,
                &count(members.len()),
                &int(created_at),
            ],
        )
        .await?
        .is_some();
        let record = if created {
            insert_members(&tx, channel, &members, Role::Member).await?;
            written(&tx, channel).await?
        } else {
            let row = query_opt(&tx, "SELECT id FROM channels WHERE dm_key = $1", &[&key])
                .await?
                .ok_or_else(|| {
                    StoreError::Unavailable("dm: its creator rolled back, retry".into())
                })?;
            written(&tx, get(&row, 0)?).await?
        };
        tx.commit().await.pg()?;
        Ok((record, created))
    }

    async fn channel(&self, channel: ChannelId) -> Result<Option<ChannelRecord>> {
        let client = self.client().await?;
        load_record(&client, id(channel)).await
    }

    async fn channel_for(&self, channel: ChannelId, viewer: UserId) -> Result<Option<Channel>> {
        let client = self.client().await?;
        load_view(&client, id(channel), id(viewer)).await
    }

    async fn member_views(&self, channel: ChannelId) -> Result<Vec<(UserId, Channel)>> {
        let client = self.client().await?;
        load_member_views(&client, id(channel)).await
    }

    async fn thread_ids(&self, parent: ChannelId) -> Result<Vec<ChannelId>> {
        let client = self.client().await?;
        Ok(column(
            &client,
            "SELECT id FROM channels WHERE parent_id = $1 ORDER BY id",
            &[&id(parent)],
        )
        .await?
        .into_iter()
        .map(to_id)
        .collect())
    }

    async fn channels_for_user(&self, user: UserId) -> Result<Vec<Channel>> {
        let client = self.client().await?;
        query_views(
            &client,
            concat!(
                view_select!(),
                "WHERE c.id IN (SELECT channel_id FROM members WHERE user_id = $1) \
                 ORDER BY GREATEST(c.id, COALESCE(c.last_message_id, 0)) DESC"
            ),
            &[&id(user)],
        )
        .await
    }

    async fn public_channels(
        &self,
        viewer: UserId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Channel>> {
        let pattern = format!("%{}%", like_escape(&fold(query.trim())));
        let client = self.client().await?;
        query_views(
            &client,
            concat!(
                view_select!(),
                "WHERE c.kind = 'group' AND c.visibility = 'public' \
                 AND c.search_name LIKE $2 ESCAPE '\\' \
                 ORDER BY c.search_name COLLATE \"C\", c.id LIMIT $3"
            ),
            &[&id(viewer), &pattern, &i64::from(limit)],
        )
        .await
    }

    async fn update_channel(
        &self,
        channel: ChannelId,
        name: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Option<ChannelRecord>> {
        let search_name = name.as_deref().map(fold);
        let client = self.client().await?;
        let changed = execute(
            &client,
            "UPDATE channels SET name = COALESCE($2, name), \
             search_name = COALESCE($3, search_name), \
             visibility = COALESCE($4, visibility) WHERE id = $1",
            &[
                &id(channel),
                &name,
                &search_name,
                &visibility.map(Visibility::as_str),
            ],
        )
        .await?;
        if changed == 0 {
            return Ok(None);
        }
        load_record(&client, id(channel)).await
    }

    async fn delete_channel(&self, channel: ChannelId) -> Result<bool> {
        let client = self.client().await?;
        let deleted = execute(
            &client,
            "DELETE FROM channels WHERE id = $1",
            &[&id(channel)],
        )
        .await?;
        Ok(deleted > 0)
    }
}
