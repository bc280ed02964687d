//! How SQLite failures map onto [`StoreError`]: whose fault is it?
//!
//! A uniqueness violation is the client's (409), a missing referenced row is bad input
//! (400), a busy or locked database is the backend's (503), and anything else is ours.

use rusqlite::ErrorCode;

use crate::error::StoreError;

/// Classifies a rusqlite error.
pub(crate) fn map_err(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, ref detail) = err {
        let text = detail.clone().unwrap_or_else(|| failure.to_string());
        match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Unavailable(text)
            }
            ErrorCode::ConstraintViolation => match failure.extended_code {
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => return StoreError::Conflict(text),
                // A reference to a row that does not exist (or was deleted meanwhile).
                rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StoreError::Invalid(format!("reference to a missing row: {text}"))
                }
                _ => {}
            },
            _ => {}
        }
    }
    StoreError::Internal(err.to_string())
}

/// `?`-friendly conversion for rusqlite results.
pub(crate) trait SqlResultExt<T> {
    /// Maps the error with [`map_err`].
    fn store(self) -> Result<T, StoreError>;
}

impl<T> SqlResultExt<T> for Result<T, rusqlite::Error> {
    fn store(self) -> Result<T, StoreError> {
        self.map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT UNIQUE);
             CREATE TABLE c (p_id INTEGER REFERENCES p (id));",
        )
        .unwrap();
        conn
    }

    #[test]
    fn unique_and_primary_key_are_conflicts() {
        let conn = conn();
        conn.execute("INSERT INTO p VALUES (1, 'a')", []).unwrap();
        let dup_name = conn
            .execute("INSERT INTO p VALUES (2, 'a')", [])
            .unwrap_err();
        assert!(matches!(map_err(dup_name), StoreError::Conflict(_)));
        let dup_id = conn
            .execute("INSERT INTO p VALUES (1, 'b')", [])
            .unwrap_err();
        assert!(matches!(map_err(dup_id), StoreError::Conflict(_)));
    }

    #[test]
    fn foreign_key_is_invalid_and_syntax_is_internal() {
        let conn = conn();
        let fk = conn.execute("INSERT INTO c VALUES (9)", []).unwrap_err();
        assert!(matches!(map_err(fk), StoreError::Invalid(_)));
        let syntax = conn.execute("SELEC 1", []).unwrap_err();
        assert!(matches!(map_err(syntax), StoreError::Internal(_)));
    }

    #[test]
    fn busy_is_unavailable() {
        let err = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(matches!(map_err(err), StoreError::Unavailable(_)));
    }
}
