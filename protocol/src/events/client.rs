//! Client-to-server events (PROTOCOL.md section 6): the data type of each, and the
//! [`ClientEvent`] enum that names them on the wire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{AttachmentId, ChannelId, MessageId};
use crate::objects::UserStatus;

/// `IDENTIFY`: authenticate the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identify {
    /// The JWT the API issued.
    pub token: String,
    /// Initial status; `offline` connects invisibly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Last seen offset per channel, for replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positions: Option<BTreeMap<ChannelId, u64>>,
}

/// An event with no data (`PING`, `PONG`): `d` is `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// `SEND_MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    /// Target channel.
    pub channel_id: ChannelId,
    /// 1-4000 characters, not only whitespace.
    pub content: String,
    /// Idempotency key, 1-64 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The message this one replies to (same channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// Uploaded attachments to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_ids: Option<Vec<AttachmentId>>,
}

/// `EDIT_MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMessage {
    /// The message to edit (author only).
    pub message_id: MessageId,
    /// The new content.
    pub content: String,
}

/// `DELETE_MESSAGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteMessage {
    /// The message to delete.
    pub message_id: MessageId,
}

/// `ADD_REACTION` / `REMOVE_REACTION`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    pub message_id: MessageId,
    /// 1-64 bytes.
    pub emoji: String,
}

/// Data naming one channel: typing, join, leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRef {
    /// The channel.
    pub channel_id: ChannelId,
}

/// `FETCH_MESSAGES`: at most one of `before`, `after`, `around`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchMessages {
    /// The channel.
    pub channel_id: ChannelId,
    /// Messages just before this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    /// Messages just after this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<MessageId>,
    /// Messages centred on this id, itself included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub around: Option<MessageId>,
    /// 1-100, default 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `MARK_AS_READ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkAsRead {
    /// The channel.
    pub channel_id: ChannelId,
    /// The newest message read.
    pub message_id: MessageId,
}

/// `SET_STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetStatus {
    /// The new status; `offline` is invisible.
    pub status: UserStatus,
}

event_enum! {
    /// Every event a client may send.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ClientEvent {
        /// Authenticate the connection; answered by `READY`.
        "IDENTIFY" => Identify(Identify),
        /// Heartbeat; answered by `PONG`.
        "PING" => Ping(Empty),
        /// Send a message to a channel.
        "SEND_MESSAGE" => SendMessage(SendMessage),
        /// Edit one's own message.
        "EDIT_MESSAGE" => EditMessage(EditMessage),
        /// Delete a message.
        "DELETE_MESSAGE" => DeleteMessage(DeleteMessage),
        /// React to a message.
        "ADD_REACTION" => AddReaction(Reaction),
        /// Take a reaction back.
        "REMOVE_REACTION" => RemoveReaction(Reaction),
        /// Start typing in a channel (expires after 10 s).
        "START_TYPING" => StartTyping(ChannelRef),
        /// Stop typing in a channel.
        "STOP_TYPING" => StopTyping(ChannelRef),
        /// Load history; answered by `MESSAGES_LOADED`.
        "FETCH_MESSAGES" => FetchMessages(FetchMessages),
        /// Join a public group.
        "JOIN_CHANNEL" => JoinChannel(ChannelRef),
        /// Leave a channel.
        "LEAVE_CHANNEL" => LeaveChannel(ChannelRef),
        /// Move one's read position.
        "MARK_AS_READ" => MarkAsRead(MarkAsRead),
        /// Change one's presence.
        "SET_STATUS" => SetStatus(SetStatus),
    }
}
