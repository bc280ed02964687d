//! The in-process bus (`layer4 dev`, one node): topic routing to bounded per-subscriber
//! queues, and a replay ring per channel.
//!
//! A publisher records a batch's channel events in their rings *before* it looks up
//! the subscribers, and a shard subscribes *before* it reads a ring: so every event is
//! either in the ring when a new subscriber catches up, or sent to it live (or both;
//! the shard drops repeats by offset). Queues are bounded: a shard that falls behind
//! makes publishers wait, it never loses a committed event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use protocol::ChannelId;
use tokio::sync::mpsc;

use crate::{
    Batch, Bus, BusError, Publication, Replay, ReplayRing, SubscriberId, Subscription, Topic,
};

/// Batches a subscriber may have waiting before publishers wait for it.
pub const SUBSCRIBER_QUEUE: usize = 4096;

/// Replay ring stripes: a publisher and a reader of two channels rarely share one.
const STRIPES: usize = 64;

type Rings = HashMap<ChannelId, ReplayRing<Arc<Publication>>>;

#[derive(Default)]
struct Routes {
    senders: HashMap<SubscriberId, mpsc::Sender<Batch>>,
    lost: HashMap<SubscriberId, mpsc::UnboundedSender<ChannelId>>,
    topics: HashMap<Topic, Vec<SubscriberId>>,
    /// Subscribers of every batch ([`LocalBus::watch_all`]).
    all: Vec<SubscriberId>,
}

/// The single-process bus.
pub struct LocalBus {
    routes: RwLock<Routes>,
    rings: Vec<Mutex<Rings>>,
    replay_capacity: usize,
    next_id: AtomicU64,
}

impl LocalBus {
    /// A bus keeping the last [`protocol::limits::REPLAY_BUFFER_EVENTS`] events of each channel.
    pub fn new() -> Self {
        Self::with_replay(protocol::limits::REPLAY_BUFFER_EVENTS)
    }

    /// A bus keeping the last `replay_capacity` events of each channel.
    pub fn with_replay(replay_capacity: usize) -> Self {
        Self {
            routes: RwLock::new(Routes::default()),
            rings: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect(),
            replay_capacity,
            next_id: AtomicU64::new(1),
        }
    }

    /// A subscriber of every batch, whatever its topics (tests, tools).
    pub fn watch_all(&self) -> Subscription {
        let subscription = self.subscriber();
        self.routes.write().all.push(subscription.id);
        subscription
    }

    fn stripe(&self, channel: ChannelId) -> &Mutex<Rings> {
        // Snowflake low bits are a sequence, high bits time: mix before taking the stripe.
        let mixed = channel.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        &self.rings[(mixed as usize) % STRIPES]
    }

    /// Keeps a channel event in its channel's replay ring without routing it (a
    /// cluster node filling its mirror from Redis).
    pub fn remember(&self, publication: &Arc<Publication>) {
        self.record(publication);
    }

    /// Drops what the replay ring of `channel` holds (a cluster node that stops
    /// following it: its ring would go stale).
    pub fn forget(&self, channel: ChannelId) {
        self.stripe(channel).lock().remove(&channel);
    }

    /// Tells the subscribers of `channel` that some of its events may not reach them
    /// (a cluster node lost its bus connection): their sessions must resume.
    pub fn lost(&self, channel: ChannelId) {
        let routes = self.routes.read();
        for id in routes
            .topics
            .get(&Topic::Channel(channel))
            .into_iter()
            .flatten()
        {
            if let Some(tx) = routes.lost.get(id) {
                let _ = tx.send(channel);
            }
        }
    }

    fn record(&self, publication: &Arc<Publication>) {
        let (Some(channel), Some(offset)) = (publication.channel(), publication.offset) else {
            return;
        };
        let capacity = self.replay_capacity;
        self.stripe(channel)
            .lock()
            .entry(channel)
            .or_insert_with(|| ReplayRing::new(capacity))
            .push(offset, publication.clone());
    }

