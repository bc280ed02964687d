//! Storage batching: the group commit of the event pipeline (DESIGN.md idea 3).
//!
//! Appends `MESSAGE_RECEIVED` events through `EventStore::append_events` to a
//! file-backed SQLite store (WAL, `synchronous = NORMAL`, as `layer4 dev` runs it) in a
//! temporary folder: one message per transaction, then batches of 64 and 512 spread
//! over 8 channels, as a shard's sequencer would hand them over. Throughput is in
//! messages, so criterion's `elem/s` is messages per second. Each batch pays one
//! transaction, one trip to the writer thread and one savepoint per message.
//!
//! PostgreSQL joins when its backend exists (`DATABASE_URL`); today it is only noted.
//!
//! `cargo bench -p benches --bench storage`.
// Measures the raw batched write itself (clippy.toml bans it outside the sequencer).
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BenchmarkId, Criterion, Throughput};
use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::backend::SqliteStore;
use storage::{ChannelStore, EventStore, EventWrite, NewChannel, NewMessage, NewUser, UserStore};

/// Channels the batches are spread over.
const CHANNELS: u64 = 8;

/// A typical chat line.
const CONTENT: &str = "The quick brown fox jumps over the lazy dog; storage batching benchmark.";

/// A store with one user and [`CHANNELS`] groups; the folder must outlive it.
fn setup(rt: &tokio::runtime::Runtime) -> (SqliteStore, tempfile::TempDir, UserId) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("bench.db")).expect("a sqlite store");
    let author = UserId::new(1);
    rt.block_on(async {
        store
            .create_user(NewUser {
                id: author,
                username: "bench".into(),
                display_name: "Bench".into(),
                password_hash: "x".into(),
                created_at: 0,
            })
            .await
            .expect("the user");
        for c in 0..CHANNELS {
            store
                .create_channel(NewChannel {
                    id: ChannelId::new(100 + c),
                    kind: ChannelKind::Group,
                    name: format!("bench-{c}"),
                    visibility: Visibility::Private,
                    parent_id: None,
                    root_message_id: None,
                    owner_id: author,
                    member_ids: Vec::new(),
                    created_at: 0,
                })
                .await
                .expect("a channel");
        }
    });
    (store, dir, author)
}

/// `size` new messages, round-robin over the channels, with fresh ids and nonces.
fn batch(next: &AtomicU64, author: UserId, size: usize) -> Vec<EventWrite> {
    (0..size)
        .map(|_| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            EventWrite::CreateMessage(NewMessage {
                id: MessageId::new(1_000_000 + n),
                channel_id: ChannelId::new(100 + n % CHANNELS),
                author_id: author,
                content: CONTENT.into(),
                created_at: n,
                reply_to: None,
                nonce: Some(format!("n{n}")),
                attachment_ids: Vec::new(),
            })
        })
        .collect()
}

fn append(c: &mut Criterion) {
    if std::env::var_os("DATABASE_URL").is_some() {
        println!(
            "DATABASE_URL is set, but the PostgreSQL backend does not exist yet: \
             benchmarking SQLite only"
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let (store, _dir, author) = setup(&rt);
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("sqlite_append_events");
    for size in [1usize, 64, 512] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            b.iter(|| {
                let items = batch(&next, author, size);
                let outcomes = rt
                    .block_on(store.append_events(black_box(items)))
                    .expect("the batch commits");
                debug_assert!(outcomes.iter().all(Result::is_ok));
                outcomes
            });
        });
    }
    group.finish();
}

// `criterion_group!` generates an undocumented public function; written out instead.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    append(&mut c);
    c.final_summary();
}
