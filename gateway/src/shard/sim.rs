//! A deterministic simulator of the event pipeline: several shards (their real
//! `ShardState`: fanout index, registration, delivery, flush), the real service with
//! its sequencers and group commit over an in-memory store, the in-process bus, and
//! sessions whose sockets are in-memory pipes that take only a few KiB per write. No
//! threads, no sockets, no wall clock: one seeded random schedule decides when each
//! shard drains its inbox, when each pipe is read, when messages are sent, when
//! sessions connect mid-stream (with and without `positions`) and when they leave.
//!
//! The property: every session sees each channel's offsets contiguous from where its
//! READY (or replay) left off, never a repeat, and every acknowledged message after
//! its join.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::rc::Rc;
use std::sync::Arc;

use bus::{Bus, LocalBus, Subscription};
use protocol::codec::{self, Encoding};
use protocol::events::client::{Identify, SendMessage};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::{ChannelId, MessageId, UserId, Visibility};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use service::{Chat, ChatConfig, PasswordParams};
use storage::backend::sqlite::SqliteStore;
use storage::{DynStore, NewUser};

use super::conn::{Conn, Transport};
use super::metrics::ShardMetrics;
use super::register::Identified;
use super::state::ShardState;
use crate::core::session::{Action, Mode, Session, SessionConfig};
use crate::fanout::index::ConnKey;
use crate::server::Admission;

/// An in-memory socket: what the server wrote, and how much it may write now.
#[derive(Default)]
struct Pipe {
    written: Vec<u8>,
    room: usize,
}

struct SimTransport(Rc<RefCell<Pipe>>);

impl Transport for SimTransport {
    fn try_read(&self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut pipe = self.0.borrow_mut();
        if pipe.room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(pipe.room);
            pipe.written.extend_from_slice(&buf[..take]);
            pipe.room -= take;
            n += take;
            if take < buf.len() {
                break;
            }
        }
        Ok(n)
    }

    fn shutdown_write(&self) {}
}

/// A client: its pipe, and what it parsed so far.
struct Client {
    shard: usize,
    key: ConnKey,
    id: u64,
    pipe: Rc<RefCell<Pipe>>,
    parsed: usize,
    /// Offset per channel the client is at (from READY, then each event).
    at: BTreeMap<ChannelId, u64>,
    /// Messages received.
    messages: Vec<MessageId>,
    /// Messages acknowledged to anyone before this client was connected.
    joined_after: usize,
    /// Still connected.
    open: bool,
}

struct Sim {
    rng: StdRng,
    chat: Chat,
    shards: Vec<(ShardState, Subscription)>,
    clients: Vec<Client>,
    next_id: u64,
    admission: Arc<Admission>,
}

impl Sim {
    fn new(seed: u64, shards: usize, store: DynStore) -> Self {
        let bus = Arc::new(LocalBus::with_replay(4096));
        let config = ChatConfig {
            password: PasswordParams::insecure_fast(),
            messages_per_window: 1_000_000,
            sequencers: shards,
            ..ChatConfig::default()
        };
        let chat = Chat::new(store, bus.clone(), config);
        let shards = (0..shards)
            .map(|index| {
                let subscription = bus.subscriber();
                let config = crate::GatewayConfig {
                    max_queued_bytes: 64 << 20,
                    ..crate::GatewayConfig::default()
                };
                let metrics = ShardMetrics {
                    shard: index.to_string(),
                    sessions: Arc::default(),
                };
                let state = ShardState::new(bus.clone(), subscription.id, &config, metrics);
                (state, subscription)
            })
            .collect();
        Self {
            rng: StdRng::seed_from_u64(seed),
            chat,
            shards,
            clients: Vec::new(),
            next_id: 1,
            admission: Arc::new(Admission::new(&crate::GatewayConfig::default())),
        }
    }

