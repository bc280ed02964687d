//! Fanout: one channel event delivered to N local sessions. `encode_once` is what the
//! shard does (frame the publisher's MessagePack once, a `Bytes` clone on each
//! session's queue); `per_recipient` encodes and frames the event for every session,
//! the cost encode-once saves. The queues are emptied outside the timed section.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::Publication;
use criterion::{BenchmarkId, Criterion, Throughput};
use gateway::core::session::{Action, Mode, Session, SessionConfig};
use gateway::core::ws::{self, Opcode};
use gateway::fanout::encoded::Framed;
use protocol::codec::{self, Encoding};
use protocol::events::client::Identify;
use protocol::events::server::{MessageData, Ready};
use protocol::events::{ClientEvent, Frame, ServerEvent};
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

/// An identified session, as the shard holds one.
fn session(user: u64) -> Session {
    let mut s = Session::new(
        Mode::Gateway(Encoding::MsgPack),
        &SessionConfig::default(),
        0,
    );
    let mut payload = Vec::new();
    let identify = Frame {
        event: ClientEvent::Identify(Identify {
            token: "t".into(),
            status: None,
            positions: None,
        }),
        id: None,
        s: None,
    };
    codec::encode_client(&identify, Encoding::MsgPack, &mut payload);
    // A masked client frame (mask of zeros keeps the payload as is).
    let mut frame = vec![0x82, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(&payload);
    s.handle_read(&frame, 1);
    assert!(matches!(s.poll_action(), Some(Action::Identify(_))));
    let me = User {
        id: UserId::new(user),
        username: format!("u{user}"),
        display_name: format!("U{user}"),
        status: None,
    };
    s.handle_ready(
        me.id,
        Ready {
            session_id: user.to_string(),
            user: me,
            channels: vec![],
            blocked_user_ids: vec![],
            heartbeat_interval_ms: 30_000,
            resync: vec![],
        },
    );
    drain(&mut s);
    s
}

fn drain(s: &mut Session) {
    let queued = s.queued_bytes();
    s.advance_transmit(queued);
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_deliver");
    for members in [100usize, 1_000, 10_000] {
        let mut sessions: Vec<Session> = (0..members).map(|i| session(i as u64 + 1)).collect();
        group.throughput(Throughput::Elements(members as u64));
        let mut offset = 0;
        group.bench_with_input(
            BenchmarkId::new("encode_once", members),
            &members,
            |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        offset += 1;
                        let publication = event(offset);
                        let start = Instant::now();
                        let framed = Framed::new(black_box(publication));
                        for s in &mut sessions {
                            s.handle_frame(framed.frame(Encoding::MsgPack));
                        }
                        total += start.elapsed();
                        sessions.iter_mut().for_each(drain);
                    }
                    total
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("per_recipient", members),
            &members,
            |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut payload = Vec::with_capacity(512);
                    for _ in 0..iters {
                        offset += 1;
                        let publication = event(offset);
                        let start = Instant::now();
                        for s in &mut sessions {
                            payload.clear();
                            codec::encode_server(
                                black_box(&publication.event),
                                None,
                                publication.offset,
                                Encoding::MsgPack,
                                &mut payload,
                            );
                            s.handle_frame(ws::frame(Opcode::Binary, &payload));
                        }
                        total += start.elapsed();
                        sessions.iter_mut().for_each(drain);
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
    fanout(&mut c);
    c.final_summary();
}
