//! Server-to-client events (PROTOCOL.md section 7): the data type of each, and the
//! [`ServerEvent`] enum that names them on the wire.

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

event_enum! {
    /// Every event the server sends.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ServerEvent {
        /// The answer to `IDENTIFY`.
        "READY" => Ready(Box<Ready>),
        /// The answer to `PING`.
        "PONG" => Pong(Empty),
        /// A request succeeded.
        "ACK" => Ack(Box<Ack>),
        /// A request failed.
        "ERROR" => Error(ErrorData),
        /// A new message (channel event).
        "MESSAGE_RECEIVED" => MessageReceived(Box<MessageData>),
        /// An edited message (channel event).
        "MESSAGE_EDITED" => MessageEdited(Box<MessageData>),
        /// A deleted message (channel event).
        "MESSAGE_DELETED" => MessageDeleted(MessageDeleted),
        /// A reaction was added (channel event).
        "REACTION_ADDED" => ReactionAdded(ReactionData),
        /// A reaction was removed (channel event).
        "REACTION_REMOVED" => ReactionRemoved(ReactionData),
        /// A user joined a channel (channel event).
        "USER_JOINED" => UserJoined(Box<UserJoined>),
        /// A user left a channel (channel event).
        "USER_LEFT" => UserLeft(ChannelUser),
        /// A member started typing (ephemeral).
        "TYPING_STARTED" => TypingStarted(ChannelUser),
        /// A member stopped typing (ephemeral).
        "TYPING_STOPPED" => TypingStopped(ChannelUser),
        /// A member's read position moved (ephemeral).
        "READ_RECEIPT_UPDATED" => ReadReceiptUpdated(ReadReceipt),
        /// A user's presence changed (ephemeral).
        "USER_STATUS_CHANGED" => UserStatusChanged(StatusChanged),
        /// The recipient can now see a channel.
        "CHANNEL_CREATED" => ChannelCreated(Box<ChannelData>),
        /// A channel's name, visibility or membership count changed.
        "CHANNEL_UPDATED" => ChannelUpdated(Box<ChannelData>),
        /// A channel was deleted.
        "CHANNEL_DELETED" => ChannelDeleted(ChannelDeleted),
        /// The answer to `FETCH_MESSAGES`.
        "MESSAGES_LOADED" => MessagesLoaded(Box<MessagesLoaded>),
    }
}

impl ServerEvent {
    /// Whether this is a channel event (PROTOCOL.md section 5): it carries an offset
    /// `s`, goes to every member, and is kept for replay.
    pub fn is_channel_event(&self) -> bool {
        matches!(
            self,
            Self::MessageReceived(_)
                | Self::MessageEdited(_)
                | Self::MessageDeleted(_)
                | Self::ReactionAdded(_)
                | Self::ReactionRemoved(_)
                | Self::UserJoined(_)
                | Self::UserLeft(_)
        )
    }

    /// The channel the event is about, if it is about one.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match self {
            Self::MessageReceived(d) | Self::MessageEdited(d) => Some(d.message.channel_id),
            Self::MessageDeleted(d) => Some(d.channel_id),
            Self::ReactionAdded(d) | Self::ReactionRemoved(d) => Some(d.channel_id),
            Self::UserJoined(d) => Some(d.channel_id),
            Self::UserLeft(d) | Self::TypingStarted(d) | Self::TypingStopped(d) => {
                Some(d.channel_id)
            }
            Self::ReadReceiptUpdated(d) => Some(d.channel_id),
            Self::ChannelCreated(d) | Self::ChannelUpdated(d) => Some(d.channel.id),
            Self::ChannelDeleted(d) => Some(d.channel_id),
            Self::MessagesLoaded(d) => Some(d.channel_id),
            Self::Ready(_)
            | Self::Pong(_)
            | Self::Ack(_)
            | Self::Error(_)
            | Self::UserStatusChanged(_) => None,
        }
    }
}

impl ErrorData {
    /// An error with no `retry_after_ms`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}
