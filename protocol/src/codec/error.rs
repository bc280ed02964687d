//! What can go wrong decoding a message, and what the gateway does about each case.

use crate::close::CloseCode;
use crate::error::ErrorCode;
use crate::events::server::ErrorData;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Malformed envelope: not valid MessagePack/JSON, not a map, `t` not a string, `d`
    /// absent or not a map, `id` not a uint32, `s` not a uint64, a MessagePack string
    /// that is not valid UTF-8 anywhere in the message, trailing bytes after the value,
    /// nesting deeper than [`MAX_NESTING_DEPTH`](crate::limits::MAX_NESTING_DEPTH).
    /// The gateway closes with 4002.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// `t` names no event: `ERROR BAD_REQUEST`, the connection stays open.
    #[error("unknown event type `{t}`")]
    UnknownEvent {
        /// The request id, if the envelope had one.
        id: Option<u32>,
        /// The name the client sent.
        t: String,
    },
    /// `d` has a missing field or a field of the wrong type: `ERROR BAD_REQUEST` naming
    /// the field, the connection stays open.
    #[error("{t}: {reason}")]
    BadData {
        /// The request id, if the envelope had one.
        id: Option<u32>,
        /// The event name.
        t: String,
        /// What is wrong, starting with the field's path (`content: invalid type ...`).
        reason: String,
    },
}

impl DecodeError {
    /// The request id to put on the `ERROR` reply (none for a malformed envelope).
    pub fn request_id(&self) -> Option<u32> {
        match self {
            Self::Malformed(_) => None,
            Self::UnknownEvent { id, .. } | Self::BadData { id, .. } => *id,
        }
    }

    /// The event type the client named, when the envelope was readable.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            Self::Malformed(_) => None,
            Self::UnknownEvent { t, .. } | Self::BadData { t, .. } => Some(t),
        }
    }

    /// Whether the message was an `IDENTIFY` with bad data: before a session is
    /// identified, that is answered with `ERROR` (the client may retry), while any
    /// other undecodable message closes with 4003.
    pub fn is_identify(&self) -> bool {
        matches!(self, Self::BadData { t, .. } if t == "IDENTIFY")
    }

    /// The close code when the error ends the connection (a malformed envelope: 4002),
    /// `None` when it is answered with an `ERROR` instead.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Malformed(_) => Some(CloseCode::DecodeError),
            Self::UnknownEvent { .. } | Self::BadData { .. } => None,
        }
    }

    /// The `ERROR` data to answer with, when the connection stays open.
    pub fn error_data(&self) -> Option<ErrorData> {
        match self {
            Self::Malformed(_) => None,
            Self::UnknownEvent { .. } | Self::BadData { .. } => {
                Some(ErrorData::new(ErrorCode::BadRequest, self.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_closes_others_answer() {
        let malformed = DecodeError::Malformed("not a map".into());
        assert_eq!(malformed.close_code(), Some(CloseCode::DecodeError));
        assert_eq!(malformed.request_id(), None);
        assert_eq!(malformed.error_data(), None);

        let unknown = DecodeError::UnknownEvent {
            id: Some(3),
            t: "NOPE".into(),
        };
        assert_eq!(unknown.close_code(), None);
        assert_eq!(unknown.request_id(), Some(3));
        let data = unknown.error_data().unwrap();
        assert_eq!(data.code, ErrorCode::BadRequest);
        assert_eq!(data.message, "unknown event type `NOPE`");
        assert_eq!(unknown.event_type(), Some("NOPE"));
        assert!(!unknown.is_identify());
        assert_eq!(malformed.event_type(), None);

        let bad = DecodeError::BadData {
            id: None,
            t: "SEND_MESSAGE".into(),
            reason: "missing field `content`".into(),
        };
        assert_eq!(bad.request_id(), None);
        assert_eq!(
            bad.error_data().unwrap().message,
            "SEND_MESSAGE: missing field `content`"
        );
        assert!(!bad.is_identify());
        let identify = DecodeError::BadData {
            id: Some(1),
            t: "IDENTIFY".into(),
            reason: "token: invalid type".into(),
        };
        assert!(identify.is_identify());
        assert_eq!(identify.event_type(), Some("IDENTIFY"));
    }
}
