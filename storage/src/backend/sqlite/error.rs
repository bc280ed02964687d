//! How SQLite failures map onto [`StoreError`]: whose fault is it?
//!
//! A uniqueness violation is the client's (409), a missing referenced row is bad input
//! (400), a busy or locked database is the backend's (503), and anything else is ours.
//!
//! The text of a client fault reaches the client, so it is written here, naming the
//! field, and never carries SQLite's own message; the text of a backend or our fault
//! keeps SQLite's message for the log and never reaches a client.

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
                | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict(taken(&text))
                }
                // A reference to a row that does not exist (or was deleted meanwhile).
                rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StoreError::Invalid("reference to a missing row".into())
                }
                _ => {}
            },
            _ => {}
        }
    }
    StoreError::Internal(err.to_string())
}

/// `"{columns}: already taken"` from SQLite's `UNIQUE constraint failed: t.a, t.b`
/// (the column names only), or `"already taken"` when the text has another shape.
fn taken(text: &str) -> String {
    let columns: Vec<&str> = text
        .strip_prefix("UNIQUE constraint failed: ")
        .map(|list| {
            list.split(", ")
                .filter_map(|qualified| qualified.rsplit('.').next())
                .filter(|column| {
                    !column.is_empty()
                        && column
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .collect()
        })
        .unwrap_or_default();
    if columns.is_empty() {
        "already taken".to_owned()
    } else {
        format!("{}: already taken", columns.join(", "))
    }
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

    /// Client-fault texts are ours, naming the column, never SQLite's message.
    #[test]
    fn client_texts_carry_no_sqlite_message() {
        let conn = conn();
        conn.execute("INSERT INTO p VALUES (1, 'a')", []).unwrap();
        let dup = map_err(
            conn.execute("INSERT INTO p VALUES (2, 'a')", [])
                .unwrap_err(),
        );
        assert!(matches!(&dup, StoreError::Conflict(text) if text == "name: already taken"));
        let fk = map_err(conn.execute("INSERT INTO c VALUES (9)", []).unwrap_err());
        assert!(matches!(&fk, StoreError::Invalid(text) if text == "reference to a missing row"));
        for err in [dup, fk] {
            let text = err.to_string();
            assert!(
                !text.contains("constraint") && !text.contains("p."),
                "{text}"
            );
        }
        assert_eq!(taken("something else"), "already taken");
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
