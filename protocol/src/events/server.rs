//! Server-to-client events (PROTOCOL.md section 7).

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::events::client::Empty;
use crate::ids::{ChannelId, MessageId, UserId};
use crate::objects::{Channel, Message, User, UserStatus};

/// `READY`: the answer to IDENTIFY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// This connection's session id.
    pub session_id: String,
    /// The identified user.
    pub user: User,
    /// The user's channels, as they see them.
    pub channels: Vec<Channel>,
    /// Users the caller blocked (clients hide their messages).
    pub blocked_user_ids: Vec<UserId>,
    /// How often to send PING.
    pub heartbeat_interval_ms: u64,
    /// Channels from `positions` that cannot be replayed; reload them.
    pub resync: Vec<ChannelId>,
}

/// `ACK` data: the result of a request, empty for most.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ack {
    /// For SEND_MESSAGE and EDIT_MESSAGE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// For JOIN_CHANNEL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// `ERROR` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// What went wrong.
    pub code: ErrorCode,
    /// A human-readable reason naming the field.
    pub message: String,
    /// For `RATE_LIMITED`: when to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// `MESSAGE_RECEIVED` / `MESSAGE_EDITED` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageData {
    /// The message as stored.
    pub message: Message,
}

/// `MESSAGE_DELETED` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeleted {
    /// The channel.
    pub channel_id: ChannelId,
    /// The deleted message.
    pub message_id: MessageId,
}

/// `REACTION_ADDED` / `REACTION_REMOVED` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionData {
    /// The channel.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// Who reacted.
    pub user_id: UserId,
    /// The emoji.
    pub emoji: String,
}

/// `USER_JOINED` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserJoined {
    /// The channel.
    pub channel_id: ChannelId,
    /// Who joined.
    pub user: User,
}

/// Data naming a channel and a user: `USER_LEFT`, `TYPING_STARTED`, `TYPING_STOPPED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelUser {
    /// The channel.
    pub channel_id: ChannelId,
    /// The user.
    pub user_id: UserId,
}

/// `READ_RECEIPT_UPDATED` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    /// The channel.
    pub channel_id: ChannelId,
    /// The reader.
    pub user_id: UserId,
    /// The newest message they read.
    pub message_id: MessageId,
}

/// `USER_STATUS_CHANGED` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// The user.
    pub user_id: UserId,
    /// Their new status.
    pub status: UserStatus,
}

/// `CHANNEL_CREATED` / `CHANNEL_UPDATED` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelData {
    /// The channel, as the recipient sees it.
    pub channel: Channel,
}

/// `CHANNEL_DELETED` data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelDeleted {
    /// The deleted channel.
    pub channel_id: ChannelId,
}

/// `MESSAGES_LOADED` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesLoaded {
    /// The channel.
    pub channel_id: ChannelId,
    /// Newest first.
    pub messages: Vec<Message>,
}

/// Every event the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// `READY`
    Ready(Box<Ready>),
    /// `PONG`
    Pong(Empty),
    /// `ACK`
    Ack(Box<Ack>),
    /// `ERROR`
    Error(ErrorData),
    /// `MESSAGE_RECEIVED` (channel event)
    MessageReceived(Box<MessageData>),
    /// `MESSAGE_EDITED` (channel event)
    MessageEdited(Box<MessageData>),
    /// `MESSAGE_DELETED` (channel event)
    MessageDeleted(MessageDeleted),
    /// `REACTION_ADDED` (channel event)
    ReactionAdded(ReactionData),
    /// `REACTION_REMOVED` (channel event)
    ReactionRemoved(ReactionData),
    /// `USER_JOINED` (channel event)
    UserJoined(Box<UserJoined>),
    /// `USER_LEFT` (channel event)
    UserLeft(ChannelUser),
    /// `TYPING_STARTED`
    TypingStarted(ChannelUser),
    /// `TYPING_STOPPED`
    TypingStopped(ChannelUser),
    /// `READ_RECEIPT_UPDATED`
    ReadReceiptUpdated(ReadReceipt),
    /// `USER_STATUS_CHANGED`
    UserStatusChanged(StatusChanged),
    /// `CHANNEL_CREATED`
    ChannelCreated(Box<ChannelData>),
    /// `CHANNEL_UPDATED`
    ChannelUpdated(Box<ChannelData>),
    /// `CHANNEL_DELETED`
    ChannelDeleted(ChannelDeleted),
    /// `MESSAGES_LOADED`
    MessagesLoaded(Box<MessagesLoaded>),
}
