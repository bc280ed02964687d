//! The storage conformance suite: one set of backend-agnostic checks, run against every
//! backend.
//!
//! Each check is an `async fn(&Backend)` in a module under `conformance/`, written only
//! against the traits (`DynStore`), with fresh ids and unique names, so it also holds on
//! a shared server database where other tests run at the same time. The
//! [`conformance_suite!`] macro turns the list of checks into one `#[tokio::test]` per
//! backend and check. Adding a backend is one line at the bottom of this file plus an
//! `open_*` function that returns `None` (and says it skipped) when the backend's
//! environment variable is unset. PostgreSQL runs with `DATABASE_URL`; the
//! PostgreSQL+ScyllaDB composite runs with both `DATABASE_URL` and `SCYLLA_URI`, and
//! also, with `DATABASE_URL` alone, over an in-memory history (`pg_memory_history`).
//!
//! This suite is not about the service layer: storage does not check permissions.
// The suite checks the backends themselves, raw writes included (clippy.toml bans
// them elsewhere).
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

#[path = "conformance/attachments.rs"]
mod attachments;
#[path = "conformance/blocks.rs"]
mod blocks;
#[path = "conformance/channels.rs"]
mod channels;
#[path = "conformance/events.rs"]
mod events;
#[path = "conformance/members.rs"]
mod members;
#[path = "conformance/messages.rs"]
mod messages;
#[path = "conformance/offsets.rs"]
mod offsets;
#[path = "conformance/reactions.rs"]
mod reactions;
#[path = "conformance/receipts.rs"]
mod receipts;
#[path = "conformance/search.rs"]
mod search;
#[path = "conformance/session.rs"]
mod session;
#[path = "conformance/support.rs"]
mod support;
#[path = "conformance/unread.rs"]
mod unread;
#[path = "conformance/users.rs"]
mod users;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use storage::backend::pg_scylla::MemoryHistory;
use storage::backend::{PgScyllaStore, PostgresStore, SqliteStore};
use storage::DynStore;

use support::Backend;

/// Declares `mod $backend` with one test per check, each opening a fresh backend with
/// `$open` (skipped when it returns `None`).
macro_rules! conformance_suite {
    ($backend:ident, $open:path) => {
        mod $backend {
            conformance_suite!(@checks $open;
                users::create_conflict_and_lookup,
                users::credentials,
                users::search_prefix_rules,
                channels::dm_is_idempotent,
                channels::dm_races_create_one_channel,
                channels::create_channel_with_members,
                channels::view_names_a_dm_after_the_other_member,
                channels::view_counts_unread_from_others,
                channels::view_reports_mutes,
                channels::channels_for_user_newest_activity_first,
                channels::public_channels_by_name,
                channels::update_channel,
                channels::delete_channel_cascades,
                channels::member_views_match_channel_for,
                channels::thread_ids_of_a_parent,
                members::membership_and_paging,
                members::contacts_are_dms_and_small_channels,
                offsets::rise_by_one_per_event_only,
                offsets::survive_reopening,
                messages::pagination,
                messages::nonce_lookup_window,
                messages::edit_audit_trail,
                messages::soft_delete_fixes_last_message,
                reactions::counts_order_and_cap,
                events::results_in_order,
                events::messages_as_stored,
                events::offsets_contiguous_per_channel,
                events::failed_items_take_no_offset,
                events::unchanged_items_take_no_offset,
                events::nonce_duplicates,
                events::batches_do_not_interleave,
                events::full_batch_across_ten_channels,
                events::member_cap_inside_the_batch,
                events::failed_creates_between_good_ones,
                events::creates_interleaved_with_other_kinds,
                receipts::only_move_forward,
                unread::unread_count_matches_brute_force,
                blocks::both_ways_and_blockers_of,
                blocks::blocked_by_reads_the_reverse_side,
                attachments::attach_once_by_uploader,
                search::words_case_membership_and_deletes,
                search::filters_and_total,
                search::ranked_by_relevance_then_recency,
                session::start_matches_the_three_reads,
            );
        }
    };
    (@checks $open:path; $($module:ident :: $check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(backend) = $open() else {
                    return;
                };
                crate::$module::$check(&backend).await;
            }
        )*
    };
}

/// SQLite in memory: the writer connection only.
fn open_sqlite_memory() -> Option<Backend> {
    let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
    Some(Backend::new(store, None))
}

/// SQLite in a temporary file, with readers; can be reopened.
fn open_sqlite_file() -> Option<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("nested/layer4.db");
    let store: DynStore = Arc::new(SqliteStore::open(&path).unwrap());
    let reopen = move || -> DynStore { Arc::new(SqliteStore::open(&path).unwrap()) };
    Some(Backend::new(store, Some(Box::new(reopen))).keep(dir))
}

