//! Codec benchmarks: the gateway's hot paths.
//!
//! - encode `MESSAGE_RECEIVED`: done once per channel event, then shared by every
//!   recipient, into a reused buffer (as the gateway does);
//! - decode `SEND_MESSAGE`: done once per inbound message.
//!
//! - decode `MESSAGE_RECEIVED`: what every client pays per delivery;
//! - encode and decode `READY` with 100 channels: once per connection, the largest frame;
//! - sizes of both in both encodings, printed before the timings (the seed claimed
//!   MessagePack is "30-50% smaller and faster to parse" than JSON; docs/benchmarks.md
//!   records what holds).
//!
//! Both encodings. `cargo bench -p benches --bench codec`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use protocol::codec::decode_server;
use protocol::codec::{decode_client, encode_client, encode_server, Encoding};
use protocol::events::client::SendMessage;
use protocol::events::server::MessageData;
use protocol::events::server::Ready;
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::ids::{AttachmentId, ChannelId, MessageId, UserId};
use protocol::{
    Attachment, Channel, ChannelKind, Message, ReactionCount, User, UserStatus, Visibility,
};

const ENCODINGS: [Encoding; 2] = [Encoding::MsgPack, Encoding::Json];

/// A typical chat message: a sentence or two, one reaction, one image.
fn message_received() -> ServerEvent {
    let message = Message {
        id: MessageId::new(175_928_847_299_117_063),
        channel_id: ChannelId::new(41_771_983_423_143_937),
        author: User {
            id: UserId::new(80_351_110_224_678_912),
            username: "ada.lovelace".into(),
            display_name: "Ada Lovelace".into(),
            status: Some(UserStatus::Online),
        },
        content: "The Analytical Engine weaves algebraic patterns just as the Jacquard loom \
                  weaves flowers and leaves. Shipping the fix tonight!"
            .into(),
        created_at: 1_720_000_000_000,
        edited_at: None,
        reply_to: Some(MessageId::new(175_928_847_299_117_000)),
        attachments: vec![Attachment {
            id: AttachmentId::new(175_928_847_299_116_999),
            filename: "diagram.png".into(),
            content_type: "image/png".into(),
            size: 48_213,
            url: "/media/175928847299116999/diagram.png".into(),
            width: Some(800),
            height: Some(600),
            thumbnail_url: Some("/media/175928847299116999/thumbnail".into()),
        }],
        reactions: vec![ReactionCount {
            emoji: "👍".into(),
            count: 3,
        }],
        nonce: Some("c0ffee-42".into()),
    };
    ServerEvent::MessageReceived(Box::new(MessageData { message }))
}

/// READY of a user in 100 channels: groups with unread counts, a few DMs and threads.
fn ready_100() -> ServerEvent {
    let channels = (0..100u64)
        .map(|i| Channel {
            id: ChannelId::new(41_771_983_423_143_937 + i * 4_096),
            kind: match i % 10 {
                0 => ChannelKind::Dm,
                1 => ChannelKind::Thread,
                _ => ChannelKind::Group,
            },
            name: format!("project-channel-{i}"),
            visibility: if i % 3 == 0 {
                Visibility::Public
            } else {
                Visibility::Private
            },
            parent_id: (i % 10 == 1).then(|| ChannelId::new(41_771_983_423_143_937)),
            root_message_id: (i % 10 == 1).then(|| MessageId::new(175_928_847_299_117_063)),
            member_count: 2 + (i as u32 * 37) % 900,
            last_message_id: Some(MessageId::new(175_928_847_299_117_063 + i)),
            offset: 1_000 + i * 17,
            last_read_message_id: Some(MessageId::new(175_928_847_299_117_000 + i)),
            unread_count: (i as u32 * 7) % 40,
            muted: i % 7 == 0,
            muted_until: None,
        })
        .collect();
    ServerEvent::Ready(Box::new(Ready {
        session_id: "a3f1c9e2-5b7d-4e2a-9c1f-0d8e7b6a5c4d".into(),
        user: User {
            id: UserId::new(80_351_110_224_678_912),
            username: "ada.lovelace".into(),
            display_name: "Ada Lovelace".into(),
            status: Some(UserStatus::Online),
        },
        channels,
        blocked_user_ids: vec![UserId::new(80_351_110_224_678_999)],
        heartbeat_interval_ms: 30_000,
        resync: vec![],
    }))
}

fn send_message() -> Frame<ClientEvent> {
    Frame::new(ClientEvent::SendMessage(SendMessage {
        channel_id: ChannelId::new(41_771_983_423_143_937),
        content: "The Analytical Engine weaves algebraic patterns just as the Jacquard loom \
                  weaves flowers and leaves."
            .into(),
        nonce: Some("c0ffee-42".into()),
        reply_to: None,
        attachment_ids: None,
    }))
    .with_id(17)
}

fn encode_message_received(c: &mut Criterion) {
    let event = message_received();
    let mut group = c.benchmark_group("encode MESSAGE_RECEIVED");
    for enc in ENCODINGS {
        let mut out = Vec::with_capacity(1024);
        encode_server(&event, None, Some(1), enc, &mut out);
        group.throughput(Throughput::Bytes(out.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(enc), &enc, |b, &enc| {
            b.iter(|| {
                out.clear();
                encode_server(black_box(&event), None, Some(1), enc, &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn decode_send_message(c: &mut Criterion) {
    let frame = send_message();
    let mut group = c.benchmark_group("decode SEND_MESSAGE");
    for enc in ENCODINGS {
        let mut bytes = Vec::new();
        encode_client(&frame, enc, &mut bytes);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(enc), &bytes, |b, bytes| {
            b.iter(|| decode_client(black_box(bytes), enc))
        });
    }
    group.finish();
}

/// Encode and decode of a server event in both encodings, with its sizes.
fn server_event_round_trip(c: &mut Criterion, name: &str, event: &ServerEvent, s: Option<u64>) {
    let mut group = c.benchmark_group(name);
    for enc in ENCODINGS {
        let mut out = Vec::with_capacity(16 * 1024);
        encode_server(event, None, s, enc, &mut out);
        group.throughput(Throughput::Bytes(out.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode", enc), &enc, |b, &enc| {
            b.iter(|| {
                out.clear();
                encode_server(black_box(event), None, s, enc, &mut out);
                black_box(out.len())
            })
        });
        let bytes = out.clone();
        group.bench_with_input(BenchmarkId::new("decode", enc), &bytes, |b, bytes| {
            b.iter(|| decode_server(black_box(bytes), enc))
        });
    }
    group.finish();
}

/// Prints the encoded sizes of the benchmarked events (the seed's size claim).
fn print_sizes() {
    for (name, event, s) in [
        ("MESSAGE_RECEIVED", message_received(), Some(1)),
        ("READY, 100 channels", ready_100(), None),
    ] {
        let size = |enc| {
            let mut out = Vec::new();
            encode_server(&event, None, s, enc, &mut out);
            out.len()
        };
        let (mp, json) = (size(Encoding::MsgPack), size(Encoding::Json));
        eprintln!(
            "size of {name}: MessagePack {mp} B, JSON {json} B ({:.0}% smaller)",
            100.0 * (1.0 - mp as f64 / json as f64)
        );
    }
}

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// macros' generated public function has no doc comment.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    print_sizes();
    encode_message_received(&mut c);
    decode_send_message(&mut c);
    server_event_round_trip(&mut c, "MESSAGE_RECEIVED", &message_received(), Some(1));
    server_event_round_trip(&mut c, "READY 100 channels", &ready_100(), None);
    c.final_summary();
}
