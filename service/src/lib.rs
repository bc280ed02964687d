//! Layer4 chat operations, shared by the HTTP API and the gateway.
//!
//! [`Chat`] is the one place every rule of PROTOCOL.md sections 6-8 and API.md is
//! checked and every write that must fan out happens: validate, check permission,
//! take the channel lock (for channel events), store, publish on the bus, answer. The
//! API's handlers and the gateway's sessions are thin callers of it.
//!
//! - [`ops`]: the operations, one file per aggregate.
//! - [`access`](crate::access): who may see and act in a channel.
//! - [`auth`]: argon2id password hashes and HS256 tokens.
//! - [`presence`]: who is online, with the offline grace period (in Redis in a cluster).
//! - [`ratelimit`]: the in-memory sliding-window limiter (also used by the API).
//! - [`validate`]: input rules as errors naming the field.
//!
//! It is not transport: no HTTP, no WebSocket, no encoding. It holds no durable
//! state either: storage does; rate limits and typing timers are per process, and
//! presence is per process or, in a cluster, in Redis.

mod access;
pub mod auth;
mod chat;
pub mod config;
pub mod error;
mod members_cache;
pub mod ops;
pub mod presence;
pub mod ratelimit;
pub mod sequencer;
#[cfg(test)]
mod test_support;
mod typing;
pub mod validate;

pub use chat::Chat;
pub use config::{ChatConfig, PasswordParams};
pub use error::{Result, ServiceError};
pub use ops::users::AuthSession;
pub use presence::{ClusterConfig, Presence, PresenceError, PresenceGuard};
pub use ratelimit::RateLimiter;
