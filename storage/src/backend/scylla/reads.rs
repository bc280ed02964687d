//! Reads with the semantics of [`crate::MessageStore`] and [`crate::ReactionStore`]:
//! one message, pages walking across buckets, nonces, the audit trail, and the state a
//! reaction write depends on.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use protocol::{ChannelId, MessageId, UserId};
use scylla::deserialize::row::DeserializeRow;
use scylla::response::PagingState;
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;

use super::bucket::{bucket_of, plan, Walk};
use super::error::{decode, ExecResultExt};
use super::rows::{count_reactions, int, to_id, uint, MessageRow, ReactionRow, StoredMessage};
use super::walk::{page_rows, walk_rows, RowSource, Step};
use super::ScyllaHistory;
use crate::error::Result;
use crate::ops::messages::{Edit, Page};

/// What a reaction write depends on (read while the caller is the channel's only
/// writer, see the module doc of [`super`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactionState {
    /// The user already reacted with this emoji (an add is a repeat).
    pub mine: bool,
    /// Someone reacted with this emoji (a new add does not count against the cap).
    pub emoji_present: bool,
    /// Distinct emoji on the message.
    pub distinct: usize,
}

impl ReactionState {
    /// The state for `user` adding `emoji`, from a message's `(emoji, user)` rows.
    pub fn of(rows: &[(String, UserId)], user: UserId, emoji: &str) -> Self {
        let mut distinct: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        Self {
            mine: rows.iter().any(|r| r.0 == emoji && r.1 == user),
            emoji_present: distinct.contains(&emoji),
            distinct: distinct.len(),
        }
    }
}

impl ScyllaHistory {
    /// The channel of a message, if the message was ever written (deleted or not).
    pub async fn channel_of(&self, id: MessageId) -> Result<Option<ChannelId>> {
        let row: Option<(i64,)> = self
            .first_row(&self.st.select_by_id, (int(id.get()),))
            .await?;
        Ok(row.map(|(channel,)| to_id(channel)))
    }

    /// One message, deleted or not, with its reaction counts.
    pub async fn message(&self, id: MessageId) -> Result<Option<StoredMessage>> {
        match self.channel_of(id).await? {
            Some(channel) => self.message_in(channel, id).await,
            None => Ok(None),
        }
    }

    /// One message of a known channel, deleted or not, with its reaction counts.
    pub async fn message_in(
        &self,
        channel: ChannelId,
        id: MessageId,
    ) -> Result<Option<StoredMessage>> {
        let (c, b, m) = (int(channel.get()), bucket_of(id.get()), int(id.get()));
        let row: Option<MessageRow> = self.first_row(&self.st.select_message, (c, b, m)).await?;
        let Some(message) = row.and_then(MessageRow::into_stored) else {
            return Ok(None);
        };
        let mut one = vec![message];
        self.hydrate(channel, &mut one).await?;
        Ok(one.pop())
    }

    /// The message that took `nonce` for `author` in `channel`, deleted or not, however
    /// old: the check before a create (`Conflict` / `Outcome::Duplicate`).
    pub async fn nonce_owner(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
    ) -> Result<Option<MessageId>> {
        let row: Option<(i64,)> = self
            .first_row(
                &self.st.select_nonce,
                (int(channel.get()), int(author.get()), nonce),
            )
            .await?;
        Ok(row.map(|(id,)| to_id(id)))
    }

    /// `MessageStore::message_by_nonce`: the undeleted message `author` sent to
    /// `channel` with `nonce` at or after `since`.
    pub async fn message_by_nonce(
        &self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        since: u64,
    ) -> Result<Option<StoredMessage>> {
        let Some(id) = self.nonce_owner(channel, author, nonce).await? else {
            return Ok(None);
        };
        Ok(self
            .message_in(channel, id)
            .await?
            .filter(|m| m.deleted_at.is_none() && m.created_at >= since && m.author_id == author))
    }

    /// `MessageStore::messages`: a page of undeleted messages, newest first, at most
    /// `limit`, walking the channel's buckets from the cursor's outwards.
    pub async fn messages(
        &self,
        channel: ChannelId,
        page: Page,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        if plan(page, limit).is_empty() {
            return Ok(Vec::new());
        }
        let buckets = self.buckets(channel).await?;
        let source = ChannelRows {
            history: self,
            channel,
        };
        let mut out = page_rows(&source, &buckets, page, limit).await?;
        self.hydrate(channel, &mut out).await?;
        Ok(out)
    }

    /// The newest undeleted message of a channel (the channel's last message after a
    /// delete).
    pub async fn latest(&self, channel: ChannelId) -> Result<Option<MessageId>> {
        let buckets = self.buckets(channel).await?;
        let source = ChannelRows {
            history: self,
            channel,
        };
        let rows = page_rows(&source, &buckets, Page::Latest, 1).await?;
        Ok(rows.first().map(|m| m.id))
    }

