//! Storage backends, each implementing every trait of [`crate::ops`] and mirroring its
//! layout file for file.
//!
//! SQLite is the embedded single-node default; PostgreSQL serves several nodes from one
//! database. `tests/conformance.rs` holds the one suite every backend must pass.

pub mod postgres;
pub mod scylla;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
