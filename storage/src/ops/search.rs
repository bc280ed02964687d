//! Full-text search over messages.
//!
//! A backend matches words case-insensitively (SQLite: FTS5 with the `unicode61`
//! tokenizer; PostgreSQL: a `tsvector` column with the `simple` configuration), ranks
//! by relevance then recency, and gives up after [`SearchQuery::time_budget`] with
//! [`crate::StoreError::Unavailable`] rather than holding a connection.

use std::time::Duration;

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
    /// At most this many: most relevant first, then newest first (newest first when
    /// there are no words).
    pub limit: u32,
    /// How long the backend may work on this query before it gives up
    /// (`Unavailable`); `None`: no limit (internal tools only).
    pub time_budget: Option<Duration>,
}

/// Search.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// Matching undeleted messages, most relevant first and then newest first, and the
    /// total number of matches (whatever the limit).
    async fn search(&self, query: &SearchQuery) -> Result<(Vec<Message>, u64)>;
}
