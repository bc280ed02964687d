//! Conversions between Rust values and PostgreSQL columns. `bigint` is SQLite's
//! integer (signed 64-bit), so ids, times, counts, enums and LIKE patterns convert
//! exactly as in the SQLite backend, whose functions are reused; only reading a column
//! is PostgreSQL's own ([`get`]).

use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

pub(crate) use crate::backend::sqlite::codec::{
    fold, id, int, like_escape, name_words, new_id, now_ms, parse_kind, parse_role,
    parse_visibility, to_id, to_u32, to_u64,
};
use crate::error::{Result, StoreError};

/// Column `at` of `row`; a type mismatch is our bug (`Internal`), never a panic.
pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, at: usize) -> Result<T> {
    row.try_get(at)
        .map_err(|err| StoreError::Internal(format!("postgres column {at}: {err}")))
}

/// An unsigned count or size as a bigint parameter (saturating).
pub(crate) fn count(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
