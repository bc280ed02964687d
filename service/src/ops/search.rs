//! Message search (`GET /api/chat/search`): words over the caller's channels only.
//!
//! Storage does the matching and ranking ([`storage::SearchStore`]); this layer
//! validates the text, turns a `channel_id` the caller cannot see into `NOT_FOUND`
//! (and a visible channel they are not a member of into `FORBIDDEN`, as for its
//! history), and always scopes the query to the caller's memberships.

use std::time::Duration;

use protocol::{ChannelId, Message, MessageId, UserId};
use storage::SearchQuery;

use crate::chat::Chat;
use crate::error::{Result, ServiceError};
use crate::validate;

/// What to search for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Words, all of which must match, case-insensitively (at most 100 characters).
    /// Blank: the filters alone.
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
    /// 1-100.
    pub limit: u32,
    /// How long storage may spend; over it the search answers `UNAVAILABLE`.
    pub time_budget: Duration,
}

/// One page of results and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    /// Most relevant first, then newest first.
    pub messages: Vec<Message>,
    /// Every match, whatever the limit.
    pub total: u64,
}

impl Chat {
    /// Searches the undeleted messages of the channels `user` is a member of.
    pub async fn search_messages(&self, user: UserId, req: SearchRequest) -> Result<SearchResults> {
        let text = validate::search_query(&req.text)?;
        validate::limit(req.limit)?;
        if let (Some(before), Some(after)) = (req.before, req.after) {
            if after >= before {
                return Err(ServiceError::bad_request(
                    "after",
                    "must be below before (an empty range)",
                ));
            }
        }
        if let Some(channel) = req.channel_id {
            self.member(user, channel).await?;
        }
        let (messages, total) = self
            .store()
            .search(&SearchQuery {
                user: Some(user),
                text,
                channel_id: req.channel_id,
                author_id: req.author_id,
                before: req.before,
                after: req.after,
                has_attachment: req.has_attachment,
                limit: req.limit,
                time_budget: Some(req.time_budget),
            })
            .await?;
        Ok(SearchResults { messages, total })
    }
}
