//! Phase 1 of a batch, item by item: the decision a message or reaction event takes
//! on the overlay, then its PostgreSQL part in a savepoint.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use protocol::{Message, User, UserId};

use super::index::{heal_index, IndexRow};
use super::overlay::Overlay;
use super::writes::RowWrite;
use crate::backend::postgres::codec::{id, int};
use crate::backend::postgres::events::in_savepoint;
use crate::backend::postgres::messages::{
    attach, claim_attachments, fix_last_message, reserve_offset,
};
use crate::backend::postgres::rows::{bump_offset, execute, load_user};
use crate::backend::scylla::{ReactionState, StoredMessage};
use crate::error::{Result, StoreError};
use crate::ops::events::{EventWrite, Outcome};
use crate::ops::messages::NewMessage;

/// One item of phase 1, with what it needs.
pub(crate) struct Step<'a, 'h, 't> {
    pub(crate) tx: &'a Transaction<'t>,
    pub(crate) overlay: &'a mut Overlay<'h>,
    pub(crate) authors: &'a mut HashMap<i64, User>,
}

/// An item's outcome and the history write it queues.
type Applied = (Outcome, Option<RowWrite>);

/// The value of an item-level `Result`, or that item's failure returned from `apply`.
macro_rules! or_item_err {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(err) => return Ok(Err(err)),
        }
    };
}

