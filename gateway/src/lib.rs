//! The Layer4 WebSocket gateway.
//!
//! ```text
//!  socket ─► driver (IO only) ─► shard: core::session (sans-IO: ws codec, identify,
//!    ▲                             heartbeat, rate limit) ─► identify / request task
//!    │                                                          ─► service ─► sequencer
//!    │                                                             (home shard: group
//!    │                                                              commit, then publish)
//!  one vectored write per dirty      fanout: encode once per encoding,  ◄── bus batch ◄┘
//!  connection per batch      ◄────── same Bytes to every local member
//! ```
//!
//! [`core`] has no tokio, no sockets and no clock reads. [`driver`] moves bytes.
//! [`shard`] is one thread with its own runtime, listener, sessions, fanout index and
//! sequencer, sharing nothing; [`server`] starts shards and drains on shutdown. It is
//! not the chat logic: that is the `service` crate, shared with the API.

pub mod config;
pub mod core;
pub mod driver;
pub mod fanout;
pub mod handler;
pub mod server;
pub mod shard;
pub mod tls;

pub use config::{GatewayConfig, IoDriver, TlsFiles};
pub use server::{run, Gateway};
