//! Storage backends, each implementing every trait of [`crate::ops`] and mirroring its
//! layout file for file.
//!
//! Only SQLite exists today (the embedded single-node default). PostgreSQL and ScyllaDB
//! join here later; `tests/conformance.rs` holds the one suite every backend must pass.

pub mod scylla;
pub mod sqlite;

pub use sqlite::SqliteStore;
