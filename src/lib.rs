//! The `layer4` binary's wiring, as a library so that end-to-end tests start the very
//! same stack that `layer4 dev` runs.

pub mod memory;
pub mod seed;
pub mod stack;