    /// The subscribers a batch touches, each once.
    fn recipients(&self, batch: &Batch) -> Vec<mpsc::Sender<Batch>> {
        let routes = self.routes.read();
        let mut ids: Vec<SubscriberId> = routes.all.clone();
        for publication in batch.iter() {
            let mut add = |topic: Topic| {
                if let Some(subs) = routes.topics.get(&topic) {
                    ids.extend(subs.iter().copied());
                }
            };
            match &publication.target {
                crate::Target::Channel { channel, .. } => add(Topic::Channel(*channel)),
                crate::Target::Users(users) => users.iter().for_each(|u| add(Topic::User(*u))),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|id| routes.senders.get(id).cloned())
            .collect()
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, batch: Vec<Publication>) -> Result<(), BusError> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch: Batch = batch.into_iter().map(Arc::new).collect();
        for publication in batch.iter() {
            self.record(publication);
        }
        for sender in self.recipients(&batch) {
            // A closed receiver is a subscriber that went away: nothing to deliver.
            let _ = sender.send(batch.clone()).await;
        }
        Ok(())
    }

    fn subscriber(&self) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        let (lost_tx, lost) = mpsc::unbounded_channel();
        let mut routes = self.routes.write();
        routes.senders.insert(id, tx);
        routes.lost.insert(id, lost_tx);
        Subscription { id, rx, lost }
    }

    fn subscribe(&self, subscriber: SubscriberId, topic: Topic) {
        let mut routes = self.routes.write();
        let subs = routes.topics.entry(topic).or_default();
        if !subs.contains(&subscriber) {
            subs.push(subscriber);
        }
    }

    fn unsubscribe(&self, subscriber: SubscriberId, topic: Topic) {
        let mut routes = self.routes.write();
        if let Some(subs) = routes.topics.get_mut(&topic) {
            subs.retain(|s| *s != subscriber);
            if subs.is_empty() {
                routes.topics.remove(&topic);
            }
        }
    }

    fn remove_subscriber(&self, subscriber: SubscriberId) {
        let mut routes = self.routes.write();
        routes.senders.remove(&subscriber);
        routes.lost.remove(&subscriber);
        routes.all.retain(|s| *s != subscriber);
        routes.topics.retain(|_, subs| {
            subs.retain(|s| *s != subscriber);
            !subs.is_empty()
        });
    }

    fn replay(&self, channel: ChannelId, after: u64) -> Replay<Arc<Publication>> {
        match self.stripe(channel).lock().get(&channel) {
            Some(ring) => ring.after(after),
            None => Replay::Unknown,
        }
    }

    async fn ping(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use protocol::events::client::Empty;
    use protocol::events::ServerEvent;
    use protocol::UserId;

    use super::*;

    fn event(channel: u64, offset: u64) -> Publication {
        Publication::channel_event(ChannelId::new(channel), offset, ServerEvent::Pong(Empty {}))
    }

    #[tokio::test]
    async fn subscribers_get_the_batches_of_their_topics_in_order() {
        let bus = LocalBus::new();
        let mut a = bus.subscriber();
        let mut b = bus.subscriber();
        bus.subscribe(a.id, Topic::Channel(ChannelId::new(1)));
        bus.subscribe(b.id, Topic::User(UserId::new(7)));
        for s in 1..=3 {
            bus.publish(vec![event(1, s)]).await.unwrap();
        }
        let to_user = Publication::to_users(vec![UserId::new(7)], ServerEvent::Pong(Empty {}));
        bus.publish(vec![to_user]).await.unwrap();
        for s in 1..=3 {
            assert_eq!(a.rx.recv().await.unwrap()[0].offset, Some(s));
        }
        assert!(a.rx.try_recv().is_err(), "a does not follow user 7");
        assert_eq!(b.rx.recv().await.unwrap()[0].offset, None);
        assert!(b.rx.try_recv().is_err(), "b does not follow channel 1");
    }

    #[tokio::test]
    async fn a_batch_reaches_a_subscriber_once_even_if_it_touches_two_of_its_topics() {
        let bus = LocalBus::new();
        let mut a = bus.subscriber();
        bus.subscribe(a.id, Topic::Channel(ChannelId::new(1)));
        bus.subscribe(a.id, Topic::Channel(ChannelId::new(2)));
        bus.publish(vec![event(1, 1), event(2, 1)]).await.unwrap();
        assert_eq!(a.rx.recv().await.unwrap().len(), 2);
        assert!(a.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn replay_keeps_recent_channel_events_whoever_listens() {
        let bus = LocalBus::with_replay(3);
        for s in 1..=5 {
            bus.publish(vec![event(1, s)]).await.unwrap();
        }
        let offsets = |r: Replay<Arc<Publication>>| match r {
            Replay::Events(e) => e.iter().map(|p| p.offset.unwrap()).collect::<Vec<_>>(),
            Replay::Gap { .. } => vec![0],
            Replay::Unknown => vec![u64::MAX],
        };
        assert_eq!(offsets(bus.replay(ChannelId::new(1), 2)), [3, 4, 5]);
        assert_eq!(offsets(bus.replay(ChannelId::new(1), 1)), [0], "gap");
        assert_eq!(
            offsets(bus.replay(ChannelId::new(2), 0)),
            [u64::MAX],
            "unknown"
        );
    }

    #[tokio::test]
    async fn unsubscribed_and_removed_subscribers_get_nothing() {
        let bus = LocalBus::new();
        let mut a = bus.subscriber();
        let topic = Topic::Channel(ChannelId::new(1));
        bus.subscribe(a.id, topic);
        bus.unsubscribe(a.id, topic);
        bus.publish(vec![event(1, 1)]).await.unwrap();
        assert!(a.rx.try_recv().is_err());
        bus.subscribe(a.id, topic);
        bus.remove_subscriber(a.id);
        bus.publish(vec![event(1, 2)]).await.unwrap();
        assert!(a.rx.recv().await.is_none(), "the sender was dropped");
    }

    #[tokio::test]
    async fn lost_reaches_the_channels_subscribers_and_forget_empties_its_ring() {
        let bus = LocalBus::new();
        let mut a = bus.subscriber();
        let mut b = bus.subscriber();
        bus.subscribe(a.id, Topic::Channel(ChannelId::new(1)));
        bus.subscribe(b.id, Topic::Channel(ChannelId::new(2)));
        bus.remember(&Arc::new(event(1, 4)));
        assert!(matches!(bus.replay(ChannelId::new(1), 3), Replay::Events(e) if e.len() == 1));
        assert!(a.rx.try_recv().is_err(), "remember does not route");
        bus.lost(ChannelId::new(1));
        assert_eq!(a.lost.try_recv().unwrap(), ChannelId::new(1));
        assert!(b.lost.try_recv().is_err());
        bus.forget(ChannelId::new(1));
        assert_eq!(bus.replay(ChannelId::new(1), 3), Replay::Unknown);
    }

    #[tokio::test]
    async fn a_full_queue_makes_the_publisher_wait_not_drop() {
        let bus = Arc::new(LocalBus::new());
        let mut a = bus.subscriber();
        bus.subscribe(a.id, Topic::Channel(ChannelId::new(1)));
        for s in 1..=SUBSCRIBER_QUEUE as u64 {
            bus.publish(vec![event(1, s)]).await.unwrap();
        }
        let publisher = {
            let bus = bus.clone();
            tokio::spawn(async move { bus.publish(vec![event(1, 9999)]).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!publisher.is_finished(), "waits for room");
        a.rx.recv().await.unwrap();
        publisher.await.unwrap().unwrap();
    }
}
