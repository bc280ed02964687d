//! The sans-IO core: no tokio, no sockets, no clock reads.

pub mod ws;
