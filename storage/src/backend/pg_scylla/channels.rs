//! [`ChannelStore`]: channels live in PostgreSQL, whose views count unread messages
//! and name the last one from `message_index`. Deleting a channel also deletes its
//! history, and its threads', in ScyllaDB.

use async_trait::async_trait;
use protocol::{Channel, ChannelId, UserId, Visibility};

use super::PgScyllaStore;
use crate::backend::postgres::codec::{get, id as pg_id, to_id, to_u64};
use crate::backend::postgres::rows::query;
use crate::error::Result;
use crate::ops::channels::{ChannelRecord, ChannelStore, NewChannel};

#[async_trait]
impl ChannelStore for PgScyllaStore {
    async fn create_channel(&self, new: NewChannel) -> Result<ChannelRecord> {
        self.pg.create_channel(new).await
    }
    async fn create_dm(
        &self,
        id: ChannelId,
        a: UserId,
        b: UserId,
        created_at: u64,
    ) -> Result<(ChannelRecord, bool)> {
        self.pg.create_dm(id, a, b, created_at).await
    }
    async fn channel(&self, id: ChannelId) -> Result<Option<ChannelRecord>> {
        self.pg.channel(id).await
    }
    async fn channel_for(&self, id: ChannelId, viewer: UserId) -> Result<Option<Channel>> {
        self.pg.channel_for(id, viewer).await
    }
    async fn member_views(&self, id: ChannelId) -> Result<Vec<(UserId, Channel)>> {
        self.pg.member_views(id).await
    }
    async fn thread_ids(&self, parent: ChannelId) -> Result<Vec<ChannelId>> {
        self.pg.thread_ids(parent).await
    }
    async fn channels_for_user(&self, user: UserId) -> Result<Vec<Channel>> {
        self.pg.channels_for_user(user).await
    }
    async fn public_channels(
        &self,
        viewer: UserId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Channel>> {
        self.pg.public_channels(viewer, query, limit).await
    }
    async fn update_channel(
        &self,
        id: ChannelId,
        name: Option<String>,
        visibility: Option<Visibility>,
    ) -> Result<Option<ChannelRecord>> {
        self.pg.update_channel(id, name, visibility).await
    }

    /// PostgreSQL first: the channel and its threads in one statement that answers
    /// their final offsets (it waits for any batch holding their rows), everything
    /// relational going with them by cascade. Then the history of each, stamped above
    /// its final offset so no late write of it survives. A history delete that fails
    /// is logged: the channel is gone for every reader (they all start from
    /// PostgreSQL), its rows only take space until deleted by hand.
    async fn delete_channel(&self, id: ChannelId) -> Result<bool> {
        let client = self.pg.client().await?;
        let doomed = query(
            &client,
            "WITH RECURSIVE tree (id) AS ( \
               SELECT id FROM channels WHERE id = $1 \
               UNION ALL SELECT c.id FROM channels c JOIN tree t ON c.parent_id = t.id) \
             DELETE FROM channels WHERE id IN (SELECT id FROM tree) RETURNING id, event_offset",
            &[&pg_id(id)],
        )
        .await?;
        drop(client);
        let mut deleted = false;
        for row in &doomed {
            let channel: ChannelId = to_id(get(row, 0)?);
            deleted |= channel == id;
            let offset = to_u64(get(row, 1)?);
            if let Err(err) = self.history.delete_channel(channel, offset).await {
                tracing::warn!(%channel, error = %err, "deleted channel: its history rows stay in ScyllaDB");
            }
        }
        Ok(deleted)
    }
}
