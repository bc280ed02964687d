//! [`ReceiptStore`] for SQLite: one row per member and channel that only moves forward
//! (an upsert whose update applies only to a newer message id).

use async_trait::async_trait;
use protocol::{ChannelId, MessageId, UserId};
use rusqlite::params;

use super::codec::{id, to_id};
use super::error::SqlResultExt;
use super::SqliteStore;
use crate::error::Result;
use crate::ops::receipts::ReceiptStore;

#[async_trait]
impl ReceiptStore for SqliteStore {
    async fn mark_read(
        &self,
        channel: ChannelId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO receipts (channel_id, user_id, message_id) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (channel_id, user_id) DO UPDATE SET message_id = excluded.message_id \
                 WHERE excluded.message_id > receipts.message_id",
            )
            .and_then(|mut stmt| stmt.execute(params![id(channel), id(user), id(message)]))
            .map(|changed| changed > 0)
            .store()
        })
        .await
    }

    async fn receipts(&self, channel: ChannelId) -> Result<Vec<(UserId, MessageId)>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT r.user_id, r.message_id FROM receipts r \
                 JOIN members m ON m.channel_id = r.channel_id AND m.user_id = r.user_id \
                 WHERE r.channel_id = ?1 ORDER BY r.user_id",
            )
            .and_then(|mut stmt| {
                stmt.query_map([id(channel)], |row| {
                    Ok((to_id(row.get(0)?), to_id(row.get(1)?)))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .store()
        })
        .await
    }
}
