//! Command line and environment: every setting has a flag and an environment variable
//! (flags win), with the defaults documented in the README.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Layer4 Chat.
#[derive(Debug, Parser)]
#[command(
    name = "layer4",
    version,
    about = "Layer4 Chat: gateway, API, migrations and a one-command dev server"
)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// API on 3000 and gateway on 3001 in one process, SQLite under ./data.
    Dev(DevArgs),
    /// The WebSocket gateway alone.
    Gateway(ServeArgs),
    /// The HTTP API alone.
    Api(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(StoreArgs),
    /// Fill an empty store with demo users, a group, a DM and messages.
    Seed(StoreArgs),
}

/// Where data lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Folder for the SQLite database (and, later, uploads).
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` for SQLite (default: DATA_DIR/layer4.db), or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&pool_size=N]`.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// ScyllaDB for message history, beside a postgres:// DATABASE_URL:
    /// `scylla://[USER:PASSWORD@]HOST[:PORT][,HOST[:PORT]...][?replication_factor=N]`.
    #[arg(long, env = "SCYLLA_URI")]
    pub scylla_uri: Option<String>,
    /// The ScyllaDB keyspace of the history (created when missing).
    #[arg(long, env = "SCYLLA_KEYSPACE", default_value = "layer4")]
    pub scylla_keyspace: String,
    /// Snowflake worker id (0-1023), unique per process in a cluster.
    #[arg(long, env = "WORKER_ID", default_value_t = 0)]
    pub worker_id: u16,
    /// Added to WORKER_ID (e.g. a pod ordinal plus a per-role offset in Kubernetes).
    #[arg(long, env = "WORKER_ID_OFFSET", default_value_t = 0)]
    pub worker_id_offset: u16,
}

impl StoreArgs {
    /// WORKER_ID + WORKER_ID_OFFSET, refused when above 1023.
    pub fn effective_worker_id(&self) -> anyhow::Result<u16> {
        let id = u32::from(self.worker_id) + u32::from(self.worker_id_offset);
        match u16::try_from(id) {
            Ok(id) if id <= 1023 => Ok(id),
            _ => anyhow::bail!(
                "WORKER_ID {} + WORKER_ID_OFFSET {} = {id}: a Snowflake worker id is 0-1023",
                self.worker_id,
                self.worker_id_offset
            ),
        }
    }
}

/// `--io` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IoArg {
    /// Readiness (epoll) through tokio.
    Epoll,
    /// io_uring, one ring per shard.
    Uring,
    /// io_uring where the kernel allows it, else epoll.
    Auto,
}

impl From<IoArg> for gateway::IoDriver {
    fn from(io: IoArg) -> Self {
        match io {
            IoArg::Epoll => Self::Epoll,
            IoArg::Uring => Self::Uring,
            IoArg::Auto => Self::Auto,
        }
    }
}

