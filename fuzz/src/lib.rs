//! Layer4's fuzz harnesses, as plain functions.
//!
//! Every decoder Layer4 wrote itself takes untrusted bytes: the WebSocket frame decoder
//! and connection state machine, the HTTP upgrade parser, the MessagePack and JSON
//! envelope codecs, and the session state machine on top of them. Each fuzz target in
//! `fuzz_targets/` is one line calling [`targets`]`::<name>::run`, which panics when an
//! invariant breaks. Keeping the checks in a library lets `cargo test` here run every
//! committed seed of `corpus/` through them without libFuzzer, and lets
//! `examples/write_corpus.rs` build those seeds from the same helpers.
//!
//! It is not the crates' test suite: a crash found here becomes a regression test in
//! `protocol/tests/fuzz_regressions.rs` or `gateway/tests/fuzz_regressions.rs`, feeding
//! the input through the public API. `scripts/fuzz.sh` runs the targets.

pub mod input;
pub mod seeds;
pub mod targets;
pub mod wire;
