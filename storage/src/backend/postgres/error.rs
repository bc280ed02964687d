//! How PostgreSQL failures map onto [`StoreError`]: whose fault is it?
//!
//! A uniqueness violation is the client's (409), a missing referenced row is bad input
//! (400). The server or the way to it failing is the backend's (503): a lost or refused
//! connection, a server shutting down or out of resources, a wrong password or a
//! missing database, a cancelled statement (the search time budget), a deadlock or
//! serialization failure (the caller may retry). Anything else is ours (500).
//!
//! As in the SQLite backend, the text of a client fault is written here and names the
//! field; the server's own message only goes into backend and internal faults, for the
//! log.

use std::error::Error as _;

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::error::StoreError;

/// How tokio-postgres words the errors of the connection itself (its `Kind`s are not
/// public): reaching the server, talking to it, being let in.
const TRANSPORT: &[&str] = &[
    "error connecting to server",
    "error communicating with the server",
    "timeout waiting for server",
    "error performing TLS handshake",
    "authentication error",
    "unexpected message from server",
    "error parsing response from server",
];

/// Classifies a tokio-postgres error.
pub(crate) fn map_err(err: tokio_postgres::Error) -> StoreError {
    let Some(db) = err.as_db_error() else {
        // Not the server's answer: the way to it (the backend's fault) or our own use
        // of the driver (a value conversion, a column count).
        let text = err.to_string();
        if !(err.is_closed() || TRANSPORT.iter().any(|start| text.starts_with(start))) {
            return StoreError::Internal(text);
        }
        return StoreError::Unavailable(match err.source() {
            Some(cause) => format!("postgres: {text}: {cause}"),
            None => format!("postgres: {text}"),
        });
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        return StoreError::Conflict(taken(db.constraint()));
    }
    if *code == SqlState::FOREIGN_KEY_VIOLATION {
        return StoreError::Invalid("reference to a missing row".into());
    }
    let text = format!("postgres {}: {}", code.code(), db.message());
    if backend_fault(code) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Internal(text)
    }
}

/// Whether an SQLSTATE is the server's or the network's fault rather than ours.
fn backend_fault(code: &SqlState) -> bool {
    // 08: connection exception; 53: insufficient resources; 57: operator intervention
    // (shutdown, cancelled statement); 28: bad credentials; 3D: no such database;
    // 40: transaction rollback (deadlock, serialization failure); 58: system error.
    let class = code.code().get(..2).unwrap_or("");
    matches!(class, "08" | "53" | "57" | "28" | "3D" | "40" | "58")
}

/// `"{column}: already taken"` from the name of the violated index or constraint.
fn taken(constraint: Option<&str>) -> String {
    let column = match constraint {
        Some("users_username") => "username",
        Some("messages_nonce") => "nonce",
        Some("channels_dm_key_key") => "dm_key",
        Some(name) if name.ends_with("_pkey") => "id",
        _ => return "already taken".to_owned(),
    };
    format!("{column}: already taken")
}

/// Classifies a pool error: the server could not be reached in time, or refused us.
pub(crate) fn pool_err(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => match map_err(err) {
            // Whatever the server said while connecting, the node cannot use it.
            StoreError::Unavailable(text) | StoreError::Internal(text) => {
                StoreError::Unavailable(text)
            }
            other => other,
        },
        other => StoreError::Unavailable(format!("postgres pool: {other}")),
    }
}

/// `?`-friendly conversion for tokio-postgres results.
pub(crate) trait PgResultExt<T> {
    /// Maps the error with [`map_err`].
    fn pg(self) -> Result<T, StoreError>;
}

impl<T> PgResultExt<T> for Result<T, tokio_postgres::Error> {
    fn pg(self) -> Result<T, StoreError> {
        self.map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_become_columns() {
        assert_eq!(taken(Some("users_username")), "username: already taken");
        assert_eq!(taken(Some("messages_pkey")), "id: already taken");
        assert_eq!(taken(Some("messages_nonce")), "nonce: already taken");
        assert_eq!(taken(Some("something_else")), "already taken");
        assert_eq!(taken(None), "already taken");
    }

    #[test]
    fn server_trouble_is_the_backend_fault() {
        for code in [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::QUERY_CANCELED,
            SqlState::INVALID_PASSWORD,
            SqlState::INVALID_CATALOG_NAME,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::CONNECTION_FAILURE,
        ] {
            assert!(backend_fault(&code), "{code:?}");
        }
        for code in [SqlState::SYNTAX_ERROR, SqlState::UNDEFINED_TABLE] {
            assert!(!backend_fault(&code), "{code:?}");
        }
    }
}
