//! Read receipts: each member's last read message.

use async_trait::async_trait;
use protocol::{ChannelId, MessageId, UserId};

use crate::error::Result;

/// Receipts, in CRUD order.
#[async_trait]
pub trait ReceiptStore: Send + Sync {
    /// Sets the user's last read message; it only moves forward. `true` when it moved.
    async fn mark_read(&self, channel: ChannelId, user: UserId, message: MessageId)
        -> Result<bool>;
    /// Every member's last read message (members who read nothing are left out).
    async fn receipts(&self, channel: ChannelId) -> Result<Vec<(UserId, MessageId)>>;
}
