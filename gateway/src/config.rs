//! Gateway configuration: one value, built by the binary from flags and environment,
//! with the contract's defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::core::session::SessionConfig;

/// Where the TLS certificate chain and key are (PEM). With them the gateway speaks
/// `wss://` only.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Which IO driver moves the shards' bytes (`--io`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IoDriver {
    /// Readiness (epoll) through tokio.
    Epoll,
    /// Completions through one io_uring per shard; fails to start where the kernel
    /// refuses it.
    Uring,
    /// io_uring where the kernel allows it, else epoll (`driver::select`: the one
    /// measured faster per CPU-second, io_uring only where allowed).
    #[default]
    Auto,
}

/// Everything the gateway needs to know.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Listen address (default 0.0.0.0:3001).
    pub listen: SocketAddr,
    /// Shard threads, each with its own SO_REUSEPORT listener (default: one per core).
    pub shards: usize,
    /// Per-session limits and timers.
    pub session: SessionConfig,
    /// Serve `GET /echo` for the Autobahn suite (off by default).
    pub echo_endpoint: bool,
    /// An upgrade request must be complete within this time (default 10 s).
    pub handshake_timeout_ms: u64,
    /// Upgrade request header cap (default 16 KiB); over it, 431.
    pub max_header_bytes: usize,
    /// Unsent bytes per connection before close 4010 (default 4 MiB).
    pub max_queued_bytes: usize,
    /// Recent events kept per channel for replay (default 256).
    pub replay_buffer: usize,
    /// Time a closing connection has to finish before its socket is dropped (5 s).
    pub close_linger_ms: u64,
    /// Open connections allowed from one client IP (default 256); more get HTTP 429.
    pub max_connections_per_ip: u32,
    /// Identified sessions allowed per user (default 16); more are closed with 4008.
    pub max_sessions_per_user: usize,
    /// TLS, when set.
    pub tls: Option<TlsFiles>,
    /// IO driver (default auto).
    pub io: IoDriver,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 3001)),
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            session: SessionConfig::default(),
            echo_endpoint: false,
            handshake_timeout_ms: 10_000,
            max_header_bytes: 16 * 1024,
            max_queued_bytes: protocol::limits::MAX_QUEUED_BYTES,
            replay_buffer: protocol::limits::REPLAY_BUFFER_EVENTS,
            close_linger_ms: 5_000,
            max_connections_per_ip: 256,
            max_sessions_per_user: 16,
            tls: None,
            io: IoDriver::Auto,
        }
    }
}
