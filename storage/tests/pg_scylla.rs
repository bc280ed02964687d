//! The PostgreSQL+ScyllaDB composite when history writes fail, on the local PostgreSQL
//! (`DATABASE_URL`, a schema per test) with the in-memory history failing writes on
//! purpose: the event is not acknowledged, its offset is a gap, what it did in
//! PostgreSQL is undone, and the channel goes on. Prints "skipped" without
//! `DATABASE_URL`. (The same checks against a real cluster need a way to make
//! ScyllaDB fail one write, which no test here has.)
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

#[path = "conformance/support.rs"]
#[allow(dead_code)]
mod support;

use std::sync::Arc;

use protocol::{Attachment, AttachmentId};
use storage::backend::pg_scylla::MemoryHistory;
use storage::backend::{PgScyllaStore, PostgresStore};
use storage::{AttachmentRecord, DynStore, EventWrite, Outcome, Page, SearchQuery, StoreError};
use support::{group, new_message, next_id, now_ms, offset, send, user};

/// The composite over a fresh schema and a history that can fail; `None` without a
/// `postgres://` `DATABASE_URL`.
async fn open() -> Option<(DynStore, Arc<MemoryHistory>, Schema)> {
    let (store, history, schema, _) = open_twice().await?;
    Some((store, history, schema))
}

/// [`open`], plus a second store (its own pool) on the same schema and history: a
/// second node.
async fn open_twice() -> Option<(DynStore, Arc<MemoryHistory>, Schema, DynStore)> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
        _ => {
            println!("skipped: DATABASE_URL unset or not postgres://");
            return None;
        }
    };
    let schema = format!("l4t_{}", support::token());
    let separator = if url.contains('?') { '&' } else { '?' };
    let with_schema = format!("{url}{separator}schema={schema}");
    let history = Arc::new(MemoryHistory::new());
    let pg = PostgresStore::connect(&with_schema).await.unwrap();
    let store: DynStore = Arc::new(PgScyllaStore::new(pg, history.clone()));
    let pg = PostgresStore::connect(&with_schema).await.unwrap();
    let other: DynStore = Arc::new(PgScyllaStore::new(pg, history.clone()));
    Some((store, history, Schema { url, name: schema }, other))
}

/// Drops the test's schema at the end.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// The plain PostgreSQL backend on this schema.
    async fn plain(&self) -> DynStore {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{separator}schema={}", self.url, self.name);
        Arc::new(PostgresStore::connect(&url).await.unwrap())
    }

    async fn drop_now(self) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .await
            .unwrap();
    }
}

/// An attachment `uploader` uploaded, not yet attached.
async fn upload(store: &DynStore, uploader: protocol::UserId) -> AttachmentId {
    let attachment: AttachmentId = next_id();
    store
        .create_attachment(AttachmentRecord {
            attachment: Attachment {
                id: attachment,
                filename: "a.txt".into(),
                content_type: "text/plain".into(),
                size: 3,
                url: format!("/media/{attachment}/a.txt"),
                width: None,
                height: None,
                thumbnail_url: None,
            },
            uploader_id: uploader,
            message_id: None,
            created_at: now_ms(),
        })
        .await
        .unwrap();
    attachment
}

