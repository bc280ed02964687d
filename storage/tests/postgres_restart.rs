//! PostgreSQL restarted under load: every acknowledged append is still there afterwards,
//! offsets never go back, errors while it is down are `Unavailable` (never a panic or
//! an internal error), and the store recovers by itself.
//!
//! Ignored by default: it restarts the machine's PostgreSQL server, which would break
//! every other test using it at the same time. `.ci/run` runs it alone, after the main
//! tests: `cargo test -p storage --test postgres_restart -- --ignored`.
#![allow(clippy::disallowed_methods)] // the writer appends directly, as the sequencer does
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use protocol::{ChannelId, ChannelKind, MessageId, UserId, Visibility};
use storage::backend::PostgresStore;
use storage::{
    ChannelStore, EventStore, EventWrite, MessageStore, NewChannel, NewMessage, NewUser, Outcome,
    Store, StoreError, UserStore,
};

/// Channels written to in every batch.
const CHANNELS: usize = 4;
/// Messages per batch.
const BATCH: usize = 32;

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Restarts the local cluster (`pg_ctlcluster VERSION main restart`).
fn restart_postgres() {
    let versions = std::fs::read_dir("/etc/postgresql").expect("a local PostgreSQL cluster");
    let version = versions
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .max()
        .expect("a PostgreSQL version folder");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "restart"])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart failed: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the PostgreSQL server: run alone with --ignored (.ci/run does)"]
async fn restart_under_load_loses_no_acknowledged_append() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!("skipped: DATABASE_URL unset");
        return;
    };
    let base = now_ms() << 20;
    let schema = format!("l4restart_{base}");
    let store = Arc::new(
        PostgresStore::connect(&format!("{url}?schema={schema}"))
            .await
            .unwrap(),
    );
    let ann = UserId::new(base);
    store
        .create_user(NewUser {
            id: ann,
            username: format!("r{base}"),
            display_name: "Ann".into(),
            password_hash: "h".into(),
            created_at: now_ms(),
        })
        .await
        .unwrap();
    let mut channels = Vec::new();
    for i in 0..CHANNELS {
        let id = ChannelId::new(base + 1 + i as u64);
        store
            .create_channel(NewChannel {
                id,
                kind: ChannelKind::Group,
                name: format!("g{i}"),
                visibility: Visibility::Private,
                parent_id: None,
                root_message_id: None,
                owner_id: ann,
                member_ids: Vec::new(),
                created_at: now_ms(),
            })
            .await
            .unwrap();
        channels.push(id);
    }

    // The writer: batches until told to stop, recording every acknowledged message with
    // its offset, and every error.
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let writer = {
        let store = Arc::clone(&store);
        let channels = channels.clone();
        tokio::spawn(async move {
            let mut next = base + 1_000;
            let mut acked: Vec<(ChannelId, MessageId, u64)> = Vec::new();
            let mut errors: Vec<StoreError> = Vec::new();
            while !*stop_rx.borrow_and_update() {
                let batch: Vec<EventWrite> = (0..BATCH)
                    .map(|i| {
                        next += 1;
                        EventWrite::CreateMessage(NewMessage {
                            id: MessageId::new(next),
                            channel_id: channels[i % CHANNELS],
                            author_id: ann,
                            content: format!("m{next}"),
                            created_at: now_ms(),
                            reply_to: None,
                            nonce: None,
                            attachment_ids: Vec::new(),
                        })
                    })
                    .collect();
                match store.append_events(batch.clone()).await {
                    Ok(outcomes) => {
                        for (item, outcome) in batch.iter().zip(outcomes) {
                            let (EventWrite::CreateMessage(new), Ok(Outcome::Event { offset, .. })) =
                                (item, outcome)
                            else {
                                panic!("an item of a committed batch failed");
                            };
                            acked.push((new.channel_id, new.id, offset));
                        }
                    }
                    Err(err) => {
                        errors.push(err);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            (acked, errors)
        })
    };

    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let restarting = Instant::now();
    tokio::task::spawn_blocking(restart_postgres).await.unwrap();
    println!("pg_ctlcluster restart took {:?}", restarting.elapsed());
    let restarted = Instant::now();
    // Recovery: the writer must succeed again after the restart.
    let recovered = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if store.ping().await.is_ok() {
            break restarted.elapsed();
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "the store did not recover"
        );
    };
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stop_tx.send(true).unwrap();
    let (acked, errors) = writer.await.unwrap();
    println!(
        "{} acknowledged, {} failed batches, recovered {recovered:?} after the restart",
        acked.len(),
        errors.len()
    );
    for err in &errors {
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    }

    // Offsets only rise, per channel, in the order acknowledged.
    let mut last: HashMap<ChannelId, u64> = HashMap::new();
    for &(channel, _, offset) in &acked {
        let previous = last.insert(channel, offset).unwrap_or(0);
        assert!(offset > previous, "{channel}: {offset} after {previous}");
    }
    // Every acknowledged message is there (one query), and no channel's offset is
    // behind them.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let ids: Vec<i64> = acked
        .iter()
        .map(|&(_, id, _)| i64::try_from(id.get()).unwrap())
        .collect();
    let found = client
        .query_one(
            &format!("SELECT COUNT(*) FROM {schema}.messages WHERE id = ANY($1)"),
            &[&ids],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(
        usize::try_from(found).unwrap(),
        acked.len(),
        "acknowledged messages are gone"
    );
    for (channel, offset) in &last {
        let record = store.channel(*channel).await.unwrap().unwrap();
        assert!(record.offset >= *offset, "{channel} went back");
    }
    // And the store writes after it all.
    let after = store
        .create_message(NewMessage {
            id: MessageId::new(base + 999),
            channel_id: channels[0],
            author_id: ann,
            content: "after".into(),
            created_at: now_ms(),
            reply_to: None,
            nonce: None,
            attachment_ids: Vec::new(),
        })
        .await
        .unwrap();
    assert!(after.1 > last[&channels[0]]);
    assert!(
        acked.len() > BATCH * 2,
        "too little load: {} acknowledged",
        acked.len()
    );

    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
