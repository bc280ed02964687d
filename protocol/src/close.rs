//! WebSocket close codes of PROTOCOL.md section 8, and whether a client should reconnect.

/// A close code the gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000: normal closure (the client asked to close).
    Normal,
    /// 1001: the server is shutting down or draining; reconnect with `positions`.
    GoingAway,
    /// 1002: RFC 6455 protocol error (bad framing).
    ProtocolError,
    /// 1003: a data type the endpoint cannot accept.
    UnsupportedData,
    /// 1007: a text message that is not valid UTF-8.
    InvalidPayload,
    /// 1008: policy violation.
    PolicyViolation,
    /// 1009: a message over the inbound cap.
    MessageTooBig,
    /// 1011: the server hit an unexpected condition.
    InternalError,
    /// 4000: unknown error; reconnect.
    UnknownError,
    /// 4002: the client sent something that does not decode.
    DecodeError,
    /// 4003: no IDENTIFY in time, or a request before IDENTIFY.
    NotIdentified,
    /// 4004: bad or expired token.
    AuthenticationFailed,
    /// 4005: a second IDENTIFY.
    AlreadyIdentified,
    /// 4008: too many data frames.
    RateLimited,
    /// 4009: no frame for 1.5 heartbeat intervals.
    HeartbeatTimeout,
    /// 4010: the connection's send queue overflowed.
    SlowConsumer,
}

impl CloseCode {
    /// The numeric code.
    pub const fn code(self) -> u16 {
        match self {
            Self::Normal => 1000,
            Self::GoingAway => 1001,
            Self::ProtocolError => 1002,
            Self::UnsupportedData => 1003,
            Self::InvalidPayload => 1007,
            Self::PolicyViolation => 1008,
            Self::MessageTooBig => 1009,
            Self::InternalError => 1011,
            Self::UnknownError => 4000,
            Self::DecodeError => 4002,
            Self::NotIdentified => 4003,
            Self::AuthenticationFailed => 4004,
            Self::AlreadyIdentified => 4005,
            Self::RateLimited => 4008,
            Self::HeartbeatTimeout => 4009,
            Self::SlowConsumer => 4010,
        }
    }

    /// The code for a number, if it is one of ours.
    pub const fn from_code(code: u16) -> Option<Self> {
        Some(match code {
            1000 => Self::Normal,
            1001 => Self::GoingAway,
            1002 => Self::ProtocolError,
            1003 => Self::UnsupportedData,
            1007 => Self::InvalidPayload,
            1008 => Self::PolicyViolation,
            1009 => Self::MessageTooBig,
            1011 => Self::InternalError,
            4000 => Self::UnknownError,
            4002 => Self::DecodeError,
            4003 => Self::NotIdentified,
            4004 => Self::AuthenticationFailed,
            4005 => Self::AlreadyIdentified,
            4008 => Self::RateLimited,
            4009 => Self::HeartbeatTimeout,
            4010 => Self::SlowConsumer,
            _ => return None,
        })
    }

    /// Whether a client should reconnect after this close without changing what it
    /// sends (section 8: yes after 1001, 1006, 4000, 4009, 4010).
    pub const fn can_reconnect(self) -> bool {
        matches!(
            self,
            Self::GoingAway | Self::UnknownError | Self::HeartbeatTimeout | Self::SlowConsumer
        )
    }

    /// A short reason for the close frame.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Normal => "bye",
            Self::GoingAway => "server going away",
            Self::ProtocolError => "protocol error",
            Self::UnsupportedData => "unsupported data",
            Self::InvalidPayload => "invalid utf-8",
            Self::PolicyViolation => "policy violation",
            Self::MessageTooBig => "message too big",
            Self::InternalError => "internal error",
            Self::UnknownError => "unknown error",
            Self::DecodeError => "decode error",
            Self::NotIdentified => "not identified",
            Self::AuthenticationFailed => "authentication failed",
            Self::AlreadyIdentified => "already identified",
            Self::RateLimited => "rate limited",
            Self::HeartbeatTimeout => "heartbeat timeout",
            Self::SlowConsumer => "slow consumer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let all = [
            (CloseCode::GoingAway, 1001, true),
            (CloseCode::MessageTooBig, 1009, false),
            (CloseCode::UnknownError, 4000, true),
            (CloseCode::DecodeError, 4002, false),
            (CloseCode::NotIdentified, 4003, false),
            (CloseCode::AuthenticationFailed, 4004, false),
            (CloseCode::AlreadyIdentified, 4005, false),
            (CloseCode::RateLimited, 4008, false),
            (CloseCode::HeartbeatTimeout, 4009, true),
            (CloseCode::SlowConsumer, 4010, true),
        ];
        for (code, n, reconnect) in all {
            assert_eq!(code.code(), n);
            assert_eq!(CloseCode::from_code(n), Some(code));
            assert_eq!(code.can_reconnect(), reconnect, "{n}");
        }
        assert_eq!(CloseCode::from_code(4001), None);
    }
}
