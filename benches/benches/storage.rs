//! Storage batching: the group commit of the event pipeline (DESIGN.md idea 3).
//!
//! Appends `MESSAGE_RECEIVED` events through `EventStore::append_events` to a
//! file-backed SQLite store (WAL, `synchronous = NORMAL`, as `layer4 dev` runs it) in a
//! temporary folder: one message per transaction, then batches of 64 and 512 spread
//! over 8 channels, as a shard's sequencer would hand them over. Throughput is in
//! messages, so criterion's `elem/s` is messages per second. Each batch pays one
//! transaction, one trip to the writer thread and one channel row update per channel.
//!
//! With `DATABASE_URL` set to a `postgres://` URL, the same appends run on PostgreSQL
//! too (in a fresh schema, dropped afterwards): into one channel and into 1,000
//! channels, one `append_events` call per message versus batches of 512 (group commit:
//! one transaction, so one WAL flush, per batch).
//!
//! `cargo bench -p benches --bench storage` (and with
//! `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test` for PostgreSQL).
// Measures the raw batched write itself (clippy.toml bans it outside the sequencer).
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BenchmarkId, Criterion, Throughput};
use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::backend::{PostgresStore, SqliteStore};
use storage::{
    ChannelStore, DynStore, EventStore, EventWrite, NewChannel, NewMessage, NewUser, UserStore,
};

/// Channels the SQLite batches are spread over.
const CHANNELS: u64 = 8;

/// The PostgreSQL runs: (channels, messages per `append_events` call).
const POSTGRES_RUNS: [(u64, usize); 4] = [(1, 1), (1, 512), (1_000, 1), (1_000, 512)];

/// A typical chat line.
const CONTENT: &str = "The quick brown fox jumps over the lazy dog; storage batching benchmark.";

/// A SQLite store with one user and [`CHANNELS`] groups; the folder must outlive it.
fn setup(rt: &tokio::runtime::Runtime) -> (SqliteStore, tempfile::TempDir, UserId) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("bench.db")).expect("a sqlite store");
    let author = fill(rt, &store, 100, CHANNELS);
    (store, dir, author)
}

/// Creates the bench user and `channels` groups with ids from `first` in `store`.
fn fill<S: UserStore + ChannelStore + ?Sized>(
    rt: &tokio::runtime::Runtime,
    store: &S,
    first: u64,
    channels: u64,
) -> UserId {
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
        for c in 0..channels {
            store
                .create_channel(NewChannel {
                    id: ChannelId::new(first + c),
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
    author
}

/// `size` new messages, round-robin over the channels, with fresh ids and nonces.
fn batch(next: &AtomicU64, author: UserId, size: usize) -> Vec<EventWrite> {
    batch_over(next, author, size, 100, CHANNELS)
}

/// `size` new messages, round-robin over `channels` channels from id `first`.
fn batch_over(
    next: &AtomicU64,
    author: UserId,
    size: usize,
    first: u64,
    channels: u64,
) -> Vec<EventWrite> {
    (0..size)
        .map(|_| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            EventWrite::CreateMessage(NewMessage {
                id: MessageId::new(1_000_000 + n),
                channel_id: ChannelId::new(first + n % channels),
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

/// The PostgreSQL runs, when `DATABASE_URL` names a server.
fn append_postgres(c: &mut Criterion) {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
        _ => {
            println!("skipped: DATABASE_URL unset (or not postgres://): PostgreSQL not measured");
            return;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let schema = format!("l4bench_{stamp}");
    let separator = if url.contains('?') { '&' } else { '?' };
    let store: DynStore = std::sync::Arc::new(
        rt.block_on(PostgresStore::connect(&format!(
            "{url}{separator}schema={schema}"
        )))
        .expect("a PostgreSQL store"),
    );
    // One channel at id 10, 1,000 from id 100.
    let author = fill(&rt, &*store, 10, 1);
    rt.block_on(async {
        for c in 0..1_000u64 {
            store
                .create_channel(NewChannel {
                    id: ChannelId::new(100 + c),
                    kind: ChannelKind::Group,
                    name: format!("wide-{c}"),
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
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("postgres_append_events");
    for (channels, size) in POSTGRES_RUNS {
        let first = if channels == 1 { 10 } else { 100 };
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("{channels}ch"), size),
            &size,
            |b, &size| {
                b.iter(|| {
                    let items = batch_over(&next, author, size, first, channels);
                    let outcomes = rt
                        .block_on(store.append_events(black_box(items)))
                        .expect("the batch commits");
                    debug_assert!(outcomes.iter().all(Result::is_ok));
                    outcomes
                });
            },
        );
    }
    group.finish();
    drop(store);
    let dropped = rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
    });
    if let Err(err) = dropped {
        println!("could not drop {schema}: {err}");
    }
}

// `criterion_group!` generates an undocumented public function; written out instead.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    append(&mut c);
    append_postgres(&mut c);
    c.final_summary();
}
