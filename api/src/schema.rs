//! OpenAPI schemas of the protocol objects (PROTOCOL.md section 3) and of the
//! constrained strings of request bodies (ids, usernames, names).
//!
//! The `protocol` crate stays free of HTTP and OpenAPI, so its types do not derive
//! `ToSchema`; these mirrors describe the same JSON (ids are decimal strings) and are
//! only used for the document. Request and response bodies point at them with
//! `#[schema(value_type = ...)]`; a test keeps them in step with the real types.
//!
//! The string rules are those `protocol::limits` and `service::validate` enforce, so
//! that a client (or a fuzzer such as schemathesis) that follows the document is not
//! refused for the shape of a field, and one that does not is. Names are trimmed by
//! the server; the pattern asks for one character that is neither whitespace nor a
//! control character, and no control character anywhere.

#![allow(dead_code)] // Fields exist for the derive; nothing reads them.

use std::borrow::Cow;

use protocol::limits::{
    CHANNEL_NAME_MAX_CHARS, DISPLAY_NAME_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS,
    USERNAME_MAX_CHARS, USERNAME_MIN_CHARS,
};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// The characters of `char::is_whitespace`, as a regex class body.
macro_rules! ws {
    () => {
        "\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
    };
}

/// The characters of `char::is_control`, as a regex class body.
macro_rules! ctl {
    () => {
        "\\u0000-\\u001F\\u007F-\\u009F"
    };
}

/// A string schema with its rules, documented as the component `$as`.
macro_rules! string_schema {
    (
        $(#[$doc:meta])*
        $name:ident as $as:literal: $description:literal, example $example:literal
        $(, $rule:ident = $value:expr)* $(,)?
    ) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    $(.$rule(Some($value)))*
                    .examples([$example])
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($as)
            }
        }
    };
}

/// Names (`service::validate::{display_name, channel_name}`): the server trims
/// whitespace (Rust's `char::is_whitespace`) from both ends, then wants at least one
/// character and no control character (`char::is_control`: U+0000-U+001F,
/// U+007F-U+009F). As a pattern: whitespace, then a trimmed name (it starts and ends
/// with a character that is neither whitespace nor control, with no control character
/// between), then whitespace. The classes are spelled out rather than `\s`, which
/// means something slightly different in each regex dialect.
const NAME_PATTERN: &str = concat!(
    "^[",
    ws!(),
    "]*",
    "[^",
    ws!(),
    ctl!(),
    "]",
    "(?:[^",
    ctl!(),
    "]*[^",
    ws!(),
    ctl!(),
    "])?",
    "[",
    ws!(),
    "]*$"
);

string_schema! {
    /// A Snowflake id (PROTOCOL.md section 3: ids are decimal strings in JSON).
    IdSchema as "Id": "A Snowflake id, decimal.",
    example "1234567890123456789",
    pattern = "^[0-9]{1,19}$",
}

string_schema! {
    /// A username (`protocol::limits::validate_username`).
    UsernameSchema as "Username": "3-32 characters of a-z, 0-9, `_` and `.`.",
    example "ada",
    pattern = "^[a-z0-9_.]{3,32}$",
    min_length = USERNAME_MIN_CHARS,
    max_length = USERNAME_MAX_CHARS,
}

string_schema! {
    /// A password (`protocol::limits::validate_password`).
    PasswordSchema as "Password": "8-256 characters.",
    example "correct horse",
    min_length = PASSWORD_MIN_CHARS,
    max_length = PASSWORD_MAX_CHARS,
}

string_schema! {
    /// A display name (`service::validate::display_name`).
    DisplayNameSchema as "DisplayName":
        "At most 32 characters, not blank, no control characters; surrounding whitespace is trimmed.",
    example "Ada Lovelace",
    pattern = NAME_PATTERN,
    min_length = 1,
    max_length = DISPLAY_NAME_MAX_CHARS,
}

