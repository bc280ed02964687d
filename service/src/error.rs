//! [`ServiceError`]: what a chat operation answers when it refuses or fails.
//!
//! It carries the wire [`ErrorCode`] so the gateway can send it as `ERROR` and the API
//! as its JSON body without translating. Client faults are quiet; our own faults
//! ([`ServiceError::internal`]) are logged once here and reach the client as an opaque
//! "internal error".

use std::fmt;

use protocol::ErrorCode;
use storage::StoreError;

/// A refused or failed chat operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The wire code.
    pub code: ErrorCode,
    /// A human-readable reason; names the field for `BAD_REQUEST`.
    pub message: String,
    /// For `RATE_LIMITED`: when to retry, in ms.
    pub retry_after_ms: Option<u64>,
}

/// Result alias for chat operations.
pub type Result<T> = std::result::Result<T, ServiceError>;

impl ServiceError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// Bad input in `field`.
    pub fn bad_request(field: &str, why: impl fmt::Display) -> Self {
        Self::new(ErrorCode::BadRequest, format!("{field}: {why}"))
    }

    /// `field` is over a size limit.
    pub fn too_large(field: &str, why: impl fmt::Display) -> Self {
        Self::new(ErrorCode::TooLarge, format!("{field}: {why}"))
    }

    /// No, bad or expired credentials.
    pub fn unauthorized(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, why)
    }

    /// Visible, but not allowed.
    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, why)
    }

    /// `what` does not exist or the caller cannot see it.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// Conflicts with existing state.
    pub fn conflict(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, why)
    }

    /// One user blocked the other.
    pub fn blocked(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Blocked, why)
    }

    /// Over a rate limit; retry after `retry_after_ms`.
    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: format!("rate limited; retry after {retry_after_ms} ms"),
            retry_after_ms: Some(retry_after_ms),
        }
    }

    /// A backing service is down.
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, why)
    }

    /// Our fault: logs `detail` once, answers an opaque message.
    pub fn internal(detail: impl fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(why) => Self::conflict(why),
            StoreError::Invalid(why) => Self::new(ErrorCode::BadRequest, why),
            StoreError::NotFound(why) => Self::new(ErrorCode::NotFound, why),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "storage unavailable");
                Self::unavailable("storage unavailable")
            }
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_by_fault() {
        let e: ServiceError = StoreError::Conflict("username taken".into()).into();
        assert_eq!(e.code, ErrorCode::Conflict);
        let e: ServiceError = StoreError::Invalid("emoji: too many".into()).into();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::BadRequest, "emoji: too many")
        );
        let e: ServiceError = StoreError::NotFound("message_id: no such message".into()).into();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::NotFound, "message_id: no such message")
        );
        let e: ServiceError = StoreError::Unavailable("db down".into()).into();
        assert_eq!(e.code, ErrorCode::Unavailable);
        let e: ServiceError = StoreError::Internal("secret detail".into()).into();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::Internal, "internal error")
        );
    }

    #[test]
    fn constructors_name_the_field() {
        let e = ServiceError::bad_request("content", "must not be blank");
        assert_eq!(e.message, "content: must not be blank");
        assert_eq!(ServiceError::rate_limited(1200).retry_after_ms, Some(1200));
    }
}