    /// Connects `user` on a random shard, identified, with `positions`.
    async fn connect(&mut self, user: UserId, positions: BTreeMap<ChannelId, u64>, acked: usize) {
        let shard = self.rng.gen_range(0..self.shards.len());
        let pipe = Rc::new(RefCell::new(Pipe::default()));
        let mut session = Session::new(
            Mode::Gateway(Encoding::MsgPack),
            &SessionConfig::default(),
            0,
        );
        let identify = ClientEvent::Identify(Identify {
            token: String::new(),
            status: None,
            positions: Some(positions.clone()),
        });
        session.handle_read(&client_frame(&identify), 0);
        assert!(matches!(session.poll_action(), Some(Action::Identify(_))));
        let positions_given = positions.clone();
        let (me, channels, blocked) = self.chat.ready(user).await.unwrap();
        let presence = self
            .chat
            .presence()
            .connect(user, protocol::UserStatus::Online)
            .await;
        let id = self.next_id;
        self.next_id += 1;
        let state = &mut self.shards[shard].0;
        let key = state.conns.insert(Box::new(Conn::new(
            id,
            Rc::new(SimTransport(pipe.clone())),
            None,
            session,
            Encoding::MsgPack,
            self.admission.admit_ip([127, 0, 0, 1].into()).unwrap(),
        )));
        let identified = Identified {
            user: me,
            presence,
            channels,
            blocked,
            positions,
        };
        state.register(key, identified, 30_000);
        state.settle(key, 0);
        self.clients.push(Client {
            shard,
            key,
            id,
            pipe,
            parsed: 0,
            at: positions_given,
            messages: Vec::new(),
            joined_after: acked,
            open: true,
        });
    }

    /// One random step of the world.
    async fn step(&mut self) {
        match self.rng.gen_range(0..10) {
            0..=3 => {
                let shard = self.rng.gen_range(0..self.shards.len());
                let (state, subscription) = &mut self.shards[shard];
                if let Ok(batch) = subscription.rx.try_recv() {
                    state.deliver(&batch);
                    state.flush_dirty();
                }
            }
            4..=6 => {
                // A client reads some of what the server wrote; the server writes more.
                let i = self.rng.gen_range(0..self.clients.len());
                let room = self.rng.gen_range(0..4096);
                let client = &mut self.clients[i];
                if client.open {
                    client.pipe.borrow_mut().room += room;
                    let state = &mut self.shards[client.shard].0;
                    state.write(client.key);
                }
            }
            _ => tokio::task::yield_now().await,
        }
    }

    /// Everything delivered and written.
    async fn settle_all(&mut self) {
        for _ in 0..200 {
            tokio::task::yield_now().await;
            for (state, subscription) in &mut self.shards {
                while let Ok(batch) = subscription.rx.try_recv() {
                    state.deliver(&batch);
                    state.flush_dirty();
                }
            }
        }
        for client in &mut self.clients {
            client.pipe.borrow_mut().room = usize::MAX / 2;
            if client.open {
                self.shards[client.shard].0.write(client.key);
            }
        }
    }

    /// Parses what each client received and checks it.
    fn check(&mut self, sent: &[MessageId]) {
        for (n, client) in self.clients.iter_mut().enumerate() {
            let pipe = client.pipe.borrow();
            let mut rest = &pipe.written[client.parsed..];
            while let Some((payload, used)) = server_frame(rest) {
                rest = &rest[used..];
                let frame: Frame<ServerEvent> =
                    codec::decode_server(payload, Encoding::MsgPack).unwrap();
                match (&frame.event, frame.s) {
                    (ServerEvent::Ready(ready), _) => {
                        assert!(
                            ready.resync.is_empty(),
                            "client {n}: resync {:?}",
                            ready.resync
                        );
                        // A channel given in `positions` is replayed from there; any
                        // other starts at READY's offset.
                        for c in &ready.channels {
                            client.at.entry(c.id).or_insert(c.offset);
                        }
                    }
                    (event, Some(s)) => {
                        let channel = channel_of(event);
                        let at = client.at.get(&channel).copied().unwrap_or(0);
                        assert_eq!(s, at + 1, "client {n}: channel {channel} went {at} -> {s}");
                        client.at.insert(channel, s);
                        if let ServerEvent::MessageReceived(m) = event {
                            client.messages.push(m.message.id);
                        }
                    }
                    _ => {}
                }
            }
            client.parsed = pipe.written.len() - rest.len();
            if client.open {
                let want = &sent[client.joined_after.min(sent.len())..];
                for id in want {
                    assert!(client.messages.contains(id), "client {n} missed {id}");
                }
            }
            let mut seen = client.messages.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), client.messages.len(), "client {n}: a repeat");
        }
    }
}

fn channel_of(event: &ServerEvent) -> ChannelId {
    match event {
        ServerEvent::MessageReceived(m) | ServerEvent::MessageEdited(m) => m.message.channel_id,
        ServerEvent::UserJoined(j) => j.channel_id,
        ServerEvent::UserLeft(l) => l.channel_id,
        ServerEvent::MessageDeleted(d) => d.channel_id,
        ServerEvent::ReactionAdded(r) | ServerEvent::ReactionRemoved(r) => r.channel_id,
        other => panic!("not a channel event: {other:?}"),
    }
}