impl Step<'_, '_, '_> {
    /// Decides one message or reaction item and does its PostgreSQL part. The outer
    /// `Err`: the transaction is lost (or history could not be read).
    pub(crate) async fn apply(&mut self, item: EventWrite) -> Result<Result<Applied>> {
        match item {
            EventWrite::CreateMessage(new) => self.create(new).await,
            EventWrite::EditMessage {
                channel,
                id: message,
                content,
                edited_at,
            } => {
                let Some(current) = or_item_err!(self.live(channel, message).await?) else {
                    return Ok(Err(no_message()));
                };
                let tx = self.tx;
                let reserved = in_savepoint(tx, async {
                    let offset = bump_offset(tx, id(channel)).await?;
                    execute(
                        tx,
                        "UPDATE message_index SET search = to_tsvector('simple', $2), \
                         event_offset = $3 WHERE id = $1",
                        &[&id(message), &content, &int(offset)],
                    )
                    .await?;
                    Ok(offset)
                })
                .await?;
                let offset = or_item_err!(reserved);
                let edited = StoredMessage {
                    content: content.clone(),
                    edited_at: Some(edited_at),
                    ..current.clone()
                };
                self.overlay.changed(edited.clone());
                let author = self.author(edited.author_id).await?;
                let write = RowWrite::Edit {
                    current,
                    content,
                    edited_at,
                    offset,
                };
                Ok(Ok((
                    Outcome::Event {
                        offset,
                        message: Some(edited.into_message(author)),
                    },
                    Some(write),
                )))
            }
            EventWrite::DeleteMessage {
                channel,
                id: message,
                deleted_at,
            } => {
                let Some(current) = or_item_err!(self.live(channel, message).await?) else {
                    return Ok(Ok((Outcome::Unchanged, None)));
                };
                let tx = self.tx;
                let reserved = in_savepoint(tx, async {
                    let offset = bump_offset(tx, id(channel)).await?;
                    execute(
                        tx,
                        "UPDATE message_index SET deleted_at = $2, event_offset = $3 WHERE id = $1",
                        &[&id(message), &int(deleted_at), &int(offset)],
                    )
                    .await?;
                    fix_last_message(tx, id(channel), id(message)).await?;
                    Ok(offset)
                })
                .await?;
                let offset = or_item_err!(reserved);
                self.overlay.changed(StoredMessage {
                    deleted_at: Some(deleted_at),
                    ..current
                });
                let write = RowWrite::Delete {
                    channel,
                    id: message,
                    deleted_at,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::AddReaction {
                channel,
                message,
                user,
                emoji,
                max_distinct,
            } => {
                let Some(current) = or_item_err!(self.live(channel, message).await?) else {
                    return Ok(Err(no_message()));
                };
                let rows = self.overlay.reactions(channel, message).await?;
                let state = ReactionState::of(rows, user, &emoji);
                match reaction_add(state, max_distinct) {
                    Ok(true) => {}
                    Ok(false) => return Ok(Ok((Outcome::Unchanged, None))),
                    Err(err) => return Ok(Err(err)),
                }
                let offset =
                    or_item_err!(in_savepoint(self.tx, bump_offset(self.tx, id(channel))).await?);
                self.overlay
                    .reactions(channel, message)
                    .await?
                    .push((emoji.clone(), user));
                self.overlay.changed(with_count(current, &emoji, true));
                let write = RowWrite::React {
                    channel,
                    message,
                    user,
                    emoji,
                    add: true,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::RemoveReaction {
                channel,
                message,
                user,
                emoji,
            } => {
                let Some(current) = or_item_err!(self.live(channel, message).await?) else {
                    return Ok(Err(no_message()));
                };
                let rows = self.overlay.reactions(channel, message).await?;
                if !ReactionState::of(rows, user, &emoji).mine {
                    return Ok(Ok((Outcome::Unchanged, None)));
                }
                let offset =
                    or_item_err!(in_savepoint(self.tx, bump_offset(self.tx, id(channel))).await?);
                self.overlay
                    .reactions(channel, message)
                    .await?
                    .retain(|(e, u)| !(*e == emoji && *u == user));
                self.overlay.changed(with_count(current, &emoji, false));
                let write = RowWrite::React {
                    channel,
                    message,
                    user,
                    emoji,
                    add: false,
                    offset,
                };
                Ok(Ok((event(offset), Some(write))))
            }
            EventWrite::AddMember { .. } | EventWrite::RemoveMember { .. } => Err(
                StoreError::Internal("membership events are PostgreSQL's alone".into()),
            ),
        }
    }

    /// A new message: its nonce (a duplicate answers the first message), then in a
    /// savepoint its attachments, author, offset and index row.
    async fn create(&mut self, new: NewMessage) -> Result<Result<Applied>> {
        or_item_err!(crate::backend::scylla::rows::new_id(new.id, "id"));
        if let Some(nonce) = &new.nonce {
            if let Some(first) = self
                .overlay
                .nonce(new.channel_id, new.author_id, nonce)
                .await?
            {
                if let Some(stored) = self.overlay.message(first).await? {
                    if let Err(err) = in_savepoint(self.tx, heal_index(self.tx, &stored)).await? {
                        tracing::warn!(message = %stored.id, error = %err, "could not check the index row");
                    }
                    let author = self.author(stored.author_id).await?;
                    return Ok(Ok((Outcome::Duplicate(stored.into_message(author)), None)));
                }
            }
        }
        let tx = self.tx;
        let authors = &mut *self.authors;
        let prepared = in_savepoint(tx, async {
            let attachments = claim_attachments(tx, &new).await?;
            let author = match authors.get(&id(new.author_id)) {
                Some(author) => author.clone(),
                None => load_user(tx, id(new.author_id))
                    .await?
                    .ok_or_else(|| StoreError::Invalid("author_id: no such user".into()))?,
            };
            let offset = reserve_offset(tx, id(new.channel_id), id(new.id)).await?;
            attach(tx, &attachments, id(new.id)).await?;
            IndexRow::new(&new, &attachments, offset)
                .insert(tx, false)
                .await?;
            Ok((attachments, author, offset))
        })
        .await?;
        let (attachments, author, offset) = or_item_err!(prepared);
        self.authors.insert(id(author.id), author.clone());
        let stored = StoredMessage::new(new, attachments, offset);
        self.overlay.created(&stored);
        let message: Message = stored.clone().into_message(author);
        Ok(Ok((
            Outcome::Event {
                offset,
                message: Some(message),
            },
            Some(RowWrite::Create(stored)),
        )))
    }

    /// The message an item names, if undeleted (`None`: deleted). Absent or in another
    /// channel is the item's `NotFound`; anything else (history unreadable) fails the
    /// batch before anything is committed.
    async fn live(
        &mut self,
        channel: protocol::ChannelId,
        message: protocol::MessageId,
    ) -> Result<Result<Option<StoredMessage>>> {
        match self.overlay.live(channel, message).await {
            Ok(found) => Ok(Ok(found.ok())),
            Err(StoreError::NotFound(why)) => Ok(Err(StoreError::NotFound(why))),
            Err(other) => Err(other),
        }
    }

    /// The user `author` names (cached for the batch).
    async fn author(&mut self, author: UserId) -> Result<User> {
        if let Some(user) = self.authors.get(&id(author)) {
            return Ok(user.clone());
        }
        let user = load_user(self.tx, id(author))
            .await?
            .ok_or_else(|| StoreError::Internal(format!("author {author} of a message is gone")))?;
        self.authors.insert(id(author), user.clone());
        Ok(user)
    }
}

/// Whether an add is an event (`false`: a repeat), or `Invalid` over the emoji cap.
pub(crate) fn reaction_add(state: ReactionState, max_distinct: usize) -> Result<bool> {
    if state.mine {
        return Ok(false);
    }
    if !state.emoji_present && state.distinct >= max_distinct {
        return Err(StoreError::Invalid(format!(
            "emoji: a message has at most {max_distinct} distinct emoji"
        )));
    }
    Ok(true)
}

/// `message` with one more (or one fewer) `emoji` in its counts, a new emoji last.
pub(crate) fn with_count(mut message: StoredMessage, emoji: &str, add: bool) -> StoredMessage {
    match message.reactions.iter().position(|r| r.emoji == emoji) {
        Some(i) if add => message.reactions[i].count += 1,
        Some(i) => {
            message.reactions[i].count = message.reactions[i].count.saturating_sub(1);
            if message.reactions[i].count == 0 {
                message.reactions.remove(i);
            }
        }
        None if add => message.reactions.push(protocol::ReactionCount {
            emoji: emoji.to_owned(),
            count: 1,
        }),
        None => {}
    }
    message
}

/// An event without a message.
fn event(offset: u64) -> Outcome {
    Outcome::Event {
        offset,
        message: None,
    }
}

/// `NotFound` for a message that is absent, elsewhere or deleted.
pub(crate) fn no_message() -> StoreError {
    StoreError::NotFound("message_id: no such message in this channel".into())
}
