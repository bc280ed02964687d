//! [`ReceiptStore`] for PostgreSQL: one row per member and channel that only moves
//! forward (an upsert whose update applies only to a newer message id).

use async_trait::async_trait;
use protocol::{ChannelId, MessageId, UserId};

use super::codec::{get, id, to_id};
use super::rows::{execute, query};
use super::PostgresStore;
use crate::error::Result;
use crate::ops::receipts::ReceiptStore;

#[async_trait]
impl ReceiptStore for PostgresStore {
    async fn mark_read(
        &self,
        channel: ChannelId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool> {
        let client = self.client().await?;
        let changed = execute(
            &client,
            "INSERT INTO receipts (channel_id, user_id, message_id) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, user_id) DO UPDATE SET message_id = excluded.message_id \
             WHERE excluded.message_id > receipts.message_id",
            &[&id(channel), &id(user), &id(message)],
        )
        .await?;
        Ok(changed > 0)
    }

    async fn receipts(&self, channel: ChannelId) -> Result<Vec<(UserId, MessageId)>> {
        let client = self.client().await?;
        query(
            &client,
            "SELECT r.user_id, r.message_id FROM receipts r \
             JOIN members m ON m.channel_id = r.channel_id AND m.user_id = r.user_id \
             WHERE r.channel_id = $1 ORDER BY r.user_id",
            &[&id(channel)],
        )
        .await?
        .iter()
        .map(|row| Ok((to_id(get(row, 0)?), to_id(get(row, 1)?))))
        .collect()
    }
}
