//! Fanout: one channel event delivered to N local sessions (encode once, one `Bytes`
//! clone per recipient into its outbox). Measures `Router::deliver` alone; the
//! outboxes are drained outside the timed section.
//!
//! Also, apart from the router: encode once and clone the `Bytes` per recipient versus
//! encoding the event once per recipient, at 10 000 recipients (what encode-once saves).

use std::collections::{BTreeMap, VecDeque};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::Publication;
use criterion::{BenchmarkId, Criterion, Throughput};
use gateway::fanout::index::SessionEntry;
use gateway::fanout::outbox::Outbox;
use gateway::fanout::Router;
use protocol::codec::Encoding;
use protocol::events::server::MessageData;
use protocol::events::ServerEvent;
use protocol::{ChannelId, Message, MessageId, User, UserId};

fn event(offset: u64) -> Arc<Publication> {
    let message = Message {
        id: MessageId::new(383_661_453_053_263_872 + offset),
        channel_id: ChannelId::new(7),
        author: User {
            id: UserId::new(383_661_453_053_263_000),
            username: "alice".into(),
            display_name: "Alice Liddell".into(),
            status: None,
        },
        content: "The quick brown fox jumps over the lazy dog; fanout benchmark message.".into(),
        created_at: 1_795_539_221_000,
        edited_at: None,
        reply_to: None,
        attachments: vec![],
        reactions: vec![],
        nonce: Some("n-1".into()),
    };
    Arc::new(Publication::channel_event(
        ChannelId::new(7),
        offset,
        ServerEvent::MessageReceived(Box::new(MessageData { message })),
    ))
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_deliver");
    for members in [100usize, 1_000, 10_000] {
        let router = Router::new(256);
        let mut outboxes = Vec::new();
        for i in 0..members {
            let outbox = Arc::new(Outbox::new(usize::MAX / 2));
            outboxes.push(outbox.clone());
            let entry = SessionEntry {
                user: UserId::new(i as u64 + 1),
                // One in ten sessions speaks JSON: two encodings per event.
                encoding: if i % 10 == 0 {
                    Encoding::Json
                } else {
                    Encoding::MsgPack
                },
                outbox,
            };
            router
                .register(
                    i as u64,
                    entry,
                    &[(ChannelId::new(7), 0)],
                    &BTreeMap::new(),
                    usize::MAX,
                )
                .expect("no session cap");
        }
        group.throughput(Throughput::Elements(members as u64));
        let mut offset = 0;
        group.bench_with_input(BenchmarkId::from_parameter(members), &members, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut sink = VecDeque::new();
                for _ in 0..iters {
                    offset += 1;
                    let publication = event(offset);
                    let start = Instant::now();
                    router.deliver(black_box(publication));
                    total += start.elapsed();
                    for outbox in &outboxes {
                        outbox.take(&mut sink, usize::MAX);
                        sink.clear();
                    }
                }
                total
            });
        });
    }
    group.finish();
}

fn encode_once_vs_per_recipient(c: &mut Criterion) {
    use bytes::Bytes;
    use protocol::codec::encode_server;
    const RECIPIENTS: usize = 10_000;
    let event = event(1).event.clone();
    let mut group = c.benchmark_group("encode_10000_recipients");
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    let mut queues: Vec<Bytes> = Vec::with_capacity(RECIPIENTS);
    group.bench_function("once, Bytes clone each", |b| {
        b.iter(|| {
            queues.clear();
            let mut out = Vec::with_capacity(512);
            encode_server(&event, None, Some(1), Encoding::MsgPack, &mut out);
            let shared = Bytes::from(out);
            for _ in 0..RECIPIENTS {
                queues.push(shared.clone());
            }
            black_box(queues.len())
        })
    });
    group.bench_function("per recipient", |b| {
        b.iter(|| {
            queues.clear();
            for _ in 0..RECIPIENTS {
                let mut out = Vec::with_capacity(512);
                encode_server(&event, None, Some(1), Encoding::MsgPack, &mut out);
                queues.push(Bytes::from(out));
            }
            black_box(queues.len())
        })
    });
    group.finish();
}

// `criterion_group!` generates an undocumented public function; written out instead.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    fanout(&mut c);
    encode_once_vs_per_recipient(&mut c);
    c.final_summary();
}