/// Gateway settings.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Gateway port.
    #[arg(long, env = "WS_PORT", default_value_t = 3001)]
    pub ws_port: u16,
    /// Shard threads (default: one per core).
    #[arg(long, env = "SHARDS")]
    pub shards: Option<usize>,
    /// Inbound WebSocket message cap in bytes (Autobahn section 9 needs 16777216).
    #[arg(long, env = "WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,
    /// Serve GET /echo for the Autobahn suite.
    #[arg(long, env = "ECHO_ENDPOINT", default_value_t = false)]
    pub echo_endpoint: bool,
    /// Heartbeat interval announced in READY, ms.
    #[arg(long, env = "HEARTBEAT_INTERVAL_MS", default_value_t = 30_000)]
    pub heartbeat_interval_ms: u64,
    /// Time allowed before IDENTIFY, ms.
    #[arg(long, env = "IDENTIFY_TIMEOUT_MS", default_value_t = 10_000)]
    pub identify_timeout_ms: u64,
    /// Unsent bytes per connection before close 4010.
    #[arg(long, env = "WS_MAX_QUEUED_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_queued_bytes: usize,
    /// Recent events kept per channel for replay.
    #[arg(long, env = "REPLAY_BUFFER", default_value_t = 256)]
    pub replay_buffer: usize,
    /// Data frames allowed per connection per window (PING not counted; close 4008 over it).
    #[arg(long, env = "FRAMES_PER_WINDOW", default_value_t = 120)]
    pub frames_per_window: u32,
    /// The window of FRAMES_PER_WINDOW, ms.
    #[arg(long, env = "FRAME_WINDOW_MS", default_value_t = 60_000)]
    pub frame_window_ms: u64,
    /// Time allowed for the HTTP upgrade request, ms.
    #[arg(long, env = "HANDSHAKE_TIMEOUT_MS", default_value_t = 10_000)]
    pub handshake_timeout_ms: u64,
    /// Upgrade request header cap in bytes (431 over it).
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    pub max_header_bytes: usize,
    /// Open connections per client IP (HTTP 429 over it).
    #[arg(long, env = "MAX_CONNECTIONS_PER_IP", default_value_t = 256)]
    pub max_connections_per_ip: u32,
    /// Identified sessions per user (close 4008 over it).
    #[arg(long, env = "MAX_SESSIONS_PER_USER", default_value_t = 16)]
    pub max_sessions_per_user: usize,
    /// How long a message may stay incomplete, ms (close 1008 after it).
    #[arg(long, env = "PARTIAL_MESSAGE_TIMEOUT_MS", default_value_t = 30_000)]
    pub partial_message_timeout_ms: u64,
    /// Serve the gateway's Prometheus metrics at GET /metrics on this port (an admin
    /// address; `layer4 gateway` only, `layer4 dev` serves them on the API).
    #[arg(long, env = "METRICS_PORT")]
    pub metrics_port: Option<u16>,
    /// IO driver: epoll, uring (io_uring; fails, saying why, where the kernel refuses
    /// it) or auto (io_uring where the kernel allows it, else epoll; logged).
    #[arg(long = "io", value_name = "DRIVER", env = "IO_DRIVER", value_enum, default_value_t = IoArg::Auto)]
    pub io: IoArg,
    /// TLS certificate chain (PEM); with TLS_KEY the gateway serves wss:// only.
    #[arg(long, env = "TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// API settings.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// API port.
    #[arg(long, env = "API_PORT", default_value_t = 3000)]
    pub api_port: u16,
    /// Register and login attempts per client IP per minute.
    #[arg(long, env = "AUTH_RATE_PER_MIN")]
    pub auth_rate_per_min: Option<u32>,
    /// Requests per user per second on authenticated routes.
    #[arg(long, env = "USER_RATE_PER_SEC", default_value_t = 50)]
    pub user_rate_per_sec: u32,
    /// Bearer token guarding /metrics (unset: open).
    #[arg(long, env = "METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Browser origins allowed by CORS, comma-separated (`*` for any; unset: CORS off).
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Folder for uploaded files (default: DATA_DIR/media). Ignored with MEDIA_S3_BUCKET.
    #[arg(long, env = "MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// Store uploads in this S3-compatible bucket instead of MEDIA_DIR.
    #[arg(long, env = "MEDIA_S3_BUCKET")]
    pub media_s3_bucket: Option<String>,
    /// The bucket's region (default us-east-1).
    #[arg(long, env = "MEDIA_S3_REGION")]
    pub media_s3_region: Option<String>,
    /// The endpoint of a non-AWS S3 service (MinIO, Ceph, R2...), e.g. http://minio:9000.
    #[arg(long, env = "MEDIA_S3_ENDPOINT")]
    pub media_s3_endpoint: Option<String>,
    /// Allow a plain-http MEDIA_S3_ENDPOINT.
    #[arg(long, env = "MEDIA_S3_ALLOW_HTTP", default_value_t = false)]
    pub media_s3_allow_http: bool,
    /// S3 access key id (unset: instance or web-identity credentials).
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub aws_access_key_id: Option<String>,
    /// S3 secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,
    /// Largest upload in bytes (413 over it).
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = api::media::config::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
}

