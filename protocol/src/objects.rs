//! The objects of PROTOCOL.md section 3, shared by the gateway and the API.
//!
//! Optional fields are left out when empty (the contract lets clients accept absent or
//! null), which keeps the hot `MESSAGE_RECEIVED` frame small.

use serde::{Deserialize, Serialize};

use crate::ids::{AttachmentId, ChannelId, MessageId, UserId};

/// Presence status of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Connected and active.
    Online,
    /// Connected, not active.
    Idle,
    /// Away from the keyboard.
    Away,
    /// Not connected, or invisible.
    Offline,
}

impl UserStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Idle => "idle",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// A user as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Unique login name, `[a-z0-9_.]{3,32}`.
    pub username: String,
    /// Name shown in clients.
    pub display_name: String,
    /// Presence, where presence is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
}

/// The kind of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A direct conversation between two users.
    Dm,
    /// A named group of up to 10 000 members.
    Group,
    /// A thread started from a message of a parent channel.
    Thread,
}

impl ChannelKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dm => "dm",
            Self::Group => "group",
            Self::Thread => "thread",
        }
    }
}

/// Who can see a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Anyone can see the channel object and join it.
    Public,
    /// Only members see it; everyone else gets `NOT_FOUND`.
    #[default]
    Private,
}

impl Visibility {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// A channel as seen by the caller (unread count, mute and read position are theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// The channel's id.
    pub id: ChannelId,
    /// DM, group or thread.
    pub kind: ChannelKind,
    /// Group or thread name; for a DM, the other member's display name.
    pub name: String,
    /// Public or private (a DM is private).
    pub visibility: Visibility,
    /// The parent channel of a thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<ChannelId>,
    /// The message a thread was started from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_message_id: Option<MessageId>,
    /// Number of members.
    pub member_count: u32,
    /// The newest undeleted message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<MessageId>,
    /// The channel's current offset (PROTOCOL.md section 5).
    pub offset: u64,
    /// The caller's last read message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_message_id: Option<MessageId>,
    /// Other members' undeleted messages after `last_read_message_id`.
    pub unread_count: u32,
    /// Whether the caller muted the channel.
    pub muted: bool,
    /// End of the mute in ms since the epoch; absent means until unmuted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<u64>,
}

/// A member's role in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary member.
    Member,
    /// May rename, add and remove members, delete others' messages.
    Admin,
    /// The creator; may also delete the channel.
    Owner,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// Whether the role may manage the channel (rename, add or remove members).
    pub fn can_manage(self) -> bool {
        self >= Self::Admin
    }
}

/// A member of a channel, as listed by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member.
    pub user: User,
    /// Their role.
    pub role: Role,
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The attachment's id.
    pub id: AttachmentId,
    /// The uploaded file name (sanitized).
    pub filename: String,
    /// The type read from the file's bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Download path on the API host (`/media/...`).
    pub url: String,
    /// Image width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Thumbnail path on the API host, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

/// How many users reacted to a message with one emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    /// The emoji (1-64 bytes).
    pub emoji: String,
    /// Number of users.
    pub count: u32,
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The message's id (a Snowflake: it sorts by creation time).
    pub id: MessageId,
    /// Where it was sent.
    pub channel_id: ChannelId,
    /// Who sent it.
    pub author: User,
    /// 1-4000 characters.
    pub content: String,
    /// Creation time, ms since the epoch.
    pub created_at: u64,
    /// Last edit time, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<u64>,
    /// The message this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<MessageId>,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Reaction counts per emoji.
    #[serde(default)]
    pub reactions: Vec<ReactionCount>,
    /// The sender's idempotency key, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}
