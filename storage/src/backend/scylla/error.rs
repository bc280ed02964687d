//! Driver errors as [`StoreError`]s: the cluster being away or overloaded is
//! `Unavailable` (503, the caller may retry: every write here is idempotent); anything
//! else (a statement the server refuses, a row that does not decode) is `Internal`.

use scylla::errors::{DbError, ExecutionError, RequestAttemptError};

use crate::error::StoreError;

/// An execution error, classified.
pub(super) fn execution(err: ExecutionError) -> StoreError {
    let away = match &err {
        ExecutionError::EmptyPlan
        | ExecutionError::ConnectionPoolError(_)
        | ExecutionError::RequestTimeout(_) => true,
        ExecutionError::LastAttemptError(attempt) => attempt_is_away(attempt),
        _ => false,
    };
    if away {
        StoreError::Unavailable(format!("ScyllaDB: {err}"))
    } else {
        StoreError::Internal(format!("ScyllaDB: {err}"))
    }
}

/// Whether a failed attempt means the cluster cannot serve now (as opposed to a bad
/// request).
fn attempt_is_away(attempt: &RequestAttemptError) -> bool {
    match attempt {
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => true,
        RequestAttemptError::DbError(db, _) => matches!(
            db,
            DbError::Unavailable { .. }
                | DbError::Overloaded
                | DbError::IsBootstrapping
                | DbError::ReadTimeout { .. }
                | DbError::WriteTimeout { .. }
                | DbError::ReadFailure { .. }
                | DbError::WriteFailure { .. }
                | DbError::RateLimitReached { .. }
        ),
        _ => false,
    }
}

/// A result that did not decode as the schema says: our fault.
pub(super) fn decode(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("ScyllaDB row: {err}"))
}

/// `.store()` on driver results, like the SQLite backend's `SqlResultExt`.
pub(super) trait ExecResultExt<T> {
    /// Maps the error with [`execution`].
    fn store(self) -> Result<T, StoreError>;
}

impl<T> ExecResultExt<T> for Result<T, ExecutionError> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(execution)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn away_is_unavailable_and_bad_requests_are_internal() {
        assert!(matches!(
            execution(ExecutionError::RequestTimeout(Duration::from_secs(1))),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            execution(ExecutionError::EmptyPlan),
            StoreError::Unavailable(_)
        ));
        let overloaded = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Overloaded,
            "busy".into(),
        ));
        assert!(matches!(execution(overloaded), StoreError::Unavailable(t) if t.contains("busy")));
        let invalid = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Invalid,
            "unconfigured table".into(),
        ));
        assert!(
            matches!(execution(invalid), StoreError::Internal(t) if t.contains("unconfigured"))
        );
        assert!(matches!(decode("bad"), StoreError::Internal(t) if t.contains("bad")));
    }
}
