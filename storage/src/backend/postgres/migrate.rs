//! The schema migrator: numbered SQL files from the workspace's `migrations/postgres/`,
//! embedded in the binary and applied in order, recorded in `schema_migrations(version)`.
//!
//! Everything pending is applied in ONE transaction (PostgreSQL's DDL is
//! transactional) that first takes an advisory lock named after the schema, so two
//! nodes starting at once against the same database do not race: the second waits, then
//! finds the versions applied. A failed migration leaves the schema as it was.
//!
//! As in the SQLite backend it is deliberately tiny: forward only, no checksums; a
//! database with a version this binary does not know (a newer release) is left alone
//! and logged.

use deadpool_postgres::ClientWrapper;

use super::codec::{get, int, now_ms};
use super::error::PgResultExt;
use crate::error::Result;

/// Every migration, by version, in order.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../../../migrations/postgres/0002_message_index.sql"),
    ),
];

/// Applies every migration the schema lacks (creating `schema` first when it is named
/// and missing); returns how many were applied.
pub(crate) async fn migrate(client: &mut ClientWrapper, schema: Option<&str>) -> Result<usize> {
    let tx = client.transaction().await.pg()?;
    // The lock's key: the schema the tables go to.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('layer4 migrate ' || COALESCE($1::text, current_schema(), '')))",
        &[&schema],
    )
    .await
    .pg()?;
    if let Some(schema) = schema {
        // Checked by the URL parser: lowercase letters, digits and `_` only.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .pg()?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    bigint PRIMARY KEY,
             applied_at bigint NOT NULL
         )",
    )
    .await
    .pg()?;
    let done: Vec<i64> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .pg()?
        .iter()
        .map(|row| get(row, 0))
        .collect::<Result<_>>()?;
    let mut applied = 0;
    for &(version, sql) in MIGRATIONS {
        if done.contains(&version) {
            continue;
        }
        tx.batch_execute(sql).await.pg()?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&version, &int(now_ms())],
        )
        .await
        .pg()?;
        applied += 1;
        tracing::info!(version, "applied postgres migration");
    }
    tx.commit().await.pg()?;
    let known = MIGRATIONS.last().map_or(0, |&(version, _)| version);
    if let Some(&newest) = done.last().filter(|&&newest| newest > known) {
        tracing::warn!(
            newest,
            known,
            "database schema is newer than this binary knows"
        );
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
