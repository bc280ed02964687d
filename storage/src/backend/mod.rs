//! Storage backends, each implementing every trait of [`crate::ops`] and mirroring its
//! layout file for file.
//!
//! SQLite is the embedded single-node default; PostgreSQL serves several nodes from one
//! database; `pg_scylla` pairs PostgreSQL with the ScyllaDB history of `scylla` for
//! deployments whose history outgrows one server. `tests/conformance.rs` holds the one suite every backend must pass.

pub mod pg_scylla;
pub mod postgres;
pub mod scylla;
pub mod sqlite;

pub use pg_scylla::PgScyllaStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The rule every backend applies to an attachment a new message claims, given what
/// its row holds (`(uploader, message it is attached to, attachment)`, or `None` when
/// there is no such row): it must exist, be the author's upload, and be unattached.
pub(crate) fn claimable<A>(
    attachment: protocol::AttachmentId,
    row: Option<(i64, Option<i64>, A)>,
    author: i64,
) -> crate::Result<A> {
    let invalid =
        |why: &str| crate::StoreError::Invalid(format!("attachment_ids: {attachment} {why}"));
    match row {
        None => Err(invalid("does not exist")),
        Some((uploader, _, _)) if uploader != author => {
            Err(invalid("was uploaded by someone else"))
        }
        Some((_, Some(_), _)) => Err(invalid("is already attached")),
        Some((_, None, found)) => Ok(found),
    }
}
