//! Every number of the contract (PROTOCOL.md sections 1, 4, 6, 7, 8 and API.md), in one
//! place, with the checks that the API and the gateway both apply to user input.
//!
//! The contract calls these limits configurable: the values here are the defaults, and
//! the fixed bounds of the wire format. Configuration types live with the services that
//! read them; they start from these constants. Values the contract leaves open are
//! marked "our choice".

mod validate;

pub use validate::{
    validate_channel_name, validate_content, validate_cursors, validate_display_name,
    validate_emoji, validate_fetch_limit, validate_nonce, validate_password, validate_username,
    ContentError, Cursor, FieldError,
};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

// Section 1: transport.

/// The only protocol version (`?v=1`).
pub const PROTOCOL_VERSION: u32 = 1;
/// Default gateway port.
pub const DEFAULT_GATEWAY_PORT: u16 = 3001;
/// Default inbound message cap, after reassembly of fragments; over it, close 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * KIB;
/// The inbound cap used for the Autobahn section 9 cases (messages up to 16 MiB).
pub const CONFORMANCE_MAX_MESSAGE_BYTES: usize = 16 * MIB;
/// Deepest nesting of maps and arrays in a message, the envelope counting as 1; deeper
/// is a decode error (close 4002). Our choice: real messages nest 5 levels at most.
pub const MAX_NESTING_DEPTH: usize = 32;

// Section 4: connection life.

/// Time to send `IDENTIFY` after the upgrade; then close 4003.
pub const IDENTIFY_TIMEOUT_MS: u64 = 10_000;
/// Default heartbeat interval given in `READY`.
pub const HEARTBEAT_INTERVAL_MS: u64 = 30_000;
/// Silence (no frame at all) after which the gateway closes 4009: 1.5 intervals.
pub const HEARTBEAT_TIMEOUT_MS: u64 = HEARTBEAT_INTERVAL_MS * 3 / 2;
/// Channel events kept per channel for replay (at least this many; configurable).
pub const REPLAY_BUFFER_EVENTS: usize = 256;

// Section 6: client to server.

/// Fewest characters (Unicode scalar values) in a message's content.
pub const CONTENT_MIN_CHARS: usize = 1;
/// Most characters in a message's content; over it, `TOO_LARGE`.
pub const CONTENT_MAX_CHARS: usize = 4000;
/// Fewest bytes in a `nonce`.
pub const NONCE_MIN_BYTES: usize = 1;
/// Most bytes in a `nonce`.
pub const NONCE_MAX_BYTES: usize = 64;
/// How long a `nonce` is remembered per user and channel for idempotent sends.
pub const NONCE_WINDOW_MS: u64 = 600_000;
/// Typing expires this long after `START_TYPING`.
pub const TYPING_TTL_MS: u64 = 10_000;
/// At most one `TYPING_STARTED` per user per channel reaches the channel this often;
/// a repeat within it only refreshes the expiry.
pub const TYPING_INTERVAL_MS: u64 = 3_000;
/// Smallest `limit` of a history page.
pub const FETCH_LIMIT_MIN: u32 = 1;
/// `limit` of a history page when none is given.
pub const FETCH_LIMIT_DEFAULT: u32 = 50;
/// Largest `limit` of a history page.
pub const FETCH_LIMIT_MAX: u32 = 100;

// Section 7: server to client.

/// Channels with more members than this get read receipts and presence only for the
/// user's own sessions.
pub const LARGE_THRESHOLD: u32 = 250;
/// A user goes offline at most this long after their last session closes.
pub const PRESENCE_GRACE_MS: u64 = 10_000;

// Section 8: errors and limits.

/// Data frames a connection may send per window (PING not counted); over it, close 4008.
pub const FRAMES_PER_WINDOW: u32 = 120;
/// The window of [`FRAMES_PER_WINDOW`].
pub const FRAME_WINDOW_MS: u64 = 60_000;
/// Messages a user may send per channel per window; over it, `ERROR RATE_LIMITED`.
pub const MESSAGES_PER_CHANNEL: u32 = 5;
/// The window of [`MESSAGES_PER_CHANNEL`].
pub const MESSAGES_WINDOW_MS: u64 = 5_000;
/// Fewest bytes in an emoji.
pub const EMOJI_MIN_BYTES: usize = 1;
/// Most bytes in an emoji.
pub const EMOJI_MAX_BYTES: usize = 64;
/// Most distinct emoji on one message; a new one beyond it is `BAD_REQUEST`.
pub const MAX_DISTINCT_EMOJI: usize = 20;
/// Most members of a group; adding beyond it is `FORBIDDEN`.
pub const MAX_GROUP_MEMBERS: u32 = 10_000;
/// Unsent bytes queued for one connection before it is closed 4010 (slow consumer).
pub const MAX_QUEUED_BYTES: usize = 4 * MIB;
/// A slow consumer's TCP connection is dropped within this long of its 4010 close.
pub const SLOW_CONSUMER_DROP_MS: u64 = 5_000;

// API.md.

/// Default API port.
pub const DEFAULT_API_PORT: u16 = 3000;
/// Fewest characters in a username.
pub const USERNAME_MIN_CHARS: usize = 3;
/// Most characters in a username.
pub const USERNAME_MAX_CHARS: usize = 32;
/// Fewest characters in a password.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Most characters in a password.
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Most characters in a display name. Our choice (as Discord).
pub const DISPLAY_NAME_MAX_CHARS: usize = 32;
/// Most characters in a group or thread name. Our choice (as Discord).
pub const CHANNEL_NAME_MAX_CHARS: usize = 100;
/// Largest upload (the multipart `file` part).
pub const UPLOAD_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// Register and login requests per client IP per window.
pub const AUTH_REQUESTS_PER_WINDOW: u32 = 10;
/// Register and login requests per client IP per window under `layer4 dev`.
pub const DEV_AUTH_REQUESTS_PER_WINDOW: u32 = 1000;
/// The window of the register and login limits.
pub const AUTH_WINDOW_MS: u64 = 60_000;
/// Authenticated API requests per user per window.
pub const API_REQUESTS_PER_WINDOW: u32 = 50;
/// The window of [`API_REQUESTS_PER_WINDOW`].
pub const API_WINDOW_MS: u64 = 1_000;
/// API changes reach connected clients within this long.
pub const API_EVENT_DELAY_MAX_MS: u64 = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_values() {
        assert_eq!(MAX_MESSAGE_BYTES, 65_536);
        assert_eq!(CONFORMANCE_MAX_MESSAGE_BYTES, 16_777_216);
        assert_eq!(HEARTBEAT_TIMEOUT_MS, 45_000);
        assert_eq!(MAX_QUEUED_BYTES, 4_194_304);
        assert_eq!(UPLOAD_MAX_BYTES, 52_428_800);
        assert_eq!(NONCE_WINDOW_MS, 10 * 60 * 1000);
        const {
            assert!(FETCH_LIMIT_MIN <= FETCH_LIMIT_DEFAULT);
            assert!(FETCH_LIMIT_DEFAULT <= FETCH_LIMIT_MAX);
        }
    }
}
