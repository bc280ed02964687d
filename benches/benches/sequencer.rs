//! The write path of one channel end to end below the gateway: `Chat::send_message`
//! (validate, membership, the channel's sequencer with its nonce window and rate limit,
//! group commit through `append_events`, publication on the bus, the reply) with many
//! senders at once into ONE channel of a file-backed SQLite store. Every message is
//! acknowledged only after its commit. Throughput is in messages (criterion's `elem/s`).
//!
//! `cargo bench -p benches --bench sequencer`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::LocalBus;
use criterion::{BenchmarkId, Criterion, Throughput};
use protocol::events::client::SendMessage;
use protocol::{ChannelId, UserId, Visibility};
use service::{Chat, ChatConfig, PasswordParams};
use storage::backend::SqliteStore;
use storage::{DynStore, NewUser};

/// Concurrent senders, each a member of the channel.
const SENDERS: u64 = 256;

fn setup(rt: &tokio::runtime::Runtime) -> (Chat, ChannelId, Vec<UserId>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store: DynStore =
        Arc::new(SqliteStore::open(&dir.path().join("bench.db")).expect("a sqlite store"));
    let config = ChatConfig {
        password: PasswordParams::insecure_fast(),
        messages_per_window: u32::MAX,
        sequencers: 2,
        ..ChatConfig::default()
    };
    let chat = Chat::new(store, Arc::new(LocalBus::new()), config);
    let (channel, users) = rt.block_on(async {
        let mut users = Vec::new();
        for i in 0..SENDERS {
            let id = UserId::new(chat.next_id());
            chat.store()
                .create_user(NewUser {
                    id,
                    username: format!("sender{i}"),
                    display_name: format!("Sender {i}"),
                    password_hash: "x".into(),
                    created_at: 0,
                })
                .await
                .expect("a user");
            users.push(id);
        }
        let channel = chat
            .create_channel(
                users[0],
                "busy",
                Some(Visibility::Private),
                users[1..].to_vec(),
            )
            .await
            .expect("the channel");
        (channel.id, users)
    });
    (chat, channel, users, dir)
}

fn sequencer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (chat, channel, users, _dir) = setup(&rt);
    let mut group = c.benchmark_group("one_channel_send");
    group.sample_size(10);
    for per_sender in [8u64, 32] {
        let messages = SENDERS * per_sender;
        group.throughput(Throughput::Elements(messages));
        group.bench_with_input(
            BenchmarkId::new("senders_256", messages),
            &per_sender,
            |b, &per_sender| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        rt.block_on(async {
                            let mut tasks = tokio::task::JoinSet::new();
                            for &user in &users {
                                let chat = chat.clone();
                                tasks.spawn(async move {
                                    for n in 0..per_sender {
                                        let req = SendMessage {
                                            channel_id: channel,
                                            content: format!("message {n}"),
                                            nonce: None,
                                            reply_to: None,
                                            attachment_ids: None,
                                        };
                                        chat.send_message(user, req).await.expect("acked");
                                    }
                                });
                            }
                            while tasks.join_next().await.is_some() {}
                        });
                        total += start.elapsed();
                    }
                    total
                });
            },
        );
    }
    group.finish();
}

// `criterion_group!` generates an undocumented public function; written out instead.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    sequencer(&mut c);
    c.final_summary();
}