/// A masked client frame.
fn client_frame(event: &ClientEvent) -> Vec<u8> {
    let mut payload = Vec::new();
    let frame = Frame {
        event: event.clone(),
        id: None,
        s: None,
    };
    codec::encode_client(&frame, Encoding::MsgPack, &mut payload);
    let mut out = vec![0x82];
    if payload.len() < 126 {
        out.push(0x80 | payload.len() as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&payload);
    out
}

/// One complete unmasked server frame at the start of `buf`: (payload, bytes used).
fn server_frame(buf: &[u8]) -> Option<(&[u8], usize)> {
    if buf.len() < 2 {
        return None;
    }
    let (len, header) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().ok()?) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    (buf.len() >= header + len).then(|| (&buf[header..header + len], header + len))
}

async fn users(chat: &Chat, n: u64) -> Vec<UserId> {
    let mut out = Vec::new();
    for i in 0..n {
        let id = UserId::new(chat.next_id());
        chat.store()
            .create_user(NewUser {
                id,
                username: format!("user{i}"),
                display_name: format!("User {i}"),
                password_hash: "x".into(),
                created_at: 1,
            })
            .await
            .unwrap();
        out.push(id);
    }
    out
}

async fn run(seed: u64) {
    let store: DynStore = Arc::new(SqliteStore::open_in_memory().unwrap());
    let mut sim = Sim::new(seed, 3, store);
    let people = users(&sim.chat, 12).await;
    let channel = sim
        .chat
        .create_channel(
            people[0],
            "sim",
            Some(Visibility::Public),
            people[1..8].to_vec(),
        )
        .await
        .unwrap()
        .id;
    for &user in &people[..8] {
        sim.connect(user, BTreeMap::new(), 0).await;
    }
    let mut sent: Vec<MessageId> = Vec::new();
    let mut pending = tokio::task::JoinSet::new();
    let mut late = 8;
    for round in 0..400 {
        if round % 7 == 0 {
            // Senders on every shard at once: their requests race to the sequencer.
            for _ in 0..3 {
                let from = people[sim.rng.gen_range(0..8)];
                let chat = sim.chat.clone();
                let content = format!("m{round}");
                pending.spawn_local(async move {
                    chat.send_message(
                        from,
                        SendMessage {
                            channel_id: channel,
                            content,
                            nonce: None,
                            reply_to: None,
                            attachment_ids: None,
                        },
                    )
                    .await
                    .unwrap()
                    .id
                });
            }
        }
        if round % 50 == 25 && late < people.len() {
            // Someone joins mid-stream (USER_JOINED makes their sessions follow).
            sim.chat.join_channel(people[late], channel).await.unwrap();
            late += 1;
        }
        if round % 60 == 30 {
            // A reconnect with positions: replayed from where it was.
            let i = sim.rng.gen_range(0..sim.clients.len());
            sim.check(&[]);
            // Only a client that got its READY knows where it is.
            if sim.clients[i].open && !sim.clients[i].at.is_empty() {
                let client = &sim.clients[i];
                let user = sim.shards[client.shard].0.conns[client.key].user;
                let positions = client.at.clone();
                let (shard, key, id) = (client.shard, client.key, client.id);
                // The same client, resumed: together its two connections must have
                // everything acknowledged since it first joined.
                let (joined_after, messages) = (client.joined_after, client.messages.clone());
                sim.clients[i].open = false;
                let state = &mut sim.shards[shard].0;
                if state.conn(key, id).is_some() {
                    state.remove(key);
                }
                if let Some(user) = user {
                    sim.connect(user, positions, joined_after).await;
                    if let Some(resumed) = sim.clients.last_mut() {
                        resumed.messages = messages;
                    }
                }
            }
        }
        while let Some(done) = pending.try_join_next() {
            sent.push(done.unwrap());
        }
        sim.step().await;
    }
    while let Some(done) = pending.join_next().await {
        sent.push(done.unwrap());
    }
    sim.settle_all().await;
    sim.check(&sent);
    assert!(
        sent.len() > 100,
        "the schedule sent {} messages",
        sent.len()
    );
}

#[test]
fn concurrent_senders_on_several_shards_every_session_sees_every_event_once_in_order() {
    for seed in 0..6 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, run(seed));
    }
}
