//! OpenAPI schemas of the protocol objects (PROTOCOL.md section 3).
//!
//! The `protocol` crate stays free of HTTP and OpenAPI, so its types do not derive
//! `ToSchema`; these mirrors describe the same JSON (ids are decimal strings) and are
//! only used for the document. Response bodies point at them with
//! `#[schema(value_type = ...)]`; a test keeps them in step with the real types.

#![allow(dead_code)] // Fields exist for the derive; nothing reads them.

use utoipa::ToSchema;

/// Presence status.
#[derive(ToSchema)]
#[schema(as = UserStatus, rename_all = "lowercase")]
pub enum UserStatusSchema {
    /// Connected and active.
    Online,
    /// Connected, not active.
    Idle,
    /// Away.
    Away,
    /// Not connected, or invisible.
    Offline,
}

/// A user.
#[derive(ToSchema)]
#[schema(as = User)]
pub struct UserSchema {
    /// Snowflake id, decimal.
    #[schema(example = "1234567890123456789")]
    id: String,
    /// `[a-z0-9_.]{3,32}`.
    username: String,
    /// Shown name.
    display_name: String,
    /// Where presence is given.
    status: Option<UserStatusSchema>,
}

/// Kind of channel.
#[derive(ToSchema)]
#[schema(as = ChannelKind, rename_all = "lowercase")]
pub enum ChannelKindSchema {
    /// Direct messages between two users.
    Dm,
    /// A named group.
    Group,
    /// A thread started from a message.
    Thread,
}

/// Who can see a channel.
#[derive(ToSchema)]
#[schema(as = Visibility, rename_all = "lowercase")]
pub enum VisibilitySchema {
    /// Anyone can see and join it.
    Public,
    /// Members only.
    Private,
}

/// A channel as the caller sees it.
#[derive(ToSchema)]
#[schema(as = Channel)]
pub struct ChannelSchema {
    /// Snowflake id, decimal.
    id: String,
    /// DM, group or thread.
    kind: ChannelKindSchema,
    /// Group or thread name; for a DM the other member's display name.
    name: String,
    /// Public or private.
    visibility: VisibilitySchema,
    /// A thread's parent channel.
    parent_id: Option<String>,
    /// The message a thread was started from.
    root_message_id: Option<String>,
    /// Number of members.
    member_count: u32,
    /// Newest undeleted message.
    last_message_id: Option<String>,
    /// The channel's current offset.
    offset: u64,
    /// The caller's last read message.
    last_read_message_id: Option<String>,
    /// Others' undeleted messages after the caller's last read one.
    unread_count: u32,
    /// Whether the caller muted it.
    muted: bool,
    /// End of the mute, ms since the epoch; absent = until unmuted.
    muted_until: Option<u64>,
}

/// A member's role.
#[derive(ToSchema)]
#[schema(as = Role, rename_all = "lowercase")]
pub enum RoleSchema {
    /// An ordinary member.
    Member,
    /// May manage the channel.
    Admin,
    /// The creator.
    Owner,
}

/// A channel member.
#[derive(ToSchema)]
#[schema(as = Member)]
pub struct MemberSchema {
    /// The member.
    user: UserSchema,
    /// Their role.
    role: RoleSchema,
}

/// An uploaded file.
#[derive(ToSchema)]
#[schema(as = Attachment)]
pub struct AttachmentSchema {
    /// Snowflake id, decimal.
    id: String,
    /// File name.
    filename: String,
    /// Type read from the bytes.
    content_type: String,
    /// Bytes.
    size: u64,
    /// Download path (`/media/...`).
    url: String,
    /// Image width.
    width: Option<u32>,
    /// Image height.
    height: Option<u32>,
    /// Thumbnail path, for images.
    thumbnail_url: Option<String>,
}

/// Users who reacted with one emoji.
#[derive(ToSchema)]
#[schema(as = ReactionCount)]
pub struct ReactionCountSchema {
    /// The emoji.
    emoji: String,
    /// How many users.
    count: u32,
}

/// A message.
#[derive(ToSchema)]
#[schema(as = Message)]
pub struct MessageSchema {
    /// Snowflake id, decimal.
    id: String,
    /// Its channel.
    channel_id: String,
    /// Who sent it.
    author: UserSchema,
    /// 1-4000 characters.
    content: String,
    /// ms since the epoch.
    created_at: u64,
    /// Last edit, ms since the epoch.
    edited_at: Option<u64>,
    /// The message it replies to.
    reply_to: Option<String>,
    /// Attached files.
    attachments: Vec<AttachmentSchema>,
    /// Reaction counts.
    reactions: Vec<ReactionCountSchema>,
    /// The sender's idempotency key.
    nonce: Option<String>,
}
