//! The command line: subcommands per scenario, options they all share.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// layer4-loadtest: an independent client of PROTOCOL.md and API.md.
#[derive(Debug, Parser)]
#[command(
    name = "layer4-loadtest",
    about = "Drive a Layer4 node with WebSocket clients; check exactly-once delivery; report latency, throughput and cost",
    after_help = "Start the server with its limits raised, e.g.\n  layer4 dev --data-dir /tmp/lt --api-port 3100 --ws-port 3101 --max-connections-per-ip 20000 \\\n    --messages-per-window 1000000 --frames-per-window 1000000 --max-sessions-per-user 64\nthen: layer4-loadtest fanout --api http://127.0.0.1:3100 --gateway 127.0.0.1:3101 --server-pid $(pgrep -n layer4)"
)]
pub struct Cli {
    /// Scenario.
    #[command(subcommand)]
    pub command: Command,
}

/// Scenarios and tools.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register users (and the fanout group) once; later runs reuse the file.
    Provision(ProvisionArgs),
    /// One channel of N members, S senders: closed loop (--window) or open loop (--rate).
    Fanout(FanoutArgs),
    /// A connection storm: connections per second, time to READY, server RSS per idle connection.
    Connect(ConnectArgs),
    /// A realistic mix: Zipf-sized channels, DMs, typing, reactions, edits, receipts, reconnects.
    Chat(ChatArgs),
    /// A steady rate for a long time: RSS, CPU and latency must not grow without bound.
    Soak(SoakArgs),
    /// Only the plain write-loop ceiling (N sockets, the same frame bytes).
    Ceiling(CeilingArgs),
    /// Internal: a worker process of `--procs`.
    #[command(hide = true)]
    Worker,
    /// Internal: the ceiling's write loop.
    #[command(hide = true)]
    CeilingWriter {
        /// CONNS PER_WRITE MILLIS FRAME_BASE64.
        args: Vec<String>,
    },
}

/// Options of every scenario.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// API base URL (loopback only).
    #[arg(long, env = "LT_API", default_value = "http://127.0.0.1:3000")]
    pub api: String,
    /// Gateway addresses (loopback only), comma-separated: a cluster's gateways share
    /// the connections, member `i` on gateway `i % n`.
    #[arg(
        long,
        env = "LT_GATEWAY",
        default_value = "127.0.0.1:3001",
        value_delimiter = ','
    )]
    pub gateway: Vec<SocketAddr>,
    /// Provision file (users, tokens, channel ids).
    #[arg(long, env = "LT_FILE", default_value = "loadtest-users.json")]
    pub file: PathBuf,
    /// Worker processes (connections are spread over them).
    #[arg(long, default_value_t = 1)]
    pub procs: usize,
    /// Loopback source addresses to spread connections over (0: one per 10 000 connections, at least one per process).
    #[arg(long, default_value_t = 0)]
    pub source_ips: usize,
    /// Server process to measure (CPU, RSS); repeat for several.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// New connections per second, all workers together (0: as fast as they go).
    #[arg(long, default_value_t = 0.0)]
    pub connect_rate: f64,
    /// Handshakes in flight per worker.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Deadline for every request to be answered, and then for every member to receive every acknowledged message, seconds each.
    #[arg(long, default_value_t = 30)]
    pub drain_secs: u64,
    /// Do not reconnect after 1001/1006/4000/4009/4010 (count the close as a failure).
    #[arg(long)]
    pub no_reconnect: bool,
    /// Registrations in flight while provisioning.
    #[arg(long, default_value_t = 8)]
    pub register_concurrency: usize,
    /// Also run the plain write-loop ceiling with the same sockets count and frame bytes.
    #[arg(long)]
    pub ceiling: bool,
    /// Frames per write() in the ceiling loop.
    #[arg(long, default_value_t = 8)]
    pub ceiling_frames_per_write: usize,
    /// Also measure send -> arrival: the kernel's receive stamp on each member's socket
    /// (`SO_TIMESTAMPNS`), the server's part of the latency without the client's own
    /// wait for CPU. It makes the kernel read the clock for every packet it receives,
    /// the server's too, so throughput runs leave it off.
    #[arg(long)]
    pub arrival_stamps: bool,
    /// Print one JSON object on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `provision`.
