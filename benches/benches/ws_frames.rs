//! WebSocket frame benchmarks: the per-byte and per-recipient costs of the ws core.
//!
//! - decode + unmask a masked client binary frame of 1 KiB and 64 KiB, both as the two
//!   raw steps (`decode_header`, `apply_mask`) and through `WsConn` (what a connection
//!   pays per inbound message, reassembly checks included);
//! - `frame()`: building one 200-byte server frame (header + payload, one allocation),
//!   done once per channel event and then shared by every recipient.
//!
//! `cargo bench -p benches --bench ws_frames`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use gateway::core::ws::{apply_mask, decode_header, frame, Opcode, WsConfig, WsConn, WsEvent};

const KEY: [u8; 4] = [0x5a, 0x13, 0xc7, 0x2e];

/// A masked client binary frame carrying `len` bytes, as a browser would send it.
fn client_binary_frame(len: usize) -> Vec<u8> {
    let mut wire = vec![0x82];
    if len < 126 {
        wire.push(0x80 | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        wire.push(0x80 | 126);
        wire.extend_from_slice(&short.to_be_bytes());
    } else {
        wire.push(0x80 | 127);
        wire.extend_from_slice(&(len as u64).to_be_bytes());
    }
    wire.extend_from_slice(&KEY);
    let mut payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    apply_mask(&mut payload, KEY, 0);
    wire.extend_from_slice(&payload);
    wire
}

fn decode_and_unmask(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_decode_unmask");
    for len in [1024usize, 64 * 1024] {
        let wire = client_binary_frame(len);
        group.throughput(Throughput::Bytes(len as u64));

        // The two raw steps on a scratch copy (the copy stands in for the socket read).
        let mut scratch = wire.clone();
        group.bench_with_input(BenchmarkId::new("raw", len), &wire, |b, wire| {
            b.iter(|| {
                scratch.copy_from_slice(wire);
                let header = decode_header(black_box(&scratch))
                    .ok()
                    .flatten()
                    .expect("a complete valid header");
                let payload = &mut scratch[header.header_len..];
                apply_mask(payload, header.mask, 0);
                black_box(payload.len())
            })
        });

        // Through the connection state machine: buffer, decode, unmask, hand out.
        let mut conn = WsConn::new(WsConfig::default());
        group.bench_with_input(BenchmarkId::new("conn", len), &wire, |b, wire| {
            b.iter(|| {
                conn.handle_read(black_box(wire));
                match conn.poll_event() {
                    Some(WsEvent::Binary(data)) => black_box(data.len()),
                    other => panic!("expected a binary message, got {other:?}"),
                }
            })
        });
    }
    group.finish();
}

fn encode_frame(c: &mut Criterion) {
    let payload = vec![0x42u8; 200];
    let mut group = c.benchmark_group("ws_frame_encode");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("frame_200b", |b| {
        b.iter(|| -> Bytes { frame(Opcode::Binary, black_box(&payload)) })
    });
    // The fanout step that follows: one more recipient costs a refcount.
    let shared = frame(Opcode::Binary, &payload);
    group.bench_function("clone_per_recipient", |b| {
        b.iter(|| black_box(&shared).clone())
    });
    group.finish();
}

/// Every benchmark of this file (what `criterion_group!` would generate, with a doc).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    decode_and_unmask(&mut criterion);
    encode_frame(&mut criterion);
}

criterion_main!(benches);
