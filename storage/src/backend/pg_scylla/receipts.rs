//! [`ReceiptStore`]: receipts live in PostgreSQL.

use async_trait::async_trait;
use protocol::{ChannelId, MessageId, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::receipts::ReceiptStore;

#[async_trait]
impl ReceiptStore for PgScyllaStore {
    async fn mark_read(
        &self,
        channel: ChannelId,
        user: UserId,
        message: MessageId,
    ) -> Result<bool> {
        self.pg.mark_read(channel, user, message).await
    }
    async fn receipts(&self, channel: ChannelId) -> Result<Vec<(UserId, MessageId)>> {
        self.pg.receipts(channel).await
    }
}
