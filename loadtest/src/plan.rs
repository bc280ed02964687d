//! What the coordinator tells a worker, and what a worker reports back.
//!
//! These values are the whole interface between the coordinator and its workers, in
//! process (tokio channels) or in child processes (JSON lines over stdin/stdout), so
//! `--procs 1` and `--procs 8` run exactly the same code.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::checks::Failures;
use crate::metrics::Progress;

/// Everything one worker needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// Worker number (0-based).
    pub worker: usize,
    /// Run id: part of every nonce and content, so runs never collide.
    pub run: String,
    /// Gateway addresses; connection `i` goes to `gateways[i % len]`.
    pub gateways: Vec<SocketAddr>,
    /// Source addresses to spread connections over.
    pub sources: Vec<Ipv4Addr>,
    /// New connections per second for this worker (0: as fast as possible).
    pub connect_rate: f64,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// The connections.
    pub conns: Vec<ConnPlan>,
    /// What the connections do during the load phase.
    pub load: Load,
    /// Deadline for settling (every request answered) and for draining, seconds each.
    pub drain_secs: u64,
    /// Reconnect with `positions` after a close the contract says to retry.
    pub reconnect: bool,
    /// Ask the kernel for receive stamps (send -> arrival).
    pub arrival_stamps: bool,
}

/// One connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnPlan {
    /// Index among all connections of the run.
    pub index: usize,
    /// The user's JWT.
    pub token: String,
    /// Channels this connection sends to (empty: a receiver only).
    pub send_to: Vec<u64>,
}

/// How connections send.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum SendMode {
    /// Never.
    Quiet,
    /// Closed loop: at most this many unanswered requests each, next one on each reply.
    Window(u32),
    /// Open loop: one action every this many microseconds each.
    EveryMicros(u64),
}

/// The load phase's shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Load {
    /// Sending.
    pub mode: SendMode,
    /// Message length in bytes.
    pub content_len: usize,
    /// Chat scenario: a mix of actions instead of only messages.
    pub mix: Option<Mix>,
}

/// Relative weights of the chat scenario's actions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Mix {
    /// SEND_MESSAGE.
    pub message: u32,
    /// START_TYPING.
    pub typing: u32,
    /// ADD_REACTION on a recent message.
    pub react: u32,
    /// EDIT_MESSAGE of an own message.
    pub edit: u32,
    /// MARK_AS_READ of a recent message.
    pub read: u32,
    /// Mean time between a connection's deliberate reconnects (with positions), ms; 0: never.
    pub reconnect_every_ms: u64,
}

/// Coordinator to worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Control {
    /// Start the load phase.
    Start,
    /// Stop sending; report the highest acknowledged offsets once every request is answered.
    Settle,
    /// Receive until every channel reaches these offsets (or the deadline), then finish.
    Drain(HashMap<u64, u64>),
}

/// Worker to coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Report {
    /// Counters so far (every 500 ms).
    Progress(Progress),
    /// Every connection attempt finished (identified or failed).
    Connected,
    /// Highest offset of an acknowledged message per channel.
    Settled(HashMap<u64, u64>),
    /// Final figures and checks.
    Done(Box<WorkerResult>),
}

/// One worker's figures and checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerResult {
    /// Connections planned.
    pub conns: u64,
    /// Send-to-receive latency (base64 HDR).
    pub latency: String,
    /// Send-to-arrival latency (base64 HDR).
    pub arrival: String,
    /// Send-to-ACK latency.
    pub ack: String,
    /// Connect-to-READY time.
    pub ready: String,
    /// Longest silence per member during the run (between channel events).
    pub silence: String,
    /// Event and outcome counters.
    pub counts: BTreeMap<String, u64>,
    /// Close codes received from the server.
    pub closes: BTreeMap<u16, u64>,
    /// Check failures.
    pub failures: Failures,
    /// CPU seconds of this worker process (0 for in-process workers: counted by the parent).
    pub cpu_secs: f64,
    /// One received MESSAGE_RECEIVED frame (base64), for the ceiling comparison.
    pub sample_frame: Option<String>,
}
