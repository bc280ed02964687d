//! The outbox task: writes queued batches to Redis in order, retrying until Redis
//! takes them.
//!
//! Each round takes every batch queued (up to a bound) and sends ONE pipeline: the
//! channel events into their replay sets (ZADD by offset, trimmed to
//! [`super::REPLAY_SET_EVENTS`], TTL refreshed), then one PUBLISH per topic. The sets
//! are written before the PUBLISH, so a node that hears an event and then reads the
//! set finds it there. A failed round is retried as a whole with backoff: a ZADD of the
//! same member is idempotent, and receivers drop a repeated channel offset.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use protocol::ChannelId;
use tokio::sync::mpsc;

use super::keys::Keys;
use super::wire;
use crate::{Batch, Publication, Target};

/// Batches sent in one pipeline, at most.
const BATCHES_PER_ROUND: usize = 256;

/// Retry delays: from the first to the longest.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Runs until every sender is gone and the queue is empty.
pub(super) async fn run(
    mut conn: redis::aio::ConnectionManager,
    keys: Keys,
    mut rx: mpsc::Receiver<Batch>,
) {
    let mut round: Vec<Batch> = Vec::new();
    while let Some(first) = rx.recv().await {
        round.push(first);
        while round.len() < BATCHES_PER_ROUND {
            match rx.try_recv() {
                Ok(more) => round.push(more),
                Err(_) => break,
            }
        }
        let pipe = pipeline(&keys, &round);
        let mut delay = RETRY_FIRST;
        loop {
            let sent: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
            match sent {
                Ok(()) => break,
                Err(err) => {
                    metrics::counter!("bus_redis_publish_retries_total").increment(1);
                    tracing::warn!(error = %err, queued = rx.len(), "Redis publish failed; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
        metrics::counter!("bus_redis_published_batches_total").increment(round.len() as u64);
        round.clear();
    }
}

/// The pipeline of one round.
pub(super) fn pipeline(keys: &Keys, round: &[Batch]) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    let mut touched: BTreeSet<ChannelId> = BTreeSet::new();
    for batch in round {
        for p in batch.iter() {
            if let (Target::Channel { channel, except }, Some(offset)) = (&p.target, p.offset) {
                let member = wire::channel_entry(*channel, except, p);
                pipe.cmd("ZADD")
                    .arg(keys.replay_set(*channel))
                    .arg(offset)
                    .arg(member)
                    .ignore();
                touched.insert(*channel);
            }
        }
    }
    let keep = super::REPLAY_SET_EVENTS as i64;
    for channel in touched {
        let key = keys.replay_set(channel);
        pipe.cmd("ZREMRANGEBYRANK")
            .arg(&key)
            .arg(0)
            .arg(-(keep + 1))
            .ignore();
        pipe.cmd("EXPIRE")
            .arg(&key)
            .arg(super::REPLAY_SET_TTL.as_secs())
            .ignore();
    }
    for batch in round {
        let all: Vec<Arc<Publication>> = batch.iter().cloned().collect();
        for message in wire::messages(&all, &|t| keys.topic(t)) {
            pipe.cmd("PUBLISH")
                .arg(message.topic)
                .arg(message.body)
                .ignore();
        }
    }
    pipe
}
