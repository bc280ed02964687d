//! cargo-fuzz entry point; the harness and its checks are in `layer4_fuzz::targets::handshake`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| layer4_fuzz::targets::handshake::run(data));