    /// Undeleted messages of `channel` after `after` (all when `None`) by anyone but
    /// `viewer`, counted up to `cap`: an unread count. It reads the unread rows, so the
    /// caller caps it at what it shows.
    pub async fn count_unread(
        &self,
        channel: ChannelId,
        after: Option<MessageId>,
        viewer: UserId,
        cap: u32,
    ) -> Result<u32> {
        if cap == 0 {
            return Ok(0);
        }
        let buckets = self.buckets(channel).await?;
        let floor = after.map_or(0, |id| id.get());
        let source = ChannelRows {
            history: self,
            channel,
        };
        let rows = walk_rows(
            &source,
            &buckets,
            Walk::AtOrBefore(u64::MAX),
            |row| {
                if after.is_some() && uint(row.message_id) <= floor {
                    Step::Stop
                } else if row.author_id.map(uint) == Some(viewer.get()) {
                    Step::Skip
                } else {
                    Step::Take
                }
            },
            cap,
        )
        .await?;
        Ok(u32::try_from(rows.len()).unwrap_or(u32::MAX))
    }

    /// `MessageStore::edits`: previous versions, oldest first.
    pub async fn edits(&self, id: MessageId) -> Result<Vec<Edit>> {
        let rows: Vec<(String, i64)> = self
            .all_rows(&self.st.select_edits, (int(id.get()),))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(content, edited_at)| Edit {
                content,
                edited_at: uint(edited_at),
            })
            .collect())
    }

    /// The reactions of `message` as they bear on `user` adding `emoji`.
    pub async fn reaction_state(
        &self,
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: &str,
    ) -> Result<ReactionState> {
        let rows = self.reactions(channel, message).await?;
        Ok(ReactionState::of(&rows, user, emoji))
    }

    /// Every reaction of `message` (of `channel`): `(emoji, user)`, the state a batch
    /// of reaction writes decides on, item after item.
    pub async fn reactions(
        &self,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<Vec<(String, UserId)>> {
        let m = int(message.get());
        let rows: Vec<ReactionRow> = self
            .all_rows(
                &self.st.select_reactions,
                (int(channel.get()), bucket_of(message.get()), m, m),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(_, emoji, user, _)| (emoji, to_id(user)))
            .collect())
    }

    /// The buckets of a channel that hold messages.
    pub(super) async fn buckets(&self, channel: ChannelId) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = self
            .all_rows(&self.st.select_buckets, (int(channel.get()),))
            .await?;
        Ok(rows.into_iter().map(|(b,)| b).collect())
    }

    /// Fills in the reaction counts of `messages` (all of `channel`): one range read of
    /// the reactions table per bucket the messages span.
    async fn hydrate(&self, channel: ChannelId, messages: &mut [StoredMessage]) -> Result<()> {
        let mut spans: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for m in messages.iter() {
            let id = int(m.id.get());
            let span = spans.entry(m.bucket()).or_insert((id, id));
            span.0 = span.0.min(id);
            span.1 = span.1.max(id);
        }
        let mut rows: Vec<ReactionRow> = Vec::new();
        for (bucket, (low, high)) in spans {
            rows.extend(
                self.all_rows::<ReactionRow>(
                    &self.st.select_reactions,
                    (int(channel.get()), bucket, low, high),
                )
                .await?,
            );
        }
        let mut counts = count_reactions(rows);
        for m in messages.iter_mut() {
            m.reactions = counts.remove(&m.id).unwrap_or_default();
        }
        Ok(())
    }

    /// The first row of a single-partition read.
    async fn first_row<R>(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow,
    ) -> Result<Option<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let result = self
            .session
            .execute_unpaged(statement, values)
            .await
            .store()?;
        let rows = result.into_rows_result().map_err(decode)?;
        rows.maybe_first_row::<R>().map_err(decode)
    }

    /// Every row of a read, page after page.
    pub(super) async fn all_rows<R>(
        &self,
        statement: &PreparedStatement,
        values: impl SerializeRow + Copy,
    ) -> Result<Vec<R>>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let mut out = Vec::new();
        let mut paging = PagingState::start();
        loop {
            let (result, more) = self
                .session
                .execute_single_page(statement, values, paging)
                .await
                .store()?;
            let rows = result.into_rows_result().map_err(decode)?;
            for row in rows.rows::<R>().map_err(decode)? {
                out.push(row.map_err(decode)?);
            }
            match more.into_paging_control_flow() {
                ControlFlow::Break(()) => return Ok(out),
                ControlFlow::Continue(next) => paging = next,
            }
        }
    }
}

/// The rows of one channel, read through the driver.
struct ChannelRows<'a> {
    history: &'a ScyllaHistory,
    channel: ChannelId,
}

impl RowSource for ChannelRows<'_> {
    type Paging = PagingState;

    /// One page of a bucket's rows for `walk`, from `paging` on (the start when
    /// `None`), and the state of the next page if there is one.
    async fn fetch(
        &self,
        walk: Walk,
        bucket: i64,
        paging: Option<PagingState>,
    ) -> Result<(Vec<MessageRow>, Option<PagingState>)> {
        let (history, channel) = (self.history, self.channel);
        let (statement, bound) = match walk {
            Walk::AtOrBefore(bound) => (&history.st.select_at_or_before, int(bound)),
            Walk::After(bound) => (&history.st.select_after, int(bound)),
        };
        let (result, more) = history
            .session
            .execute_single_page(
                statement,
                (int(channel.get()), bucket, bound),
                paging.unwrap_or_else(PagingState::start),
            )
            .await
            .store()?;
        let rows = result.into_rows_result().map_err(decode)?;
        let rows = rows
            .rows::<MessageRow>()
            .map_err(decode)?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(decode)?;
        let next = match more.into_paging_control_flow() {
            ControlFlow::Break(()) => None,
            ControlFlow::Continue(next) => Some(next),
        };
        Ok((rows, next))
    }
}