string_schema! {
    /// A group or thread name (`service::validate::channel_name`).
    ChannelNameSchema as "ChannelName":
        "At most 100 characters, not blank, no control characters; surrounding whitespace is trimmed.",
    example "general",
    pattern = NAME_PATTERN,
    min_length = 1,
    max_length = CHANNEL_NAME_MAX_CHARS,
}

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
    id: IdSchema,
    /// `[a-z0-9_.]{3,32}`.
    username: UsernameSchema,
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
    id: IdSchema,
    /// DM, group or thread.
    kind: ChannelKindSchema,
    /// Group or thread name; for a DM the other member's display name.
    name: String,
    /// Public or private.
    visibility: VisibilitySchema,
    /// A thread's parent channel.
    parent_id: Option<IdSchema>,
    /// The message a thread was started from.
    root_message_id: Option<IdSchema>,
    /// Number of members.
    member_count: u32,
    /// Newest undeleted message.
    last_message_id: Option<IdSchema>,
    /// The channel's current offset.
    offset: u64,
    /// The caller's last read message.
    last_read_message_id: Option<IdSchema>,
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
    id: IdSchema,
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
    id: IdSchema,
    /// Its channel.
    channel_id: IdSchema,
    /// Who sent it.
    author: UserSchema,
    /// 1-4000 characters.
    content: String,
    /// ms since the epoch.
    created_at: u64,
    /// Last edit, ms since the epoch.
    edited_at: Option<u64>,
    /// The message it replies to.
    reply_to: Option<IdSchema>,
    /// Attached files.
    attachments: Vec<AttachmentSchema>,
    /// Reaction counts.
    reactions: Vec<ReactionCountSchema>,
    /// The sender's idempotency key.
    nonce: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character class edge, as padding and inside, in names of each length.
    fn samples() -> Vec<String> {
        let specials = [
            '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
            '\u{200a}', '\u{200b}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
            '\u{feff}', '\u{180e}', '\0', '\u{1c}', '\u{1f}', '\u{7f}', '\u{9f}', '\u{a1}', 'a',
            'é', '😀',
        ];
        let mut out = vec![String::new()];
        for &x in &specials {
            out.push(x.to_string());
            for &y in &specials {
                out.push(format!("{x}{y}"));
                out.push(format!("{x}a{y}"));
                out.push(format!("a{x}b{y}"));
            }
        }
        out.push(format!(" {} ", "x".repeat(30)));
        out.push("x".repeat(33));
        out.push(format!(" {}", "x".repeat(32)));
        out
    }

    fn matches(schema: RefOr<Schema>, text: &str) -> bool {
        let RefOr::T(Schema::Object(object)) = schema else {
            panic!("an object schema expected");
        };
        let pattern = object.pattern.expect("a pattern");
        let re = regex::Regex::new(&pattern).expect("the pattern compiles");
        let chars = text.chars().count();
        re.is_match(text)
            && object.min_length.is_none_or(|min| chars >= min)
            && object.max_length.is_none_or(|max| chars <= max)
    }

    /// A name is valid by the document exactly when the server accepts it.
    #[test]
    fn name_patterns_agree_with_the_validators() {
        use utoipa::PartialSchema;

        for text in samples() {
            assert_eq!(
                matches(DisplayNameSchema::schema(), &text),
                service::validate::display_name(&text).is_ok(),
                "display name {text:?}"
            );
            assert_eq!(
                matches(ChannelNameSchema::schema(), &text),
                service::validate::channel_name(&text).is_ok(),
                "channel name {text:?}"
            );
        }
    }

    #[test]
    fn username_and_id_patterns_agree_with_the_parsers() {
        use utoipa::PartialSchema;

        for text in [
            "ada",
            "ad",
            "a.b_c9",
            "Ada",
            "ada\n",
            &"a".repeat(32),
            &"a".repeat(33),
        ] {
            assert_eq!(
                matches(UsernameSchema::schema(), text),
                service::validate::username(text).is_ok(),
                "{text:?}"
            );
        }
        for text in ["0", "1234567890123456789", "", "+1", " 1", "1\n", "x"] {
            assert!(
                !matches(IdSchema::schema(), text) || text.parse::<u64>().is_ok(),
                "{text:?}"
            );
        }
        assert!(matches(IdSchema::schema(), "9999999999999999999"));
        assert!(!matches(IdSchema::schema(), "+1"));
    }
}
