//! [`ServiceError`]: what a chat operation answers when it refuses or fails, and whose
//! fault that is (pingora's model, STYLE.md point 3).
//!
//! It carries the wire [`ErrorCode`] so the gateway can send it as `ERROR` and the API
//! as its JSON body without translating, a [`Fault`] that decides what is logged, and
//! the error it came from as its [`source`](std::error::Error::source):
//!
//! | fault | codes | the client sees | log |
//! |---|---|---|---|
//! | [`Fault::Client`] | 4xx codes | the message, naming the field | none |
//! | [`Fault::Backend`] | `UNAVAILABLE` | a generic reason ("storage unavailable") | one warning |
//! | [`Fault::Ours`] | `INTERNAL` | "internal error" | one error, with the source chain |
//!
//! An error is not logged where it is made but where it becomes an answer (the API's
//! error response, the gateway's `ERROR` frame), with [`ServiceError::log`]; clones
//! share one "logged" mark, so an error answered to many callers (a failed group
//! commit) is logged once. Storage's own text of a backend or our fault (an SQLite
//! message) stays in the source: it is logged, never sent.

use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use protocol::ErrorCode;
use storage::StoreError;

/// The message of every [`Fault::Ours`] error, as the client sees it.
pub const INTERNAL_MESSAGE: &str = "internal error";

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The request's: bad input, no permission, a limit. Answered as it is, not logged.
    Client,
    /// A backing service's (storage, the bus, the media store): down, overloaded or
    /// shutting down. Answered `UNAVAILABLE` (retry later), logged as a warning.
    Backend,
    /// Our code's: a broken invariant or an unexpected failure. Answered with an
    /// opaque `INTERNAL`, logged as an error with its source.
    Ours,
}

impl Fault {
    /// The fault a code implies when nothing more is known: `INTERNAL` is ours,
    /// `UNAVAILABLE` a backend's, everything else the client's.
    pub const fn of(code: ErrorCode) -> Self {
        match code {
            ErrorCode::Internal => Self::Ours,
            ErrorCode::Unavailable => Self::Backend,
            _ => Self::Client,
        }
    }
}

/// A refused or failed chat operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
#[non_exhaustive]
pub struct ServiceError {
    /// The wire code.
    pub code: ErrorCode,
    /// What the client reads: names the field for `BAD_REQUEST`; opaque for our
    /// faults ([`INTERNAL_MESSAGE`]).
    pub message: String,
    /// For `RATE_LIMITED`: when to retry, in ms.
    pub retry_after_ms: Option<u64>,
    /// Whose fault it is.
    pub fault: Fault,
    /// The error this one came from (a storage error, a detail of ours).
    #[source]
    source: Option<Source>,
}

/// Result alias for chat operations.
pub type Result<T> = std::result::Result<T, ServiceError>;

impl PartialEq for ServiceError {
    /// Equal when the client would see the same answer (the source is not compared).
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.message, self.retry_after_ms, self.fault)
            == (
                other.code,
                &other.message,
                other.retry_after_ms,
                other.fault,
            )
    }
}

impl Eq for ServiceError {}

impl ServiceError {
    /// An error with a code and a message; the fault follows the code
    /// ([`Fault::of`]). For `INTERNAL` the message is kept as the source and the
    /// client reads [`INTERNAL_MESSAGE`].
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        match Fault::of(code) {
            Fault::Ours => Self::internal(message),
            fault => Self {
                code,
                message,
                retry_after_ms: None,
                fault,
                source: None,
            },
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
            retry_after_ms: Some(retry_after_ms),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("rate limited; retry after {retry_after_ms} ms"),
            )
        }
    }

    /// A backing service is down: `why` is what the client reads, so it names the
    /// service, not its own error (give that with [`ServiceError::with_source`]).
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, why)
    }

    /// Our fault: `detail` is kept as the source (logged when answered), the client
    /// reads [`INTERNAL_MESSAGE`].
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: INTERNAL_MESSAGE.to_owned(),
            retry_after_ms: None,
            fault: Fault::Ours,
            source: Some(Source::new(Detail(detail.to_string()))),
        }
    }

    /// The same answer, with `source` as the error it came from.
    #[must_use]
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Source::new(source));
        self
    }

    /// Logs the error as its fault says, once across all its clones: nothing for a
    /// client fault, a warning for a backend's, an error with the source chain for
    /// ours. Call it where the error becomes an answer (the API's response, the
    /// gateway's `ERROR`), not where it is made. Answers whether it logged now.
    pub fn log(&self) -> bool {
        if self.fault == Fault::Client {
            return false;
        }
        if let Some(source) = &self.source {
            if source.logged.swap(true, Ordering::AcqRel) {
                return false;
            }
        }
        let cause = self.cause();
        match self.fault {
            Fault::Backend => {
                tracing::warn!(code = self.code.as_str(), error = %cause, "backend fault")
            }
            _ => tracing::error!(code = self.code.as_str(), error = %cause, "internal error"),
        }
        true
    }

    /// The source chain as one line (`a: b: c`), for logs; never for clients.
    pub fn cause(&self) -> String {
        let mut text = String::new();
        let mut next: Option<&(dyn StdError + 'static)> = self.source();
        while let Some(err) = next {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&err.to_string());
            next = err.source();
        }
        if text.is_empty() {
            text.clone_from(&self.message);
        }
        text
    }
}

