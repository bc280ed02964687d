//! IO drivers: thin loops that move bytes between sockets and the sans-IO core and
//! fire its timers. `tokio.rs` (epoll, TLS via tokio-rustls) is the default; the
//! io_uring driver (tokio-uring) joins with the sharding issue behind the same core.

pub mod clock;
pub mod handshake;
pub mod tokio;
