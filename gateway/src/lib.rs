//! The Layer4 WebSocket gateway.
//!
//! ```text
//!  socket ─► driver (IO only) ─► core::session (sans-IO: ws codec, identify,
//!              ▲                   heartbeat, rate limit) ─► Action ─► handler ─► service
//!              │                                                            (check, store,
//!              │                                                             publish)
//!  outbox ◄── fanout::Router::deliver ◄── dispatcher ◄── bus (in-process | Redis) ◄─┘
//!  (per connection, capped:      encode once per encoding, same Bytes to everyone,
//!   4010 on overflow)            replay buffer per channel
//! ```
//!
//! [`core`] has no tokio, no sockets and no clock reads. [`driver`] moves bytes.
//! [`shard`] is one thread with its own runtime and listener; [`server`] starts shards
//! and the dispatcher and drains on shutdown. It is not the chat logic: that is the
//! `service` crate, shared with the API.

pub mod config;
pub mod core;
pub mod driver;
pub mod fanout;
pub mod handler;
pub mod server;
pub mod shard;
pub mod tls;

pub use config::{GatewayConfig, TlsFiles};
pub use server::{run, Gateway};