impl From<StoreError> for ServiceError {
    /// Client faults keep storage's text, which names the field and never carries the
    /// backend's own message (the `StoreError` contract); backend and our faults
    /// answer a generic message and keep storage's text as the source.
    fn from(err: StoreError) -> Self {
        let answer = match &err {
            StoreError::Conflict(why) => Self::conflict(why.clone()),
            StoreError::Invalid(why) => Self::new(ErrorCode::BadRequest, why.clone()),
            StoreError::NotFound(why) => Self::new(ErrorCode::NotFound, why.clone()),
            StoreError::Limit(why) => Self::forbidden(why.clone()),
            StoreError::Unavailable(_) => Self::unavailable("storage unavailable"),
            _ => Self::internal("storage failed"),
        };
        answer.with_source(err)
    }
}

/// The error a [`ServiceError`] came from, shared by its clones with their "logged"
/// mark.
#[derive(Clone)]
struct Source {
    error: Arc<dyn StdError + Send + Sync>,
    logged: Arc<AtomicBool>,
}

impl Source {
    fn new(error: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            error: Arc::new(error),
            logged: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl StdError for Source {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
    }
}

/// A detail of one of our faults, given as text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Detail(String);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every storage error maps to the fault it is, keeps storage's error as its
    /// source, and answers storage's text only for client faults.
    #[test]
    fn store_errors_map_by_fault() {
        let cases = [
            (
                StoreError::Conflict("username: already taken".into()),
                ErrorCode::Conflict,
                Fault::Client,
                "username: already taken",
            ),
            (
                StoreError::Invalid("emoji: too many".into()),
                ErrorCode::BadRequest,
                Fault::Client,
                "emoji: too many",
            ),
            (
                StoreError::NotFound("message_id: no such message".into()),
                ErrorCode::NotFound,
                Fault::Client,
                "message_id: no such message",
            ),
            (
                StoreError::Limit("a channel has at most 3 members".into()),
                ErrorCode::Forbidden,
                Fault::Client,
                "a channel has at most 3 members",
            ),
            (
                StoreError::Unavailable("database is locked".into()),
                ErrorCode::Unavailable,
                Fault::Backend,
                "storage unavailable",
            ),
            (
                StoreError::Internal("no such column: secret_col".into()),
                ErrorCode::Internal,
                Fault::Ours,
                INTERNAL_MESSAGE,
            ),
        ];
        for (store, code, fault, message) in cases {
            let text = store.to_string();
            let e = ServiceError::from(store);
            assert_eq!(
                (e.code, e.fault, e.message.as_str()),
                (code, fault, message),
                "{text}"
            );
            let source = StdError::source(&e).expect("storage's error is the source");
            assert_eq!(source.to_string(), text);
            assert!(e.cause().contains(&text), "the log line carries it");
        }
    }

    /// What a client reads of a backend or our fault is ours, never storage's text.
    #[test]
    fn storage_text_never_reaches_a_client() {
        let secret = "disk I/O error in /var/lib/layer4/db.sqlite";
        for store in [
            StoreError::Unavailable(secret.into()),
            StoreError::Internal(secret.into()),
        ] {
            let e = ServiceError::from(store);
            assert!(!e.message.contains("sqlite") && !e.message.contains("disk"));
            assert!(!e.to_string().contains(secret), "{e}");
            assert!(e.cause().contains(secret));
        }
        let e = ServiceError::new(ErrorCode::Internal, format!("query failed: {secret}"));
        assert_eq!(
            (e.message.as_str(), e.fault),
            (INTERNAL_MESSAGE, Fault::Ours)
        );
        assert!(e.cause().contains(secret));
    }

    #[test]
    fn faults_follow_the_constructors() {
        for e in [
            ServiceError::bad_request("content", "must not be blank"),
            ServiceError::too_large("content", "over 4000"),
            ServiceError::unauthorized("invalid token"),
            ServiceError::forbidden("no"),
            ServiceError::not_found("channel"),
            ServiceError::conflict("taken"),
            ServiceError::blocked("blocked"),
            ServiceError::rate_limited(5),
        ] {
            assert_eq!(e.fault, Fault::Client, "{e}");
            assert!(!e.log(), "client faults are not logged");
        }
        assert_eq!(ServiceError::unavailable("bus").fault, Fault::Backend);
        assert_eq!(ServiceError::internal("bug").fault, Fault::Ours);
        assert_eq!(ServiceError::internal("bug").code, ErrorCode::Internal);
    }

    /// Clones share the mark: an error answered to many callers is logged once.
    #[test]
    fn logged_once_across_clones() {
        let e = ServiceError::internal("append_events answered 2 results for 3 events");
        let copies = [e.clone(), e.clone()];
        assert!(e.log());
        for copy in &copies {
            assert!(!copy.log());
        }
        let backend = ServiceError::from(StoreError::Unavailable("busy".into()));
        assert!(backend.clone().log());
        assert!(!backend.log());
    }

    #[test]
    fn constructors_name_the_field() {
        let e = ServiceError::bad_request("content", "must not be blank");
        assert_eq!(e.message, "content: must not be blank");
        assert_eq!(ServiceError::rate_limited(1200).retry_after_ms, Some(1200));
        assert_eq!(e.to_string(), "BAD_REQUEST: content: must not be blank");
    }
}
