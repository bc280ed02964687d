//! The in-process bus: striped channel locks and one unbounded queue per subscriber.
//!
//! Unbounded on purpose: a channel event, once stored, must reach every gateway; the
//! gateway bounds memory per connection instead (4 MiB, then close 4010).

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use protocol::ChannelId;
use tokio::sync::mpsc;

use crate::{Bus, ChannelLock, Publication, Subscription};

/// Number of lock stripes. Two channels may share a stripe (then their writers wait
/// for each other); one channel always maps to the same stripe.
const STRIPES: usize = 1024;

/// The single-process bus.
pub struct LocalBus {
    stripes: Vec<Arc<tokio::sync::Mutex<()>>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Arc<Publication>>>>,
}

impl LocalBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        Self {
            stripes: (0..STRIPES)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
            subscribers: Mutex::new(Vec::new()),
        }
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn lock_channel(&self, channel: ChannelId) -> ChannelLock {
        // Snowflake low bits are a sequence, high bits time: mix before taking the stripe.
        let mixed = channel.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let stripe = &self.stripes[(mixed as usize) % STRIPES];
        ChannelLock {
            _guard: stripe.clone().lock_owned().await,
        }
    }

    fn publish(&self, publication: Publication) {
        let publication = Arc::new(publication);
        self.subscribers
            .lock()
            .retain(|tx| tx.send(publication.clone()).is_ok());
    }

    fn subscribe(&self) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers.lock().push(tx);
        rx
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

    #[tokio::test]
    async fn every_subscriber_gets_every_publication_in_order() {
        let bus = LocalBus::new();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        for i in 0..3 {
            bus.publish(Publication::to_users(
                vec![UserId::new(i)],
                ServerEvent::Pong(Empty {}),
            ));
        }
        for rx in [&mut a, &mut b] {
            for i in 0..3 {
                let p = rx.recv().await.unwrap();
                assert_eq!(p.target, crate::Target::Users(vec![UserId::new(i)]));
            }
        }
    }

    #[tokio::test]
    async fn a_dropped_subscriber_is_forgotten() {
        let bus = LocalBus::new();
        drop(bus.subscribe());
        bus.publish(Publication::to_users(vec![], ServerEvent::Pong(Empty {})));
        assert!(bus.subscribers.lock().is_empty());
    }

    #[tokio::test]
    async fn one_writer_per_channel() {
        let bus = Arc::new(LocalBus::new());
        let lock = bus.lock_channel(ChannelId::new(7)).await;
        let bus2 = bus.clone();
        let waiter = tokio::spawn(async move { bus2.lock_channel(ChannelId::new(7)).await });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(lock);
        waiter.await.unwrap();
    }
}
