//! A whole node in one process: the API and the gateway sharing one store, one chat
//! service and the in-process bus. `layer4 dev` runs it; the end-to-end tests start it
//! on ephemeral ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use bus::{DynBus, LocalBus};
use service::{Chat, ChatConfig};
use storage::backend::{PgScyllaStore, PostgresStore, SqliteStore};
use storage::DynStore;
use tokio::sync::oneshot;

/// Settings of a node.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Where the API listens (port 0: any free port).
    pub api_addr: SocketAddr,
    /// Chat rules and secrets.
    pub chat: ChatConfig,
    /// API settings.
    pub api: api::ApiConfig,
    /// Gateway settings (its `listen` is the gateway address).
    pub gateway: gateway::GatewayConfig,
}

/// A running node.
pub struct Stack {
    /// The chat service both front doors use.
    pub chat: Chat,
    api_addr: SocketAddr,
    api_stop: Option<oneshot::Sender<()>>,
    api_task: tokio::task::JoinHandle<std::io::Result<()>>,
    gateway: gateway::Gateway,
}

/// Opens (and migrates) the SQLite store under `path`.
pub async fn open_sqlite(path: &Path) -> anyhow::Result<DynStore> {
    let path = path.to_owned();
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path)).await??;
    Ok(Arc::new(store))
}

/// Where the data lives: `DATABASE_URL`, or SQLite under `DATA_DIR` without it.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (`sqlite://PATH`, or `DATA_DIR/layer4.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://...`, see `storage::backend::postgres`).
    Postgres(String),
    /// PostgreSQL with message history in ScyllaDB (`SCYLLA_URI`, see
    /// `storage::backend::pg_scylla`).
    PgScylla {
        /// The PostgreSQL URL.
        url: String,
        /// `SCYLLA_URI`.
        scylla_uri: String,
        /// The keyspace history lives in.
        keyspace: String,
    },
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Database {
    /// The database of `DATABASE_URL` (`None` or empty: SQLite in `data_dir`).
    pub fn from_url(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let url = match url {
            None | Some("") => return Ok(Self::Sqlite(data_dir.join("layer4.db"))),
            Some(url) => url,
        };
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        bail!(
            "DATABASE_URL `{}`: expected sqlite://PATH or postgres://USER@HOST/DATABASE",
            redact(url)
        )
    }

    /// With `SCYLLA_URI` (`None` or empty: as it is): history in ScyllaDB, which needs
    /// PostgreSQL beside it (offsets, search and everything relational stay there).
    pub fn with_scylla(self, scylla_uri: Option<&str>, keyspace: &str) -> anyhow::Result<Self> {
        let scylla_uri = match scylla_uri {
            None | Some("") => return Ok(self),
            Some(uri) => uri.to_owned(),
        };
        match self {
            Self::Postgres(url) => Ok(Self::PgScylla {
                url,
                scylla_uri,
                keyspace: keyspace.to_owned(),
            }),
            Self::PgScylla { url, .. } => Ok(Self::PgScylla {
                url,
                scylla_uri,
                keyspace: keyspace.to_owned(),
            }),
            Self::Sqlite(path) => bail!(
                "SCYLLA_URI is set but the database is SQLite ({}): ScyllaDB history needs a postgres:// DATABASE_URL beside it",
                path.display()
            ),
        }
    }

    /// For logs and messages: the path, or the URL without its credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => redact(url),
            Self::PgScylla {
                url,
                scylla_uri,
                keyspace,
            } => format!(
                "{} with history in ScyllaDB at {} (keyspace {keyspace})",
                redact(url),
                redact(scylla_uri)
            ),
        }
    }

    /// Opens (and migrates) the store; a database that cannot be reached or refuses us
    /// is a one-line error naming it.
    pub async fn open(&self) -> anyhow::Result<DynStore> {
        match self {
            Self::Sqlite(path) => open_sqlite(path).await,
            Self::Postgres(url) => match PostgresStore::connect(url).await {
                Ok(store) => Ok(Arc::new(store)),
                Err(err) => bail!("PostgreSQL at {}: {err}", redact(url)),
            },
            Self::PgScylla {
                url,
                scylla_uri,
                keyspace,
            } => match PgScyllaStore::connect(url, scylla_uri, keyspace).await {
                Ok(store) => Ok(Arc::new(store)),
                Err(err) => bail!("{}: {}", self.describe(), one_line(&err.to_string())),
            },
        }
    }

    /// Applies pending migrations and closes the database; how many were applied.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        match self {
            Self::Sqlite(path) => {
                let path = path.clone();
                Ok(tokio::task::spawn_blocking(move || SqliteStore::migrate_only(&path)).await??)
            }
            Self::Postgres(url) => match PostgresStore::migrate_only(url).await {
                Ok(applied) => Ok(applied),
                Err(err) => bail!("PostgreSQL at {}: {err}", redact(url)),
            },
            Self::PgScylla {
                url,
                scylla_uri,
                keyspace,
            } => match PgScyllaStore::migrate_only(url, scylla_uri, keyspace).await {
                Ok((pg, scylla)) => Ok(pg + scylla),
                Err(err) => bail!("{}: {}", self.describe(), one_line(&err.to_string())),
            },
        }
    }
}

