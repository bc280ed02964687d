//! Codec benchmarks: the gateway's hot paths.
//!
//! - encode `MESSAGE_RECEIVED`: done once per channel event, then shared by every
//!   recipient, into a reused buffer (as the gateway does);
//! - decode `SEND_MESSAGE`: done once per inbound message.
//!
//! Both encodings. `cargo bench -p benches --bench codec`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use protocol::codec::{decode_client, encode_client, encode_server, Encoding};
use protocol::events::client::SendMessage;
use protocol::events::server::MessageData;
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::ids::{AttachmentId, ChannelId, MessageId, UserId};
use protocol::{Attachment, Message, ReactionCount, User, UserStatus};

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

// What `criterion_group!` and `criterion_main!` expand to, written out because the
// macros' generated public function has no doc comment.
fn main() {
    let mut c = Criterion::default().configure_from_args();
    encode_message_received(&mut c);
    decode_send_message(&mut c);
    c.final_summary();
}
