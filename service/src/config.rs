//! [`ChatConfig`]: every number the chat rules use, with the contract's defaults.
//!
//! Config is a value: `main` builds it (flags, environment) and hands it to
//! [`crate::Chat::new`]; nothing here reads the environment. The defaults are the
//! contract's numbers from [`protocol::limits`].

use protocol::limits;
use rand::RngCore;

/// Cost parameters of argon2id password hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory cost in KiB (default 19 456, OWASP's argon2id minimum).
    pub memory_kib: u32,
    /// Number of passes (default 2).
    pub iterations: u32,
    /// Degree of parallelism (default 1).
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordParams {
    /// The cheapest parameters argon2 accepts: for tests only, never for real passwords.
    pub fn insecure_fast() -> Self {
        Self {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// The chat rules' numbers (PROTOCOL.md section 8 and API.md), all configurable.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// Snowflake worker id, 0-1023 (unique per process in a cluster). Default 0.
    pub worker_id: u16,
    /// HS256 secret for tokens, shared by every API and gateway node. Default: 32 random
    /// bytes, so a default config only verifies its own tokens.
    pub jwt_secret: Vec<u8>,
    /// Token lifetime in seconds. Default 7 days.
    pub token_ttl_secs: u64,
    /// Channels above this many members get read receipts only for the reader's own
    /// sessions, and are no presence audience. Default 250.
    pub large_threshold: u32,
    /// Most members a group (or thread) may have. Default 10 000.
    pub max_group_members: u32,
    /// Messages one user may send to one channel per window. Default 5.
    pub messages_per_window: u32,
    /// That window, in ms. Default 5 000.
    pub message_window_ms: u64,
    /// How long a `nonce` makes a resend idempotent, in ms. Default 10 minutes.
    pub nonce_window_ms: u64,
    /// Most distinct emoji on one message. Default 20.
    pub max_distinct_emoji: u32,
    /// How long a user stays online after their last session closed, in ms. Default 10 s.
    pub presence_grace_ms: u64,
    /// Cluster mode: a node whose presence heartbeat is older than this, in ms, is
    /// dead and its users go offline; each node beats every third of it. Default 15 s.
    pub presence_ttl_ms: u64,
    /// How long a `START_TYPING` lasts without a refresh, in ms. Default 10 s.
    pub typing_ttl_ms: u64,
    /// At most one `TYPING_STARTED` per user per channel is published this often; a
    /// `START_TYPING` within it refreshes the expiry only. Default 3 s.
    pub typing_interval_ms: u64,
    /// Most attachments on one message. Default 10.
    pub max_attachments: usize,
    /// Most keys an in-memory rate limiter tracks before it sweeps expired ones (and
    /// then, if still full, lets new keys through untracked rather than grow). Default 100 000.
    pub rate_limit_max_keys: usize,
    /// Most password hashes computed at once (each takes `memory_kib`). Default 4.
    pub max_concurrent_hashes: usize,
    /// argon2id cost.
    pub password: PasswordParams,
    /// Channel-event sequencers (homes): `layer4 dev` and the gateway use one per
    /// gateway shard, each run by its shard. Default 1.
    pub sequencers: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        let mut secret = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        Self {
            worker_id: 0,
            jwt_secret: secret,
            token_ttl_secs: 7 * 24 * 3600,
            large_threshold: limits::LARGE_THRESHOLD,
            sequencers: 1,
            max_group_members: limits::MAX_GROUP_MEMBERS,
            messages_per_window: limits::MESSAGES_PER_CHANNEL,
            message_window_ms: limits::MESSAGES_WINDOW_MS,
            nonce_window_ms: limits::NONCE_WINDOW_MS,
            max_distinct_emoji: u32::try_from(limits::MAX_DISTINCT_EMOJI).unwrap_or(u32::MAX),
            presence_grace_ms: limits::PRESENCE_GRACE_MS,
            presence_ttl_ms: 15_000,
            typing_ttl_ms: limits::TYPING_TTL_MS,
            typing_interval_ms: limits::TYPING_INTERVAL_MS,
            max_attachments: 10,
            rate_limit_max_keys: 100_000,
            max_concurrent_hashes: 4,
            password: PasswordParams::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let c = ChatConfig::default();
        assert_eq!(c.large_threshold, 250);
        assert_eq!((c.typing_ttl_ms, c.typing_interval_ms), (10_000, 3_000));
        assert_eq!(c.max_group_members, 10_000);
        assert_eq!((c.messages_per_window, c.message_window_ms), (5, 5_000));
        assert_eq!(c.nonce_window_ms, 600_000);
        assert_eq!(c.max_distinct_emoji, 20);
        assert_eq!((c.presence_grace_ms, c.presence_ttl_ms), (10_000, 15_000));
        assert_eq!(c.jwt_secret.len(), 32);
        assert_ne!(
            c.jwt_secret,
            ChatConfig::default().jwt_secret,
            "secret is random"
        );
    }
}