#[derive(Debug, Clone, Args)]
pub struct ProvisionArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,
    /// Users to have.
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// Also create the fanout group of this many members.
    #[arg(long)]
    pub group: Option<usize>,
}

/// `fanout`.
#[derive(Debug, Clone, Args)]
pub struct FanoutArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,
    /// Members of the channel, each one connection.
    #[arg(long, default_value_t = 1_000)]
    pub members: usize,
    /// Members that send.
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Closed loop: unanswered messages each sender keeps in flight.
    #[arg(long, default_value_t = 1)]
    pub window: u32,
    /// Open loop instead: messages per second, all senders together.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Message content length in bytes.
    #[arg(long, default_value_t = 100)]
    pub content_len: usize,
}

/// `connect`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,
    /// Connections.
    #[arg(long, default_value_t = 1_000)]
    pub conns: usize,
    /// Connections per user (the server's MAX_SESSIONS_PER_USER must allow it).
    #[arg(long, default_value_t = 1)]
    pub conns_per_user: usize,
    /// Seconds to hold the idle connections (PING only) after they are identified.
    #[arg(long, default_value_t = 5)]
    pub idle_secs: u64,
    /// Seconds to sample the servers' CPU before connecting (with `--server-pid`): the
    /// idle phase's cost is then also reported without what they spend alone (their
    /// timers, a cluster's Redis), i.e. the idle connections' own (heartbeats).
    #[arg(long, default_value_t = 5)]
    pub baseline_secs: u64,
}

/// `chat`.
#[derive(Debug, Clone, Args)]
pub struct ChatArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,
    /// Users, each one connection.
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    /// Group channels; sizes follow Zipf (the k-th largest has largest/k^s members).
    #[arg(long, default_value_t = 50)]
    pub channels: usize,
    /// Zipf exponent s.
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// Members of the largest channel (default: every user).
    #[arg(long)]
    pub largest: Option<usize>,
    /// DM channels between random pairs.
    #[arg(long, default_value_t = 100)]
    pub dms: usize,
    /// Actions per second, all users together (messages 60%, typing 15%, reactions 10%, receipts 10%, edits 5%).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Mean seconds between one connection's reconnects with `positions` (0: never).
    #[arg(long, default_value_t = 20)]
    pub reconnect_every_secs: u64,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Seed of the channel memberships.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// Shared options.
    #[command(flatten)]
    pub common: Common,
    /// Members of the channel.
    #[arg(long, default_value_t = 1_000)]
    pub members: usize,
    /// Members that send.
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second, all senders together.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 120)]
    pub duration: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 5)]
    pub sample_secs: u64,
    /// Most growth allowed from the first to the last quarter of the samples, percent, of the server's heap (RssAnon; total RSS also counts mapped database pages), mean latency, unanswered requests and queued bytes.
    #[arg(long, default_value_t = 25.0)]
    pub max_growth_pct: f64,
    /// Seconds of load whose samples are not judged: a server's caches filling (SQLite's
    /// page cache grows the heap by about 0.5 KiB per message until it holds 32 MiB) is
    /// growth that stops, not a leak. The samples are still printed.
    #[arg(long, default_value_t = 0)]
    pub warmup_secs: u64,
    /// Prometheus `/metrics` of each server (loopback; comma-separated): their
    /// `gateway_queued_bytes` is sampled and checked for growth too. `layer4 dev` serves
    /// it on the API port, `layer4 gateway` with `--metrics-port`.
    #[arg(long = "metrics-url", env = "LT_METRICS", value_delimiter = ',')]
    pub metrics_urls: Vec<String>,
    /// Bearer token for `--metrics-url` (the server's METRICS_TOKEN).
    #[arg(long, env = "LT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// `ceiling`.
#[derive(Debug, Clone, Args)]
pub struct CeilingArgs {
    /// Sockets.
    #[arg(long, default_value_t = 10_000)]
    pub conns: usize,
    /// Frames per write().
    #[arg(long, default_value_t = 8)]
    pub frames_per_write: usize,
    /// Payload bytes per frame (a MESSAGE_RECEIVED is about 300).
    #[arg(long, default_value_t = 300)]
    pub frame_bytes: usize,
    /// Seconds.
    #[arg(long, default_value_t = 5)]
    pub duration: u64,
    /// Loopback source addresses.
    #[arg(long, default_value_t = 1)]
    pub source_ips: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