/// PostgreSQL at `DATABASE_URL` (a `postgres://` URL), each test in a fresh schema of
/// its own (`?schema=`), so tests run in parallel on one shared database; the schema is
/// dropped when the test ends. Can be reopened (a new pool on the same schema).
fn open_postgres() -> Option<Backend> {
    let (with_schema, drop_schema) = postgres_schema()?;
    let store: DynStore = Arc::new(block_on(PostgresStore::connect(&with_schema)).unwrap());
    let reopen =
        move || -> DynStore { Arc::new(block_on(PostgresStore::connect(&with_schema)).unwrap()) };
    Some(Backend::new(store, Some(Box::new(reopen))).keep(drop_schema))
}

/// Runs `future` to completion from synchronous code inside a multi-threaded test.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(future))
}

/// Drops a test's schema, and everything in it, when the test ends.
struct DropSchema {
    url: String,
    schema: String,
}

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Its own thread and runtime: the test's runtime may be shutting down.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(std::io::Error::other)?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.schema);
        }
    }
}

/// The PostgreSQL URL of a fresh schema for one test, and what drops it; `None` (having
/// said why) without a `postgres://` `DATABASE_URL`.
fn postgres_schema() -> Option<(String, DropSchema)> {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL unset");
        return None;
    };
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        println!("skipped: DATABASE_URL is not a postgres:// URL");
        return None;
    }
    let schema = format!("l4t_{}", support::token());
    let separator = if url.contains('?') { '&' } else { '?' };
    let with_schema = format!("{url}{separator}schema={schema}");
    Some((with_schema, DropSchema { url, schema }))
}

/// PostgreSQL+ScyllaDB: `DATABASE_URL` (a schema per test) and `SCYLLA_URI` (a keyspace
/// per test, dropped when it ends). Can be reopened.
fn open_pg_scylla() -> Option<Backend> {
    let Ok(scylla_uri) = std::env::var("SCYLLA_URI") else {
        println!("skipped: SCYLLA_URI unset");
        return None;
    };
    let (url, drop_schema) = postgres_schema()?;
    let keyspace = format!("l4t_{}", support::token());
    let drop_keyspace = DropKeyspace {
        uri: scylla_uri.clone(),
        keyspace: keyspace.clone(),
    };
    let open = move || -> DynStore {
        Arc::new(block_on(PgScyllaStore::connect(&url, &scylla_uri, &keyspace)).unwrap())
    };
    let store = open();
    Some(Backend::new(store, Some(Box::new(open))).keep((drop_schema, drop_keyspace)))
}

/// PostgreSQL+history with the history in memory ([`MemoryHistory`]): every check of
/// the composite itself (offsets reserved in PostgreSQL, the batch overlay, the index
/// behind search and unread counts) on the local PostgreSQL, no ScyllaDB needed.
/// Reopening keeps the same history.
fn open_pg_memory() -> Option<Backend> {
    let (url, drop_schema) = postgres_schema()?;
    let history = Arc::new(MemoryHistory::new());
    let open = move || -> DynStore {
        let pg = block_on(PostgresStore::connect(&url)).unwrap();
        Arc::new(PgScyllaStore::new(pg, history.clone()))
    };
    let store = open();
    Some(Backend::new(store, Some(Box::new(open))).keep(drop_schema))
}

/// Drops a test's keyspace when the test ends.
struct DropKeyspace {
    uri: String,
    keyspace: String,
}

impl Drop for DropKeyspace {
    fn drop(&mut self) {
        let (uri, keyspace) = (self.uri.clone(), self.keyspace.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let parsed = storage::backend::scylla::uri::parse_uri(&uri)
                    .map_err(std::io::Error::other)?;
                let mut builder = scylla::client::session_builder::SessionBuilder::new()
                    .known_nodes(&parsed.nodes);
                if let Some((user, password)) = &parsed.credentials {
                    builder = builder.user(user, password);
                }
                let session = builder.build().await.map_err(std::io::Error::other)?;
                session
                    .query_unpaged(format!("DROP KEYSPACE IF EXISTS {keyspace}"), ())
                    .await
                    .map(drop)
                    .map_err(std::io::Error::other)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop test keyspace {}: {dropped:?}",
                self.keyspace
            );
        }
    }
}

conformance_suite!(sqlite_memory, crate::open_sqlite_memory);
conformance_suite!(sqlite_file, crate::open_sqlite_file);
conformance_suite!(postgres, crate::open_postgres);
conformance_suite!(pg_memory_history, crate::open_pg_memory);
conformance_suite!(pg_scylla, crate::open_pg_scylla);
