//! Opening a session: the URI, the migrations, and the statements prepared once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::PagingState;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;

use super::cql;
use super::error::ExecResultExt;
use super::uri::{check_keyspace, parse_uri, ScyllaUri};
use super::ScyllaHistory;
use crate::error::{Result, StoreError};

/// How long to wait for a node to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows per page of the range reads: a history page is at most 100 messages, so one
/// page of rows usually answers it; soft-deleted rows may need a second.
pub(super) const PAGE_ROWS: i32 = 100;

/// Every statement, prepared at connect, plus the batches built from them.
pub(super) struct Statements {
    pub update_deleted: PreparedStatement,
    pub insert_reaction: PreparedStatement,
    pub delete_reaction: PreparedStatement,
    pub select_by_id: PreparedStatement,
    pub select_nonce: PreparedStatement,
    pub select_buckets: PreparedStatement,
    pub select_message: PreparedStatement,
    pub select_at_or_before: PreparedStatement,
    pub select_after: PreparedStatement,
    pub select_edits: PreparedStatement,
    pub select_reactions: PreparedStatement,
    pub select_ids: PreparedStatement,
    pub delete_partition: PreparedStatement,
    pub delete_reactions: PreparedStatement,
    pub delete_by_id: PreparedStatement,
    pub delete_edits: PreparedStatement,
    pub delete_nonce: PreparedStatement,
    pub delete_buckets: PreparedStatement,
    /// A new message without a nonce: row, by-id lookup, bucket (logged: all or none).
    pub create: Batch,
    /// The same with the nonce row.
    pub create_with_nonce: Batch,
    /// An edit: the new content and the audit-trail row.
    pub edit: Batch,
}

impl ScyllaHistory {
    /// Connects to `uri` (`SCYLLA_URI`), applies the pending migrations to `keyspace`
    /// (creating it when missing) and prepares every statement. A bad URI or keyspace
    /// name is `Invalid`; a cluster that cannot be reached (or refuses the credentials)
    /// is `Unavailable`, each with a one-line message.
    pub async fn connect(uri: &str, keyspace: &str) -> Result<Self> {
        Ok(Self::connect_migrated(uri, keyspace).await?.0)
    }

    /// [`ScyllaHistory::connect`], also answering the migration versions it applied
    /// (what `layer4 migrate` reports).
    pub async fn connect_migrated(uri: &str, keyspace: &str) -> Result<(Self, Vec<i32>)> {
        let parsed = parse_uri(uri).map_err(StoreError::Invalid)?;
        check_keyspace(keyspace).map_err(StoreError::Invalid)?;
        let session = open(&parsed).await?;
        let applied = migrate_session(&session, keyspace, parsed.replication_factor).await?;
        let statements = prepare_all(&session).await?;
        let history = Self {
            session,
            keyspace: keyspace.to_owned(),
            replication_factor: parsed.replication_factor,
            st: statements,
        };
        Ok((history, applied))
    }

    /// Applies the migrations not yet recorded (what `layer4 migrate` runs; `connect`
    /// already did at start), answering the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<i32>> {
        migrate_session(&self.session, &self.keyspace, self.replication_factor).await
    }

    /// The keyspace this history lives in.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// Whether the cluster answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        self.session
            .query_unpaged("SELECT release_version FROM system.local", ())
            .await
            .store()
            .map(|_| ())
    }
}

/// A session to the contact points of `uri`.
async fn open(uri: &ScyllaUri) -> Result<Session> {
    let mut builder = SessionBuilder::new()
        .known_nodes(&uri.nodes)
        .connection_timeout(CONNECT_TIMEOUT);
    if let Some((user, password)) = &uri.credentials {
        builder = builder.user(user, password);
    }
    builder.build().await.map_err(|err| {
        StoreError::Unavailable(format!(
            "ScyllaDB at {}: cannot connect: {err}",
            uri.nodes.join(",")
        ))
    })
}

/// Creates the keyspace when missing, switches the session to it, and applies each
/// migration not yet in `schema_migrations`, recording it once all its statements
/// succeeded. The DDL is all `IF NOT EXISTS`, so a migration cut short by a crash is
/// simply applied again; several nodes starting at once converge the same way.
async fn migrate_session(session: &Session, keyspace: &str, rf: u32) -> Result<Vec<i32>> {
    ddl(session, &cql::create_keyspace(keyspace, rf))
        .await
        .map_err(|err| match err {
            StoreError::Internal(text) => StoreError::Internal(format!(
                "creating keyspace {keyspace} with replication_factor {rf}: {text} (set \
                 ?replication_factor=N in SCYLLA_URI, or create the keyspace beforehand)"
            )),
            other => other,
        })?;
    session
        .use_keyspace(keyspace, false)
        .await
        .map_err(|err| StoreError::Unavailable(format!("ScyllaDB: USE {keyspace}: {err}")))?;
    ddl(session, cql::CREATE_MIGRATIONS_TABLE).await?;
    let applied = applied_versions(session).await?;
    let record = session
        .prepare(cql::RECORD_VERSION)
        .await
        .map_err(prepare_err)?;
    let mut now_applied = Vec::new();
    for &(version, name, script) in cql::MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        let statements = cql::split_statements(script)
            .map_err(|err| StoreError::Internal(format!("migration {name}: {err}")))?;
        for statement in statements {
            ddl(session, &statement).await?;
        }
        session
            .execute_unpaged(&record, (version, name, now_ms()))
            .await
            .store()?;
        tracing::info!(keyspace, version, name, "ScyllaDB migration applied");
        now_applied.push(version);
    }
    Ok(now_applied)
}

