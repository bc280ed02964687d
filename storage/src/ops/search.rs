//! Full-text search over messages.

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId, UserId};

use crate::error::Result;

/// A search request; only channels `user` is a member of are searched.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The searcher; `None` searches every channel (internal tools only: the API
    /// always sets it).
    pub user: Option<UserId>,
    /// Words, matched case-insensitively (all must match).
    pub text: String,
    /// Only this channel.
    pub channel_id: Option<ChannelId>,
    /// Only this author.
    pub author_id: Option<UserId>,
    /// Only messages before this id.
    pub before: Option<MessageId>,
    /// Only messages after this id.
    pub after: Option<MessageId>,
    /// Only messages with attachments.
    pub has_attachment: bool,
    /// At most this many, newest first.
    pub limit: u32,
}

/// Search.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Matching undeleted messages, newest first, and the total number of matches.
    async fn search(&self, query: &SearchQuery) -> Result<(Vec<Message>, u64)>;
}
