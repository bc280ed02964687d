//! IO drivers: thin loops that move bytes between sockets and the shard (which holds
//! the sans-IO sessions) and fire nothing but readiness. `tokio.rs` (epoll, TLS by
//! driving rustls directly) is the default; the io_uring driver joins behind the same
//! shard.

pub mod clock;
pub mod handshake;
pub mod tokio;
