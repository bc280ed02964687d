//! Channel events, written in batches: the group-commit path of the event pipeline
//! (DESIGN.md ideas 3 and 4).
//!
//! The sequencer collects every pending event of a shard (for at most about a
//! millisecond, or 512 events) and hands them to [`EventStore::append_events`]: one
//! transaction, so the cost of a commit (the fsync) is shared by the whole batch, and
//! one offset per event that changes something, assigned by storage in the commit that
//! persists it. Each item still succeeds or fails on its own, as if it had been written
//! alone: a bad item costs its sender an error, not the batch.
//!
//! This is not a second implementation of the writes: each backend runs the same code
//! as the one-item methods of [`crate::ops`] (`create_message`, `add_reaction`, ...),
//! only inside one transaction. Permissions are not checked here: the service does that
//! before an event reaches the sequencer.

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
        /// The new, validated content.
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
    /// REACTION_ADDED; `max_distinct` distinct emoji per message at most (else Invalid).
    AddReaction {
        /// The message's channel.
        channel: ChannelId,
        /// The message reacted to.
        message: MessageId,
        /// Who reacts.
        user: UserId,
        /// The emoji, validated.
        emoji: String,
        /// Distinct emoji a message may carry; a new one beyond that is `Invalid`.
        max_distinct: usize,
    },
    /// REACTION_REMOVED.
    RemoveReaction {
        /// The message's channel.
        channel: ChannelId,
        /// The message.
        message: MessageId,
        /// Whose reaction.
        user: UserId,
        /// The emoji.
        emoji: String,
    },
    /// USER_JOINED.
    AddMember {
        /// The channel joined.
        channel: ChannelId,
        /// Who joins.
        user: UserId,
        /// Their role.
        role: Role,
        /// The member cap: a new member of a channel that already has this many is
        /// `StoreError::Limit`, decided inside the batch's transaction so racing
        /// joins cannot exceed it.
        max_members: u32,
    },
    /// USER_LEFT.
    RemoveMember {
        /// The channel left.
        channel: ChannelId,
        /// Who leaves.
        user: UserId,
    },
}

impl EventWrite {
    /// The channel whose offset this event moves.
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
    /// Written as a channel event with this offset. `message`: the stored message for
    /// CreateMessage and EditMessage (with author, attachments, reactions as `message()`
    /// returns it), None otherwise.
    Event {
        /// The offset of the event in its channel.
        offset: u64,
        /// The message as stored, for `CreateMessage` and `EditMessage`.
        message: Option<Message>,
    },
    /// Nothing changed, no event: a repeated reaction, removing an absent reaction,
    /// adding a member who is one, removing a non-member, deleting a deleted message.
    Unchanged,
    /// CreateMessage whose (channel, author, nonce) already exists: the stored message,
    /// unchanged.
    Duplicate(Message),
}

impl Outcome {
    /// The event's offset, `None` when nothing was written.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Self::Event { offset, .. } => Some(*offset),
            Self::Unchanged | Self::Duplicate(_) => None,
        }
    }
}

/// Batched channel events.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Writes `batch` in ONE transaction, in order, and answers one result per item, in
    /// the same order.
    ///
    /// Each item applies, changes nothing ([`Outcome::Unchanged`],
    /// [`Outcome::Duplicate`]), or fails alone: its `Err` is in its slot, its partial
    /// writes are rolled back (a savepoint), the others stay. Item errors:
    /// - `StoreError::NotFound`: the channel does not exist; the message is absent or
    ///   not in `channel`; or it is deleted, for an edit or a reaction (deleting a
    ///   deleted message is `Unchanged`);
    /// - `StoreError::Invalid`: a data rule (attachments, the emoji cap, an unknown
    ///   author or user);
    /// - `StoreError::Conflict`: a message id that is already taken;
    /// - `StoreError::Limit`: a new member of a channel at its `max_members`.
    ///
    /// Offsets are contiguous per channel in batch order: only `Event`s take one.
    /// The outer `Err` (the commit itself failed, e.g. disk full) means nothing of the
    /// batch was written.
    async fn append_events(&self, batch: Vec<EventWrite>) -> Result<Vec<Result<Outcome>>>;
}
