//! Channel events written in batches: the group commit of the event pipeline.

use async_trait::async_trait;
use protocol::{ChannelId, Message, MessageId, Role, UserId};

use crate::error::Result;
use crate::ops::messages::NewMessage;

/// One channel event to write. Every variant names its channel; storage raises that
/// channel's offset by one for each item that changes something.
#[derive(Debug, Clone)]
pub enum EventWrite {
    /// MESSAGE_RECEIVED.
    CreateMessage(NewMessage),
    /// MESSAGE_EDITED: the old text goes to the audit trail.
    EditMessage {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        id: MessageId,
        /// The new text.
        content: String,
        /// ms since the epoch.
        edited_at: u64,
    },
    /// MESSAGE_DELETED (soft delete).
    DeleteMessage {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        id: MessageId,
        /// ms since the epoch.
        deleted_at: u64,
    },
    /// REACTION_ADDED.
    AddReaction {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// Who reacts.
        user: UserId,
        /// The emoji.
        emoji: String,
        /// Most distinct emoji per message.
        max_distinct: usize,
    },
    /// REACTION_REMOVED.
    RemoveReaction {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// Who reacted.
        user: UserId,
        /// The emoji.
        emoji: String,
    },
    /// USER_JOINED.
    AddMember {
        /// The channel.
        channel: ChannelId,
        /// The new member.
        user: UserId,
        /// Their role.
        role: Role,
    },
    /// USER_LEFT.
    RemoveMember {
        /// The channel.
        channel: ChannelId,
        /// The member leaving.
        user: UserId,
    },
}

impl EventWrite {
    /// The channel whose offset this write raises.
    pub fn channel(&self) -> ChannelId {
        match self {
            Self::CreateMessage(new) => new.channel_id,
            Self::EditMessage { channel, .. }
            | Self::DeleteMessage { channel, .. }
            | Self::AddReaction { channel, .. }
            | Self::RemoveReaction { channel, .. }
            | Self::AddMember { channel, .. }
            | Self::RemoveMember { channel, .. } => *channel,
        }
    }
}

/// What one item of a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written as a channel event with this offset; `message` is the stored message for
    /// `CreateMessage` and `EditMessage`.
    Event {
        /// The event's channel offset.
        offset: u64,
        /// The message as stored, for creates and edits.
        message: Option<Message>,
    },
    /// Nothing changed, no event.
    Unchanged,
    /// A `CreateMessage` whose (channel, author, nonce) exists: the stored message.
    Duplicate(Message),
}

/// Batched channel-event writes.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Writes `batch` in one transaction, in order; each item applies, changes nothing
    /// or fails alone. The outer `Err` means nothing of the batch was written.
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>>;
}
