//! Times `channels_for_user` (the READY channel list) for members of one busy channel:
//! 20,000 messages by five authors, every 47th deleted, in a file-backed store with
//! readers (as `layer4 dev` runs it) in a temporary folder. Viewers who never posted: one
//! who never read the channel, one who read half of it, one who read all of it; and one
//! of the authors (4,000 own messages) who never read it.
//!
//! `cargo run --release -p storage --example unread_timing [messages] [iterations]`.
// Builds its data with the raw batched write (clippy.toml bans it outside the sequencer).
#![allow(clippy::disallowed_methods)]
#![allow(missing_docs)]

use std::time::Instant;

use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::backend::SqliteStore;
use storage::{
    ChannelStore, EventStore, EventWrite, NewChannel, NewMessage, NewUser, ReceiptStore, UserStore,
};

const AUTHORS: u64 = 5;
/// Members who only read: users AUTHORS + 1 ..= AUTHORS + READERS.
const READERS: u64 = 3;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let messages: u64 = args.next().map_or(20_000, |n| n.parse().expect("messages"));
    let iterations: u32 = args
        .next()
        .map_or(2_000, |n| n.parse().expect("iterations"));

    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(&dir.path().join("timing.db")).expect("a sqlite store");
    for n in 1..=AUTHORS + READERS {
        store
            .create_user(NewUser {
                id: UserId::new(n),
                username: format!("u{n}"),
                display_name: format!("User {n}"),
                password_hash: "x".into(),
                created_at: 0,
            })
            .await
            .expect("a user");
    }
    let channel = ChannelId::new(100);
    store
        .create_channel(NewChannel {
            id: channel,
            kind: ChannelKind::Group,
            name: "busy".into(),
            visibility: Visibility::Private,
            parent_id: None,
            root_message_id: None,
            owner_id: UserId::new(1),
            member_ids: (2..=AUTHORS + READERS).map(UserId::new).collect(),
            created_at: 0,
        })
        .await
        .expect("the channel");
    let built = Instant::now();
    let ids: Vec<u64> = (0..messages).map(|n| 1_000_000 + n).collect();
    for chunk in ids.chunks(512) {
        let batch = chunk
            .iter()
            .map(|&n| {
                EventWrite::CreateMessage(NewMessage {
                    id: MessageId::new(n),
                    channel_id: channel,
                    author_id: UserId::new(1 + n % AUTHORS),
                    content: "The quick brown fox jumps over the lazy dog.".into(),
                    created_at: n,
                    reply_to: None,
                    nonce: None,
                    attachment_ids: Vec::new(),
                })
            })
            .collect();
        store.append_events(batch).await.expect("messages");
    }
    let deletes = ids
        .iter()
        .step_by(47)
        .map(|&n| EventWrite::DeleteMessage {
            channel,
            id: MessageId::new(n),
            deleted_at: n,
        })
        .collect();
    store.append_events(deletes).await.expect("deletes");
    let half = MessageId::new(ids[ids.len() / 2]);
    let last = MessageId::new(*ids.last().expect("messages"));
    let (never, halfway, all) = (AUTHORS + 1, AUTHORS + 2, AUTHORS + 3);
    store
        .mark_read(channel, UserId::new(halfway), half)
        .await
        .expect("a receipt");
    store
        .mark_read(channel, UserId::new(all), last)
        .await
        .expect("a receipt");
    println!(
        "{messages} messages built in {:.1?}; {iterations} calls per viewer",
        built.elapsed()
    );

    for (viewer, what) in [
        (never, "never read"),
        (halfway, "read half"),
        (all, "read all"),
        (1, "author, never read"),
    ] {
        let viewer = UserId::new(viewer);
        let unread = store.channels_for_user(viewer).await.expect("channels")[0].unread_count;
        let started = Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(store.channels_for_user(viewer).await.expect("channels"));
        }
        let per_call = started.elapsed() / iterations;
        println!(
            "channels_for_user, {what:>18}: unread_count {unread:>6}, {per_call:>10.1?} per call"
        );
    }
}