fn search_for(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        limit: 10,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_history_write_is_not_acknowledged_and_leaves_a_gap() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let ann = user(&store).await;
    let bob = user(&store).await;
    let channel = group(&store, ann.id, &[bob.id]).await.id;
    let (first, _) = send(&store, channel, ann.id, "before").await;

    // An attachment the failed message claims, and a reaction that depends on it.
    let attachment = upload(&store, ann.id).await;
    let mut lost = new_message(channel, ann.id, "zebracorn lost");
    lost.attachment_ids = vec![attachment];
    lost.nonce = Some("n-lost".into());
    let lost_id = lost.id;
    history.fail_next_writes(1);
    let outcomes = store
        .append_events(vec![
            EventWrite::CreateMessage(lost.clone()),
            EventWrite::AddReaction {
                channel,
                message: lost_id,
                user: bob.id,
                emoji: "x".into(),
                max_distinct: 20,
            },
        ])
        .await
        .unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Err(StoreError::Unavailable(_)))),
        "{outcomes:?}"
    );
    // Both offsets were reserved: the channel moved by two, with nothing behind them.
    assert_eq!(offset(&store, channel).await, 3);
    assert_eq!(store.message(lost_id).await.unwrap(), None);
    // Undone in PostgreSQL: not searchable, not unread, not the last message, and the
    // attachment can be claimed again.
    assert_eq!(store.search(&search_for("zebracorn")).await.unwrap().1, 0);
    let seen = store.channel_for(channel, bob.id).await.unwrap().unwrap();
    assert_eq!(seen.unread_count, 1);
    assert_eq!(seen.last_message_id, Some(first.id));
    assert_eq!(
        store
            .attachment(attachment)
            .await
            .unwrap()
            .unwrap()
            .message_id,
        None
    );

    // The sender retries with the same nonce: stored now, attachment and all, at the
    // next offset (the gap stays).
    let (again, at) = store.create_message(lost).await.unwrap();
    assert_eq!(at, 4);
    assert_eq!(again.attachments.len(), 1);
    assert_eq!(store.search(&search_for("zebracorn")).await.unwrap().1, 1);
    let page = store.messages(channel, Page::Latest, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![lost_id, first.id]
    );
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_leaves_the_batchs_other_messages_acknowledged() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let ann = user(&store).await;
    let channel = group(&store, ann.id, &[]).await.id;
    let a = new_message(channel, ann.id, "first");
    let b = new_message(channel, ann.id, "second");
    history.fail_next_writes(1);
    let outcomes = store
        .append_events(vec![
            EventWrite::CreateMessage(a.clone()),
            EventWrite::CreateMessage(b.clone()),
        ])
        .await
        .unwrap();
    let failed: Vec<bool> = outcomes.iter().map(Result::is_err).collect();
    assert_eq!(failed.iter().filter(|f| **f).count(), 1, "{outcomes:?}");
    for (outcome, id) in outcomes.iter().zip([a.id, b.id]) {
        let stored = store.message(id).await.unwrap();
        match outcome {
            Ok(Outcome::Event { .. }) => assert!(stored.is_some()),
            Err(StoreError::Unavailable(_)) => assert!(stored.is_none()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(offset(&store, channel).await, 2);
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delete_is_retried_into_agreement() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let ann = user(&store).await;
    let bob = user(&store).await;
    let channel = group(&store, ann.id, &[bob.id]).await.id;
    let (message, _) = send(&store, channel, ann.id, "quokka").await;
    history.fail_next_writes(1);
    let err = store
        .delete_message(message.id, now_ms())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    // History still has it (the write failed); the retry finds it there and deletes.
    assert!(store
        .message(message.id)
        .await
        .unwrap()
        .unwrap()
        .deleted_at
        .is_none());
    let at = store.delete_message(message.id, now_ms()).await.unwrap();
    assert_eq!(at, Some(3));
    assert!(store
        .message(message.id)
        .await
        .unwrap()
        .unwrap()
        .deleted_at
        .is_some());
    assert_eq!(store.search(&search_for("quokka")).await.unwrap().1, 0);
    let seen = store.channel_for(channel, bob.id).await.unwrap().unwrap();
    assert_eq!((seen.unread_count, seen.last_message_id), (0, None));
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_one_channel_from_many_tasks_keep_history_and_offsets_in_step() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let ann = user(&store).await;
    let channel = group(&store, ann.id, &[]).await.id;
    // Writes as slow as a remote cluster's leave room for the next batch to read
    // history before the first one's rows are there.
    history.delay_writes(std::time::Duration::from_millis(50));
    // Every task sends the same message (same nonce): exactly one is stored, and
    // no batch misses it (the advisory lock keeps a batch from reading history
    // before the previous one's rows are written).
    let mut first = new_message(channel, ann.id, "once");
    first.nonce = Some("same".into());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, first) = (store.clone(), first.clone());
            tokio::spawn(async move {
                store
                    .append_events(vec![EventWrite::CreateMessage(first)])
                    .await
                    .unwrap()
                    .pop()
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut events = 0;
    for task in tasks {
        match task.await.unwrap() {
            Outcome::Event { .. } => events += 1,
            Outcome::Duplicate(m) => assert_eq!(m.id, first.id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(events, 1);
    assert_eq!(offset(&store, channel).await, 1);
    assert_eq!(
        store
            .messages(channel, Page::Latest, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_cancelled_midway_does_not_keep_its_channels_locked() {
    let Some((store, history, schema, other_node)) = open_twice().await else {
        return;
    };
    let ann = user(&store).await;
    let channel = group(&store, ann.id, &[]).await.id;
    history.delay_writes(std::time::Duration::from_millis(500));
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(100),
        store.append_events(vec![EventWrite::CreateMessage(new_message(
            channel, ann.id, "cut",
        ))]),
    )
    .await;
    assert!(cut.is_err(), "the batch was still writing history");
    history.delay_writes(std::time::Duration::ZERO);
    // Its connection was closed rather than pooled with the locks held: another node
    // gets the channel at once, after the reserved (and never written) offset 1.
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        other_node.create_message(new_message(channel, ann.id, "next")),
    )
    .await
    .expect("the channel's lock was freed")
    .unwrap();
    assert_eq!(next.1, 2);
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_reports_history_apart_from_postgres() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let names = |deps: &[(&str, storage::Result<()>)]| -> Vec<(String, bool)> {
        deps.iter()
            .map(|(name, answer)| ((*name).to_owned(), answer.is_ok()))
            .collect()
    };
    let up = store.dependencies().await;
    assert_eq!(
        names(&up),
        vec![("storage".into(), true), ("scylla".into(), true)]
    );
    history.set_down(true);
    let down = store.dependencies().await;
    assert_eq!(
        names(&down),
        vec![("storage".into(), true), ("scylla".into(), false)]
    );
    assert!(store.ping().await.is_err());
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_landed_after_all_is_healed_by_the_retry() {
    let Some((store, history, schema)) = open().await else {
        return;
    };
    let ann = user(&store).await;
    let bob = user(&store).await;
    let channel = group(&store, ann.id, &[bob.id]).await.id;
    let mut message = new_message(channel, ann.id, "wombat landed");
    message.nonce = Some("n-landed".into());
    history.land_next_failures(1);
    let err = store.create_message(message.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    // In history, but undone in PostgreSQL: not searchable, not unread.
    assert!(store.message(message.id).await.unwrap().is_some());
    assert_eq!(store.search(&search_for("wombat")).await.unwrap().1, 0);
    // The retry finds it by its nonce (a batch answers the duplicate) and puts its
    // index row back.
    let retried = store
        .append_events(vec![EventWrite::CreateMessage(message.clone())])
        .await
        .unwrap();
    assert!(
        matches!(&retried[..], [Ok(Outcome::Duplicate(m))] if m.id == message.id),
        "{retried:?}"
    );
    assert_eq!(store.search(&search_for("wombat")).await.unwrap().1, 1);
    let seen = store.channel_for(channel, bob.id).await.unwrap().unwrap();
    assert_eq!(
        (seen.unread_count, seen.last_message_id),
        (1, Some(message.id))
    );
    schema.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_channel_takes_its_messages_attachments_with_it() {
    let Some((composite, _history, schema)) = open().await else {
        return;
    };
    // Migration 0002 turned the attachments' foreign key into a trigger on both
    // message tables: the same cascade for either backend, threads included.
    let plain = schema.plain().await;
    for store in [&plain, &composite] {
        let ann = user(store).await;
        let channel = group(store, ann.id, &[]).await.id;
        let mut thread = support::new_group(ann.id, &[], &support::token());
        thread.kind = protocol::ChannelKind::Thread;
        thread.parent_id = Some(channel);
        let thread = store.create_channel(thread).await.unwrap().id;
        let kept = upload(store, ann.id).await;
        let mut attached = Vec::new();
        for place in [channel, thread] {
            let attachment = upload(store, ann.id).await;
            let mut message = new_message(place, ann.id, "with a file");
            message.attachment_ids = vec![attachment];
            store.create_message(message).await.unwrap();
            attached.push(attachment);
        }
        assert!(store.delete_channel(channel).await.unwrap());
        for attachment in attached {
            assert_eq!(store.attachment(attachment).await.unwrap(), None);
        }
        assert!(store.attachment(kept).await.unwrap().is_some());
    }
    schema.drop_now().await;
}
