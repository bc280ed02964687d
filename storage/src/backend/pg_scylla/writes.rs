//! Phase 2 of a batch: the history writes decided in phase 1 ([`RowWrite`]), made
//! per message in batch order, different messages concurrently; a failed write takes
//! the later writes of its message with it (they depend on it).

use std::collections::HashMap;

use futures_util::future::join_all;
use protocol::{ChannelId, MessageId, UserId};

use super::history::History;
use crate::backend::scylla::StoredMessage;
use crate::error::{Result, StoreError};

/// A history write decided in phase 1, with its event's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowWrite {
    /// A new message.
    Create(StoredMessage),
    /// An edit of `current` (the message just before it).
    Edit {
        current: StoredMessage,
        content: String,
        edited_at: u64,
        offset: u64,
    },
    /// A soft delete.
    Delete {
        channel: ChannelId,
        id: MessageId,
        deleted_at: u64,
        offset: u64,
    },
    /// A reaction added (`add`) or removed.
    React {
        channel: ChannelId,
        message: MessageId,
        user: UserId,
        emoji: String,
        add: bool,
        offset: u64,
    },
}

impl RowWrite {
    /// The message written.
    pub(crate) fn message(&self) -> MessageId {
        match self {
            Self::Create(m) | Self::Edit { current: m, .. } => m.id,
            Self::Delete { id, .. } => *id,
            Self::React { message, .. } => *message,
        }
    }

    /// Its channel.
    pub(crate) fn channel(&self) -> ChannelId {
        match self {
            Self::Create(m) | Self::Edit { current: m, .. } => m.channel_id,
            Self::Delete { channel, .. } | Self::React { channel, .. } => *channel,
        }
    }

    /// Its event's offset.
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Self::Create(m) => m.offset,
            Self::Edit { offset, .. }
            | Self::Delete { offset, .. }
            | Self::React { offset, .. } => *offset,
        }
    }

    /// Writes it to `history`.
    async fn apply(&self, history: &dyn History) -> Result<()> {
        match self {
            Self::Create(message) => history.write_message(message).await,
            Self::Edit {
                current,
                content,
                edited_at,
                offset,
            } => history
                .write_edit(current, content, *edited_at, *offset)
                .await
                .map(drop),
            Self::Delete {
                channel,
                id,
                deleted_at,
                offset,
            } => {
                history
                    .write_delete(*channel, *id, *deleted_at, *offset)
                    .await
            }
            Self::React {
                channel,
                message,
                user,
                emoji,
                add: true,
                offset,
            } => {
                history
                    .write_reaction(*channel, *message, *user, emoji, *offset)
                    .await
            }
            Self::React {
                channel,
                message,
                user,
                emoji,
                add: false,
                offset,
            } => {
                history
                    .remove_reaction(*channel, *message, *user, emoji, *offset)
                    .await
            }
        }
    }
}

/// The writes of one message together, in batch order, as indexes into `writes`.
pub(crate) fn by_message(writes: &[(usize, RowWrite)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<MessageId, usize> = HashMap::new();
    for (i, (_, write)) in writes.iter().enumerate() {
        let group = *index.entry(write.message()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(i);
    }
    groups
}

/// Phase 2: writes every queued row; the failures as `((slot, index in writes),
/// error)`. A write after a failed one of the same message is not attempted and fails
/// with the same error.
pub(crate) async fn write_rows(
    history: &dyn History,
    writes: &[(usize, RowWrite)],
) -> Vec<((usize, usize), StoreError)> {
    let groups = by_message(writes);
    let runs = groups.iter().map(|group| async move {
        let mut failed = Vec::new();
        let mut first: Option<String> = None;
        for &i in group {
            let (slot, write) = &writes[i];
            let err = match &first {
                Some(text) => StoreError::Unavailable(format!(
                    "an earlier event of message {} failed: {text}",
                    write.message()
                )),
                None => match write.apply(history).await {
                    Ok(()) => continue,
                    Err(err) => {
                        first = Some(err.to_string());
                        err
                    }
                },
            };
            failed.push(((*slot, i), err));
        }
        failed
    });
    join_all(runs).await.into_iter().flatten().collect()
}

#[cfg(test)]
#[path = "writes_tests.rs"]
mod tests;