/// One schema statement, then the cluster's agreement on the new schema.
async fn ddl(session: &Session, statement: &str) -> Result<()> {
    session.query_unpaged(statement, ()).await.store()?;
    session
        .await_schema_agreement()
        .await
        .map_err(|err| StoreError::Unavailable(format!("ScyllaDB: schema agreement: {err}")))?;
    Ok(())
}

/// The versions recorded in `schema_migrations`.
async fn applied_versions(session: &Session) -> Result<Vec<i32>> {
    let mut out = Vec::new();
    let mut paging = PagingState::start();
    let select = session
        .prepare(cql::APPLIED_VERSIONS)
        .await
        .map_err(prepare_err)?;
    loop {
        let (result, more) = session
            .execute_single_page(&select, (), paging)
            .await
            .store()?;
        let rows = result.into_rows_result().map_err(super::error::decode)?;
        for row in rows.rows::<(i32,)>().map_err(super::error::decode)? {
            out.push(row.map_err(super::error::decode)?.0);
        }
        match more.into_paging_control_flow() {
            std::ops::ControlFlow::Break(()) => return Ok(out),
            std::ops::ControlFlow::Continue(next) => paging = next,
        }
    }
}

/// Prepares every statement; writes are marked idempotent so the driver may retry
/// them (each is an upsert or delete stamped with its event's offset).
async fn prepare_all(session: &Session) -> Result<Statements> {
    let prepare = |text: &'static str| async move {
        let mut statement = session.prepare(text).await.map_err(prepare_err)?;
        statement.set_is_idempotent(true);
        if text.starts_with("SELECT") {
            statement.set_page_size(PAGE_ROWS);
        }
        Ok::<_, StoreError>(statement)
    };
    let insert_message = prepare(cql::INSERT_MESSAGE).await?;
    let insert_by_id = prepare(cql::INSERT_BY_ID).await?;
    let insert_bucket = prepare(cql::INSERT_BUCKET).await?;
    let insert_nonce = prepare(cql::INSERT_NONCE).await?;
    let update_content = prepare(cql::UPDATE_CONTENT).await?;
    let insert_edit = prepare(cql::INSERT_EDIT).await?;
    let logged = |statements: Vec<PreparedStatement>| {
        let mut batch = Batch::new(BatchType::Logged);
        for statement in statements {
            batch.append_statement(statement);
        }
        batch.set_is_idempotent(true);
        batch
    };
    Ok(Statements {
        create: logged(vec![
            insert_message.clone(),
            insert_by_id.clone(),
            insert_bucket.clone(),
        ]),
        create_with_nonce: logged(vec![
            insert_message,
            insert_by_id,
            insert_bucket,
            insert_nonce,
        ]),
        edit: logged(vec![update_content, insert_edit]),
        update_deleted: prepare(cql::UPDATE_DELETED).await?,
        insert_reaction: prepare(cql::INSERT_REACTION).await?,
        delete_reaction: prepare(cql::DELETE_REACTION).await?,
        select_by_id: prepare(cql::SELECT_BY_ID).await?,
        select_nonce: prepare(cql::SELECT_NONCE).await?,
        select_buckets: prepare(cql::SELECT_BUCKETS).await?,
        select_message: prepare(cql::SELECT_MESSAGE).await?,
        select_at_or_before: prepare(cql::SELECT_AT_OR_BEFORE).await?,
        select_after: prepare(cql::SELECT_AFTER).await?,
        select_edits: prepare(cql::SELECT_EDITS).await?,
        select_reactions: prepare(cql::SELECT_REACTIONS).await?,
        select_ids: prepare(cql::SELECT_IDS).await?,
        delete_partition: prepare(cql::DELETE_PARTITION).await?,
        delete_reactions: prepare(cql::DELETE_REACTIONS).await?,
        delete_by_id: prepare(cql::DELETE_BY_ID).await?,
        delete_edits: prepare(cql::DELETE_EDITS).await?,
        delete_nonce: prepare(cql::DELETE_NONCE).await?,
        delete_buckets: prepare(cql::DELETE_BUCKETS).await?,
    })
}

fn prepare_err(err: scylla::errors::PrepareError) -> StoreError {
    StoreError::Internal(format!("ScyllaDB: prepare: {err}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