/// An error text on one line (a driver's message may span several).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A URL without its credentials (`scheme://***@host...`, or `***@host...` without a
/// scheme).
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        (None, Some(at)) => format!("***{}", &url[at..]),
        _ => url.to_owned(),
    }
}

impl Stack {
    /// Starts the API and the gateway on `store`.
    pub async fn start(mut config: StackConfig, store: DynStore) -> anyhow::Result<Self> {
        let bus: DynBus = Arc::new(LocalBus::with_replay(config.gateway.replay_buffer));
        // Every channel's home is a gateway shard: the API's events take the same path.
        config.chat.sequencers = config.gateway.shards.max(1);
        let chat = Chat::new(store, bus, config.chat);
        // The recorder before the shards: what they count first is not lost.
        api::metrics::prometheus();
        let gateway = gateway::Gateway::start(config.gateway, chat.clone())?;
        if let Some(web) = config.api.web.as_mut() {
            // The client connects to the port the gateway really got (it may be 0 in
            // the configuration).
            web.gateway_port = gateway.local_addr().port();
        }
        let listener = tokio::net::TcpListener::bind(config.api_addr).await?;
        let api_addr = listener.local_addr()?;
        let state = api::ApiState::new(chat.clone(), config.api);
        let (api_stop, stopped) = oneshot::channel::<()>();
        let api_task = tokio::spawn(api::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            chat,
            api_addr,
            api_stop: Some(api_stop),
            api_task,
            gateway,
        })
    }

    /// The API's address.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The gateway's address.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.local_addr()
    }

    /// Stops both: the gateway drains (1001 to every session), the API finishes its
    /// requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.api_stop.take() {
            let _ = stop.send(());
        }
        self.gateway.shutdown().await;
        let _ = self.api_task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let dir = Path::new("/data");
        assert_eq!(
            Database::from_url(None, dir).unwrap(),
            Database::Sqlite(dir.join("layer4.db"))
        );
        assert_eq!(
            Database::from_url(Some("sqlite:///tmp/x.db"), dir).unwrap(),
            Database::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        let pg = Database::from_url(Some("postgres://u:secret@h:5432/d?schema=a"), dir).unwrap();
        assert_eq!(pg.describe(), "postgres://***@h:5432/d?schema=a");
        let err = Database::from_url(Some("mysql://u:secret@h/d"), dir).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn scylla_needs_postgres() {
        let dir = Path::new("/data");
        let pg = Database::from_url(Some("postgres://u:secret@h/d"), dir).unwrap();
        assert_eq!(pg.clone().with_scylla(None, "layer4").unwrap(), pg);
        assert_eq!(pg.clone().with_scylla(Some(""), "layer4").unwrap(), pg);
        let both = pg
            .with_scylla(Some("scylla://ann:pw@s1:9042"), "ks")
            .unwrap();
        assert_eq!(
            both,
            Database::PgScylla {
                url: "postgres://u:secret@h/d".into(),
                scylla_uri: "scylla://ann:pw@s1:9042".into(),
                keyspace: "ks".into(),
            }
        );
        assert_eq!(redact("ann:pw@s1,s2"), "***@s1,s2");
        let described = both.describe();
        assert!(
            !described.contains("secret") && !described.contains("pw"),
            "{described}"
        );
        let sqlite = Database::from_url(None, dir).unwrap();
        let err = sqlite
            .with_scylla(Some("scylla://s1"), "layer4")
            .unwrap_err()
            .to_string();
        assert!(err.contains("SCYLLA_URI") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn errors_fold_onto_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
