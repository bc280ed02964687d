//! Limits of one WebSocket connection, as a plain value with documented defaults.

/// Limits applied to what a client sends on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsConfig {
    /// Largest message accepted, counted after reassembly of its fragments; a message
    /// that would grow past it (even by a frame header's declared length, before its
    /// payload arrives) closes the connection with 1009.
    ///
    /// Default [`WsConfig::DEFAULT_MAX_MESSAGE_BYTES`] (64 KiB, the contract's inbound
    /// limit); Autobahn section 9 runs with 16 MiB.
    pub max_message_bytes: usize,
    /// Most frames one message may be split into; more closes with 1009. Bounds the work
    /// a client can cause with empty continuation frames that never end a message.
    ///
    /// Default: one fragment per 64 bytes of `max_message_bytes` (1024 at 64 KiB), so
    /// raising the byte cap alone keeps Autobahn's 64-byte fragment cases within it.
    pub max_fragments: usize,
}

impl WsConfig {
    /// The contract's default inbound message limit: 64 KiB.
    pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

    /// The smallest fragment budget `with_max_message_bytes` derives.
    const MIN_FRAGMENTS: usize = 16;

    /// The defaults, with the message limit set to `max_message_bytes` and the fragment
    /// limit derived from it (one per 64 bytes, at least 16).
    pub fn with_max_message_bytes(max_message_bytes: usize) -> Self {
        Self {
            max_message_bytes,
            max_fragments: (max_message_bytes / 64).max(Self::MIN_FRAGMENTS),
        }
    }
}

impl Default for WsConfig {
    fn default() -> Self {
        Self::with_max_message_bytes(Self::DEFAULT_MAX_MESSAGE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = WsConfig::default();
        assert_eq!(c.max_message_bytes, 65536);
        assert_eq!(c.max_fragments, 1024);
    }

    #[test]
    fn fragment_budget_follows_the_byte_cap() {
        assert_eq!(
            WsConfig::with_max_message_bytes(16 << 20).max_fragments,
            262_144
        );
        assert_eq!(WsConfig::with_max_message_bytes(100).max_fragments, 16);
    }
}
