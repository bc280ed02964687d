//! The ScyllaDB history against a real cluster: writes, reads, pages across buckets,
//! edits, deletes, reactions and idempotent retries.
//!
//! Runs when `SCYLLA_URI` is set (e.g. `scylla://127.0.0.1:9042?replication_factor=1`
//! for one local node), in a keyspace of its own per run that it drops at the end;
//! prints "skipped: SCYLLA_URI unset" otherwise. The URI checks and the unreachable
//! cluster run everywhere.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use protocol::{Attachment, AttachmentId, ChannelId, MessageId, UserId};
use storage::backend::scylla::bucket::{bucket_of, first_id_of};
use storage::backend::scylla::{ReactionState, ScyllaHistory, StoredMessage};
use storage::{Edit, NewMessage, Page, StoreError};

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A fresh id for users and channels (unique across runs, below 2^63).
fn fresh<M>() -> protocol::Id<M> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let _ = NEXT.compare_exchange(0, now_ms() << 20, Ordering::Relaxed, Ordering::Relaxed);
    protocol::Id::new(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A channel under test with its own offset counter (PostgreSQL's job in production).
struct Channel {
    id: ChannelId,
    offset: u64,
}

impl Channel {
    fn new() -> Self {
        Self {
            id: fresh(),
            offset: 0,
        }
    }

    fn reserve(&mut self) -> u64 {
        self.offset += 1;
        self.offset
    }

    /// Writes a message with id `id`, answering it as stored.
    async fn send(
        &mut self,
        history: &ScyllaHistory,
        id: MessageId,
        author: UserId,
        content: &str,
    ) -> StoredMessage {
        let new = NewMessage {
            id,
            channel_id: self.id,
            author_id: author,
            content: content.into(),
            created_at: now_ms(),
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        };
        let stored = StoredMessage::new(new, Vec::new(), self.reserve());
        history.write_message(&stored).await.unwrap();
        stored
    }
}

/// The history, or `None` (having said so) when `SCYLLA_URI` is unset.
async fn open() -> Option<(ScyllaHistory, String)> {
    let Ok(uri) = std::env::var("SCYLLA_URI") else {
        eprintln!("skipped: SCYLLA_URI unset");
        return None;
    };
    let keyspace = format!("l4test_{}_{}", std::process::id(), now_ms());
    let history = ScyllaHistory::connect(&uri, &keyspace).await.unwrap();
    Some((history, keyspace))
}

#[tokio::test]
async fn bad_uris_and_keyspaces_are_refused_before_connecting() {
    for (uri, keyspace) in [
        ("postgres://db", "layer4"),
        ("scylla://db:0", "layer4"),
        ("scylla://db", "Bad-Name"),
    ] {
        let err = ScyllaHistory::connect(uri, keyspace).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{uri}: {err:?}");
    }
}

#[tokio::test]
async fn an_unreachable_cluster_is_unavailable() {
    // Port 1 on the loopback: refused at once, nothing listens there.
    let connect = ScyllaHistory::connect("scylla://127.0.0.1:1", "layer4");
    let err = tokio::time::timeout(Duration::from_secs(60), connect)
        .await
        .expect("gives up in time")
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(
        matches!(&err, StoreError::Unavailable(t) if t.contains("127.0.0.1:1")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_against_a_cluster() {
    let Some((history, keyspace)) = open().await else {
        return;
    };
    assert_eq!(
        history.migrate().await.unwrap(),
        Vec::<i32>::new(),
        "applied once"
    );
    write_read_and_retry(&history).await;
    pages_across_buckets(&history).await;
    edits_and_deletes(&history).await;
    reactions(&history).await;
    unread_and_channel_delete(&history).await;
    history.ping().await.unwrap();
    drop(history);
    // The keyspace of this run goes with it.
    let uri = std::env::var("SCYLLA_URI").unwrap();
    drop_keyspace(&uri, &keyspace).await;
}

async fn drop_keyspace(uri: &str, keyspace: &str) {
    let nodes = storage::backend::scylla::uri::parse_uri(uri).unwrap();
    let mut builder =
        scylla::client::session_builder::SessionBuilder::new().known_nodes(&nodes.nodes);
    if let Some((user, password)) = &nodes.credentials {
        builder = builder.user(user, password);
    }
    let session = builder.build().await.unwrap();
    session
        .query_unpaged(format!("DROP KEYSPACE IF EXISTS {keyspace}"), ())
        .await
        .unwrap();
}

async fn write_read_and_retry(history: &ScyllaHistory) {
    let mut channel = Channel::new();
    let (ann, bob) = (fresh::<protocol::ids::UserMarker>(), fresh());
    let id = MessageId::new(protocol::snowflake::first_id_at(now_ms()) | 7);
    let attachment = Attachment {
        id: AttachmentId::new(99),
        filename: "cat.png".into(),
        content_type: "image/png".into(),
        size: 2048,
        url: "/media/99/cat.png".into(),
        width: Some(64),
        height: Some(48),
        thumbnail_url: Some("/media/99/thumbnail".into()),
    };
    let created_at = now_ms();
    let new = NewMessage {
        id,
        channel_id: channel.id,
        author_id: ann,
        content: "hello ✓".into(),
        created_at,
        reply_to: Some(MessageId::new(5)),
        nonce: Some("n-1".into()),
        attachment_ids: vec![attachment.id],
    };
    let stored = StoredMessage::new(new, vec![attachment], channel.reserve());
    history.write_message(&stored).await.unwrap();
    assert_eq!(history.message(id).await.unwrap(), Some(stored.clone()));
    assert_eq!(history.channel_of(id).await.unwrap(), Some(channel.id));
    // The same write again (a retry after a timeout) is the same row.
    history.write_message(&stored).await.unwrap();
    assert_eq!(history.message(id).await.unwrap(), Some(stored.clone()));
    let page = history
        .messages(channel.id, Page::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page, vec![stored.clone()]);

    assert_eq!(
        history.nonce_owner(channel.id, ann, "n-1").await.unwrap(),
        Some(id)
    );
    assert_eq!(
        history.nonce_owner(channel.id, bob, "n-1").await.unwrap(),
        None
    );
    let found = |since| history.message_by_nonce(channel.id, ann, "n-1", since);
    assert_eq!(found(created_at - 1).await.unwrap(), Some(stored.clone()));
    assert_eq!(found(created_at).await.unwrap(), Some(stored.clone()));
    assert_eq!(found(created_at + 1).await.unwrap(), None);
    assert_eq!(
        history.message(MessageId::new(id.get() + 1)).await.unwrap(),
        None
    );
    assert!(history
        .messages(fresh(), Page::Latest, 10)
        .await
        .unwrap()
        .is_empty());
}

/// The conformance suite's pagination, with the messages spread over three buckets:
/// two adjacent and one far newer, so every page crosses a bucket edge.
async fn pages_across_buckets(history: &ScyllaHistory) {
    let mut channel = Channel::new();
    let ann = fresh();
    let base = bucket_of(protocol::snowflake::first_id_at(now_ms()));
    let edge = first_id_of(base);
    let ids: Vec<MessageId> = [
        edge - 4,
        edge - 3,
        edge - 2,
        edge - 1,
        edge,
        edge + 1,
        edge + 2,
        first_id_of(base + 30),
        first_id_of(base + 30) + 1,
        first_id_of(base + 31),
    ]
    .into_iter()
    .map(MessageId::new)
    .collect();
    // Written out of order, as concurrent nodes may.
    for &i in &[3usize, 0, 9, 1, 2, 4, 8, 5, 7, 6] {
        channel.send(history, ids[i], ann, &format!("m{i}")).await;
    }
    let m = &ids;
    let offset = channel.reserve();
    history
        .write_delete(channel.id, m[5], now_ms(), offset)
        .await
        .unwrap();
    let page = |p: Page, limit: u32| async move {
        history
            .messages(channel.id, p, limit)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(Page::Latest, 3).await, vec![m[9], m[8], m[7]]);
    assert_eq!(page(Page::Latest, 100).await.len(), 9);
    assert_eq!(page(Page::Before(m[7]), 3).await, vec![m[6], m[4], m[3]]);
    assert_eq!(page(Page::Before(m[1]), 5).await, vec![m[0]]);
    assert_eq!(page(Page::After(m[3]), 3).await, vec![m[7], m[6], m[4]]);
    assert_eq!(page(Page::After(m[8]), 5).await, vec![m[9]]);
    assert!(page(Page::After(m[9]), 5).await.is_empty());
    assert_eq!(
        page(Page::Around(m[4]), 5).await,
        vec![m[7], m[6], m[4], m[3], m[2]]
    );
    assert_eq!(page(Page::Around(m[4]), 1).await, vec![m[4]]);
    assert_eq!(page(Page::Around(m[5]), 3).await, vec![m[6], m[4], m[3]]);
    assert_eq!(page(Page::Around(m[0]), 4).await, vec![m[1], m[0]]);
    let all = page(Page::Around(m[6]), 100).await;
    assert_eq!(all.len(), 9);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert_eq!(history.latest(channel.id).await.unwrap(), Some(m[9]));
}

async fn edits_and_deletes(history: &ScyllaHistory) {
    let mut channel = Channel::new();
    let ann = fresh();
    let id = MessageId::new(protocol::snowflake::first_id_at(now_ms()));
    let older = channel
        .send(history, MessageId::new(id.get() - 1), ann, "older")
        .await;
    let sent = channel.send(history, id, ann, "v1").await;
    assert!(history.edits(id).await.unwrap().is_empty());
    let (t1, t2) = (sent.created_at + 10, sent.created_at + 20);
    let first = channel.reserve();
    let v2 = history.write_edit(&sent, "v2", t1, first).await.unwrap();
    assert_eq!((v2.content.as_str(), v2.edited_at), ("v2", Some(t1)));
    let second = channel.reserve();
    let v3 = history.write_edit(&v2, "v3", t2, second).await.unwrap();
    // Late retries of the create and of the first edit change nothing.
    history.write_message(&sent).await.unwrap();
    history.write_edit(&sent, "v2", t1, first).await.unwrap();
    let read = history.message(id).await.unwrap().unwrap();
    assert_eq!(read, v3);
    assert_eq!(read.content, "v3");
    assert_eq!(
        history.edits(id).await.unwrap(),
        vec![
            Edit {
                content: "v1".into(),
                edited_at: t1
            },
            Edit {
                content: "v2".into(),
                edited_at: t2
            },
        ]
    );

    let deleted_at = now_ms();
    let offset = channel.reserve();
    history
        .write_delete(channel.id, id, deleted_at, offset)
        .await
        .unwrap();
    let record = history.message(id).await.unwrap().unwrap();
    assert_eq!(record.deleted_at, Some(deleted_at));
    assert_eq!(record.content, "v3", "a soft delete keeps the row");
    assert_eq!(history.latest(channel.id).await.unwrap(), Some(older.id));
    let page = history
        .messages(channel.id, Page::Latest, 10)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![older.id]
    );
    // A retried edit from before the delete does not undelete.
    history.write_edit(&v2, "v3", t2, second).await.unwrap();
    assert_eq!(
        history.message(id).await.unwrap().unwrap().deleted_at,
        Some(deleted_at)
    );
}

async fn reactions(history: &ScyllaHistory) {
    let mut channel = Channel::new();
    let (ann, bob, cat) = (fresh(), fresh(), fresh());
    let id = MessageId::new(protocol::snowflake::first_id_at(now_ms()));
    let plain_id = MessageId::new(id.get() + 1);
    channel.send(history, id, ann, "react to me").await;
    channel.send(history, plain_id, ann, "no reactions").await;
    let counts = |id: MessageId| async move {
        history
            .message(id)
            .await
            .unwrap()
            .unwrap()
            .reactions
            .into_iter()
            .map(|r| (r.emoji, r.count))
            .collect::<Vec<_>>()
    };
    let pairs = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
        list.iter().map(|&(e, c)| (e.to_owned(), c)).collect()
    };
    let first = react(history, &mut channel, id, ann, "👍").await;
    react(history, &mut channel, id, bob, "❤️").await;
    react(history, &mut channel, id, cat, "👍").await;
    assert_eq!(counts(id).await, pairs(&[("👍", 2), ("❤️", 1)]));
    assert_eq!(
        history
            .reaction_state(channel.id, id, ann, "👍")
            .await
            .unwrap(),
        ReactionState {
            mine: true,
            emoji_present: true,
            distinct: 2
        }
    );
    assert_eq!(
        history
            .reaction_state(channel.id, id, ann, "🎉")
            .await
            .unwrap(),
        ReactionState {
            mine: false,
            emoji_present: false,
            distinct: 2
        }
    );
    react(history, &mut channel, id, ann, "❤️").await;
    for user in [ann, cat] {
        let offset = channel.reserve();
        history
            .remove_reaction(channel.id, id, user, "👍", offset)
            .await
            .unwrap();
    }
    // A late retry of the first add does not bring it back.
    history
        .write_reaction(channel.id, id, ann, "👍", first)
        .await
        .unwrap();
    let page = history
        .messages(channel.id, Page::Latest, 10)
        .await
        .unwrap();
    let listed = page.iter().find(|m| m.id == id).unwrap();
    assert_eq!(listed.reactions.len(), 1);
    assert_eq!(listed.reactions[0].count, 2);
    assert!(page
        .iter()
        .find(|m| m.id == plain_id)
        .unwrap()
        .reactions
        .is_empty());
    react(history, &mut channel, id, bob, "🎉").await;
    assert_eq!(
        counts(id).await,
        pairs(&[("❤️", 2), ("🎉", 1)]),
        "new emoji last"
    );
}

/// Adds a reaction as a new event of `channel`, answering its offset.
async fn react(
    history: &ScyllaHistory,
    channel: &mut Channel,
    message: MessageId,
    user: UserId,
    emoji: &str,
) -> u64 {
    let offset = channel.reserve();
    history
        .write_reaction(channel.id, message, user, emoji, offset)
        .await
        .unwrap();
    offset
}

async fn unread_and_channel_delete(history: &ScyllaHistory) {
    let mut channel = Channel::new();
    let (ann, bob) = (fresh(), fresh());
    let start = protocol::snowflake::first_id_at(now_ms());
    let mut ids = Vec::new();
    for i in 0..6u64 {
        let author = if i % 2 == 0 { ann } else { bob };
        let message = channel
            .send(history, MessageId::new(start + i), author, "x")
            .await;
        ids.push(message.id);
    }
    let channel_id = channel.id;
    let unread = |after, viewer, cap| history.count_unread(channel_id, after, viewer, cap);
    assert_eq!(unread(None, ann, 100).await.unwrap(), 3);
    assert_eq!(unread(Some(ids[1]), ann, 100).await.unwrap(), 2);
    assert_eq!(unread(Some(ids[1]), bob, 100).await.unwrap(), 2);
    assert_eq!(unread(Some(ids[5]), bob, 100).await.unwrap(), 0);
    assert_eq!(unread(None, bob, 2).await.unwrap(), 2, "capped");
    let offset = channel.reserve();
    history
        .write_delete(channel.id, ids[3], now_ms(), offset)
        .await
        .unwrap();
    assert_eq!(unread(Some(ids[1]), ann, 100).await.unwrap(), 1);

    history
        .delete_channel(channel.id, channel.offset)
        .await
        .unwrap();
    assert!(history
        .messages(channel.id, Page::Latest, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(history.message(ids[0]).await.unwrap(), None);
    assert_eq!(history.channel_of(ids[0]).await.unwrap(), None);
}
