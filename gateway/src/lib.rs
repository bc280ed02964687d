//! Layer4 gateway.

pub mod core;
