//! PostgreSQL-only behaviour that the shared conformance suite cannot reach: the bulk
//! path of a batch falling back to one item at a time when its write fails, and
//! several nodes migrating one schema at once. Skipped without `DATABASE_URL`. (The
//! attachments' cascade of migration 0002 is checked in `pg_scylla.rs`.)
#![allow(clippy::disallowed_methods)] // batches are appended directly, as the sequencer does
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::backend::PostgresStore;
use storage::{
    ChannelStore, EventStore, EventWrite, MessageStore, NewChannel, NewMessage, NewUser, Outcome,
    UserStore,
};

/// The server's URL, or `None` (and a note) when the tests are skipped.
fn server() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") => Some(url),
        _ => {
            println!("skipped: DATABASE_URL unset (or not postgres://)");
            None
        }
    }
}

/// A fresh id, unique across tests and runs.
fn fresh() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let ms = u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    (ms << 20) + NEXT.fetch_add(1, Ordering::Relaxed) * 1_000
}

/// A connection outside any store (for raw SQL and cleanup).
async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn message(
    id: u64,
    channel: ChannelId,
    author: UserId,
    content: &str,
    nonce: Option<&str>,
) -> EventWrite {
    EventWrite::CreateMessage(NewMessage {
        id: MessageId::new(id),
        channel_id: channel,
        author_id: author,
        content: content.into(),
        created_at: id,
        reply_to: None,
        nonce: nonce.map(str::to_owned),
        attachment_ids: Vec::new(),
    })
}

/// A trigger makes the bulk `INSERT` fail on one message: the batch writes its
/// messages again one by one, the poisoned one fails alone, the others keep
/// contiguous offsets, and a duplicate nonce still answers the first message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_bulk_write_falls_back_to_one_item_at_a_time() {
    let Some(url) = server() else {
        return;
    };
    let base = fresh();
    let schema = format!("l4pg_{base}");
    let store = PostgresStore::connect(&format!("{url}?schema={schema}"))
        .await
        .unwrap();
    let admin = raw(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION {schema}.poison() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'poisoned'; END $$;
             CREATE TRIGGER poison BEFORE INSERT ON {schema}.messages
                 FOR EACH ROW WHEN (NEW.content = 'poison') EXECUTE FUNCTION {schema}.poison();"
        ))
        .await
        .unwrap();
    let ann = UserId::new(base);
    store
        .create_user(NewUser {
            id: ann,
            username: format!("p{base}"),
            display_name: "Ann".into(),
            password_hash: "h".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    let channel = ChannelId::new(base + 1);
    store
        .create_channel(NewChannel {
            id: channel,
            kind: ChannelKind::Group,
            name: "g".into(),
            visibility: Visibility::Private,
            parent_id: None,
            root_message_id: None,
            owner_id: ann,
            member_ids: Vec::new(),
            created_at: 0,
        })
        .await
        .unwrap();

    let out = store
        .append_events(vec![
            message(base + 10, channel, ann, "one", Some("n")),
            message(base + 11, channel, ann, "poison", None),
            message(base + 12, channel, ann, "three", None),
            message(base + 13, channel, ann, "again", Some("n")),
        ])
        .await
        .unwrap();
    assert_eq!(out[0].as_ref().unwrap().offset(), Some(1));
    assert!(out[1].is_err(), "{:?}", out[1]);
    assert_eq!(out[2].as_ref().unwrap().offset(), Some(2));
    match &out[3] {
        Ok(Outcome::Duplicate(first)) => assert_eq!(first.id, MessageId::new(base + 10)),
        other => panic!("{other:?}"),
    }
    assert!(store
        .message(MessageId::new(base + 11))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .message(MessageId::new(base + 13))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .message(MessageId::new(base + 12))
        .await
        .unwrap()
        .is_some());
    let record = store.channel(channel).await.unwrap().unwrap();
    assert_eq!(record.offset, 2);
    assert_eq!(record.last_message_id, Some(MessageId::new(base + 12)));

    // And the bulk path works again afterwards.
    let out = store
        .append_events(vec![
            message(base + 20, channel, ann, "four", None),
            message(base + 21, channel, ann, "five", None),
        ])
        .await
        .unwrap();
    let offsets: Vec<_> = out.iter().map(|r| r.as_ref().unwrap().offset()).collect();
    assert_eq!(offsets, vec![Some(3), Some(4)]);

    drop(store);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

/// Four nodes migrating one new schema at once: the advisory lock makes one apply the
/// migrations and the others find them applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_apply_once() {
    let Some(url) = server() else {
        return;
    };
    let schema = format!("l4pg_{}", fresh());
    let with_schema = format!("{url}?schema={schema}");
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let url = with_schema.clone();
            tokio::spawn(async move { PostgresStore::migrate_only(&url).await })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.push(run.await.unwrap().unwrap());
    }
    applied.sort_unstable();
    assert_eq!(applied[..3], [0, 0, 0], "{applied:?}");
    assert!(applied[3] > 0, "{applied:?}");
    assert_eq!(PostgresStore::migrate_only(&with_schema).await.unwrap(), 0);
    raw(&url)
        .await
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