impl ApiArgs {
    /// The media settings these flags describe, with files under `data_dir/media` by
    /// default.
    pub fn media(&self, data_dir: &std::path::Path) -> api::media::MediaConfig {
        use api::media::{MediaBackend, MediaConfig, S3Config};
        let backend = match &self.media_s3_bucket {
            Some(bucket) => MediaBackend::S3(S3Config {
                bucket: bucket.clone(),
                region: self.media_s3_region.clone(),
                endpoint: self.media_s3_endpoint.clone(),
                access_key_id: self.aws_access_key_id.clone(),
                secret_access_key: self.aws_secret_access_key.clone(),
                allow_http: self.media_s3_allow_http,
            }),
            None => MediaBackend::Local {
                dir: self
                    .media_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("media")),
            },
        };
        MediaConfig {
            backend,
            max_upload_bytes: self.max_upload_bytes,
            ..MediaConfig::default()
        }
    }
}

/// Chat rules shared by the API and the gateway (benchmarks raise them).
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Messages one user may send to one channel per window (`ERROR RATE_LIMITED` over it).
    #[arg(long, env = "MESSAGES_PER_WINDOW", default_value_t = protocol::limits::MESSAGES_PER_CHANNEL)]
    pub messages_per_window: u32,
    /// The window of MESSAGES_PER_WINDOW, ms.
    #[arg(long, env = "MESSAGE_WINDOW_MS", default_value_t = protocol::limits::MESSAGES_WINDOW_MS)]
    pub message_window_ms: u64,
}

impl ChatArgs {
    /// Writes these rules into `config`.
    pub fn apply(&self, config: &mut service::ChatConfig) {
        config.messages_per_window = self.messages_per_window;
        config.message_window_ms = self.message_window_ms;
    }
}

/// `layer4 dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Chat rules.
    #[command(flatten)]
    pub chat: ChatArgs,
    /// Gateway.
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// API.
    #[command(flatten)]
    pub api: ApiArgs,
    /// Address to bind both servers to.
    #[arg(long, env = "BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// HS256 secret (default: generated once and kept in DATA_DIR/dev-secret).
    #[arg(long, env = "JWT_SECRET")]
    pub jwt_secret: Option<String>,
    /// Fill an empty store with demo data and print the logins.
    #[arg(long)]
    pub demo: bool,
    /// The built web client, served at `/` (`scripts/web.sh` builds it; when it is
    /// missing, `/` says how to build it).
    #[arg(long, env = "WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,
}

/// `layer4 gateway` and `layer4 api`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Storage.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Chat rules.
    #[command(flatten)]
    pub chat: ChatArgs,
    /// Gateway (used by `layer4 gateway`).
    #[command(flatten)]
    pub gateway: GatewayArgs,
    /// API (used by `layer4 api`).
    #[command(flatten)]
    pub api: ApiArgs,
    /// Address to bind to.
    #[arg(long, env = "BIND", default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// HS256 secret shared by every API and gateway node; at least 32 bytes.
    #[arg(long, env = "JWT_SECRET")]
    pub jwt_secret: Option<String>,
    /// Redis URL for the cluster bus: with it, every `layer4 gateway` and `layer4 api`
    /// process sharing the database and Redis is one cluster.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and pub/sub channel (several clusters on one Redis).
    #[arg(long, env = "REDIS_PREFIX", default_value = "l4:")]
    pub redis_prefix: String,
}

impl GatewayArgs {
    /// The gateway configuration these flags describe.
    pub fn config(&self, bind: IpAddr) -> gateway::GatewayConfig {
        let mut config = gateway::GatewayConfig {
            listen: SocketAddr::new(bind, self.ws_port),
            echo_endpoint: self.echo_endpoint,
            max_queued_bytes: self.max_queued_bytes,
            replay_buffer: self.replay_buffer,
            handshake_timeout_ms: self.handshake_timeout_ms,
            max_header_bytes: self.max_header_bytes,
            max_connections_per_ip: self.max_connections_per_ip,
            max_sessions_per_user: self.max_sessions_per_user,
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(gateway::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            io: self.io.into(),
            ..Default::default()
        };
        if let Some(shards) = self.shards {
            config.shards = shards.max(1);
        }
        config.session.heartbeat_interval_ms = self.heartbeat_interval_ms;
        config.session.identify_timeout_ms = self.identify_timeout_ms;
        config.session.partial_message_timeout_ms = self.partial_message_timeout_ms;
        config.session.frames_per_window = self.frames_per_window;
        config.session.frame_window_ms = self.frame_window_ms;
        config.session.ws =
            gateway::core::ws::WsConfig::with_max_message_bytes(self.max_message_bytes);
        config
    }
}
