//! The Redis bus against a real Redis (`REDIS_URL`), as two nodes of one cluster:
//! two `RedisBus` values under one fresh key prefix. Skipped, saying so, without
//! `REDIS_URL`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bus::{Bus, Publication, RedisBus, RedisConfig, Replay, Subscription, Topic};
use protocol::events::client::Empty;
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};

fn url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: REDIS_URL unset (the Redis bus needs a Redis server)");
            None
        }
    }
}

/// A prefix no other test or run uses.
fn prefix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "l4test:{}:{now}:{}:",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

async fn node(url: &str, prefix: &str) -> RedisBus {
    RedisBus::connect(RedisConfig {
        url: url.to_owned(),
        prefix: prefix.to_owned(),
        replay_capacity: 1024,
    })
    .await
    .unwrap()
}

fn event(channel: u64, offset: u64) -> Publication {
    Publication::channel_event(ChannelId::new(channel), offset, ServerEvent::Pong(Empty {}))
}

/// The channel offsets `sub` receives until `until` arrives (or 5 s pass).
async fn offsets_until(sub: &mut Subscription, until: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while seen.last() != Some(&until) {
        let batch = tokio::time::timeout_at(deadline, sub.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out at {seen:?}, waiting for {until}"))
            .unwrap();
        seen.extend(batch.iter().filter_map(|p| p.offset));
    }
    seen
}

#[tokio::test]
async fn a_subscriber_on_another_node_gets_every_event_once_in_order() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut on_b = b.subscriber();
    let mut on_a = a.subscriber();
    b.subscribe(on_b.id, Topic::Channel(ChannelId::new(1)));
    a.subscribe(on_a.id, Topic::Channel(ChannelId::new(1)));
    b.settled().await;
    a.settled().await;
    for s in 1..=50 {
        a.publish(vec![event(1, s)]).await.unwrap();
    }
    assert_eq!(
        offsets_until(&mut on_b, 50).await,
        (1..=50).collect::<Vec<_>>()
    );
    assert_eq!(
        offsets_until(&mut on_a, 50).await,
        (1..=50).collect::<Vec<_>>(),
        "the publisher's node hears its own events through Redis too"
    );
    assert!(matches!(b.replay(ChannelId::new(1), 45), Replay::Events(e) if e.len() == 5));
    assert!(a.ping().await && b.ping().await);
}

#[tokio::test]
async fn events_from_two_nodes_are_put_back_in_offset_order() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut sub = b.subscriber();
    b.subscribe(sub.id, Topic::Channel(ChannelId::new(2)));
    b.settled().await;
    a.publish(vec![event(2, 1)]).await.unwrap();
    assert_eq!(offsets_until(&mut sub, 1).await, [1]);
    // Offset 4 and 3 (node A) overtake 2 (node B).
    a.publish(vec![event(2, 4)]).await.unwrap();
    a.publish(vec![event(2, 3)]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    b.publish(vec![event(2, 2)]).await.unwrap();
    assert_eq!(offsets_until(&mut sub, 4).await, [2, 3, 4]);
}

#[tokio::test]
async fn a_hole_nobody_fills_is_crossed_after_the_give_up_time() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let a = node(&url, &prefix).await;
    let mut sub = a.subscriber();
    a.subscribe(sub.id, Topic::Channel(ChannelId::new(3)));
    a.settled().await;
    a.publish(vec![event(3, 1)]).await.unwrap();
    assert_eq!(offsets_until(&mut sub, 1).await, [1]);
    // Offset 2 never comes (its node died between commit and publish).
    a.publish(vec![event(3, 3)]).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(offsets_until(&mut sub, 3).await, [3]);
    assert!(started.elapsed() >= bus::redis::reorder::GIVE_UP);
}

#[tokio::test]
async fn a_new_subscription_and_a_new_node_see_what_was_published_before() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let a = node(&url, &prefix).await;
    for s in 1..=5 {
        a.publish(vec![event(4, s)]).await.unwrap();
    }
    // Let the outbox write them.
    a.settled().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b = node(&url, &prefix).await;
    b.prepare(&[ChannelId::new(4)]).await;
    assert!(
        matches!(b.replay(ChannelId::new(4), 2), Replay::Events(e) if e.len() == 3),
        "a resuming client is replayed on any node"
    );
    let mut sub = b.subscriber();
    b.subscribe(sub.id, Topic::Channel(ChannelId::new(4)));
    b.settled().await;
    a.publish(vec![event(4, 6)]).await.unwrap();
    assert_eq!(
        offsets_until(&mut sub, 6).await,
        (1..=6).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn user_topics_reach_each_user_once() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut sub = b.subscriber();
    b.subscribe(sub.id, Topic::User(UserId::new(7)));
    b.subscribe(sub.id, Topic::User(UserId::new(8)));
    b.settled().await;
    let to_both = Publication::to_users(
        vec![UserId::new(7), UserId::new(8), UserId::new(9)],
        ServerEvent::Pong(Empty {}),
    );
    a.publish(vec![to_both]).await.unwrap();
    let mut users = Vec::new();
    while users.len() < 2 {
        let batch = tokio::time::timeout(Duration::from_secs(5), sub.rx.recv())
            .await
            .unwrap()
            .unwrap();
        for p in batch.iter() {
            if let bus::Target::Users(u) = &p.target {
                users.extend(u.iter().copied());
            }
        }
    }
    users.sort_unstable();
    assert_eq!(users, [UserId::new(7), UserId::new(8)]);
}

#[tokio::test]
async fn after_its_connection_drops_a_node_catches_up_or_says_the_channel_is_lost() {
    let Some(url) = url() else { return };
    let prefix = prefix();
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut sub = b.subscriber();
    let (caught_up, lost) = (ChannelId::new(5), ChannelId::new(6));
    b.subscribe(sub.id, Topic::Channel(caught_up));
    b.subscribe(sub.id, Topic::Channel(lost));
    b.settled().await;
    a.publish(vec![event(5, 1), event(6, 1)]).await.unwrap();
    // One message per topic: two batches.
    assert_eq!(offsets_until(&mut sub, 1).await, [1]);
    assert_eq!(offsets_until(&mut sub, 1).await, [1]);

    // Cut every pub/sub connection of this prefix's nodes (only B has one).
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .unwrap_or(());
    // While B is away: 2..=3 on one channel (the set keeps them), 2..=400 on the other
    // (the set keeps only the last 256).
    a.publish(vec![event(5, 2), event(5, 3)]).await.unwrap();
    let burst: Vec<Publication> = (2..=400).map(|s| event(6, s)).collect();
    a.publish(burst).await.unwrap();

    let signalled = tokio::time::timeout(Duration::from_secs(10), sub.lost.recv())
        .await
        .expect("the lost channel is signalled")
        .unwrap();
    assert_eq!(signalled, lost);
    let mut on_caught_up = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while on_caught_up.last() != Some(&3) {
        let batch = tokio::time::timeout_at(deadline, sub.rx.recv())
            .await
            .unwrap()
            .unwrap();
        on_caught_up.extend(
            batch
                .iter()
                .filter(|p| p.channel() == Some(caught_up))
                .filter_map(|p| p.offset),
        );
    }
    assert_eq!(on_caught_up, [2, 3], "caught up from the set, once each");
    assert!(
        sub.lost.try_recv().is_err(),
        "only the channel that lost events"
    );
}
