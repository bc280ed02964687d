//! The sans-IO core: no tokio, no sockets, no clock reads; `now` is an argument.
//! Inputs are `handle_*`, outputs `poll_*` (as in quinn-proto).

pub mod heartbeat;
pub mod ratelimit;
pub mod replay;
pub mod session;
pub mod ws;
