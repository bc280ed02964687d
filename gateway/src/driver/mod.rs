//! IO drivers: thin loops that move bytes between sockets and the shard (which holds
//! the sans-IO sessions) and fire nothing but readiness. `tokio.rs` is epoll,
//! `uring/` is io_uring (Linux); both drive rustls directly over the same
//! [`connection`] loop, so TLS works on either. [`select`] resolves `--io`.

pub mod clock;
pub(crate) mod connection;
pub mod handshake;
mod select;
pub mod tokio;
#[cfg(target_os = "linux")]
pub(crate) mod uring;

pub use select::{select, Selected};
