//! What a shard counts: sessions for [`crate::Gateway::sessions`], and the pipeline's
//! Prometheus metrics (events in and out, fanout time, replay, slow consumers).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counters of one shard; `sessions` is shared by every shard of the gateway.
#[derive(Debug)]
pub(crate) struct ShardMetrics {
    pub shard: String,
    pub sessions: Arc<AtomicUsize>,
}

impl ShardMetrics {
    pub fn connection_opened(&self) {
        metrics::gauge!("gateway_connections", "shard" => self.shard.clone()).increment(1.0);
    }

    pub fn connection_closed(&self) {
        metrics::gauge!("gateway_connections", "shard" => self.shard.clone()).decrement(1.0);
    }

    pub fn session_joined(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub fn session_left(&self) {
        self.sessions.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn queued(&self, bytes: usize) {
        metrics::gauge!("gateway_queued_bytes", "shard" => self.shard.clone()).set(bytes as f64);
    }

    pub fn batch(&self, publications: usize, deliveries: u64, seconds: f64) {
        let shard = self.shard.clone();
        metrics::counter!("gateway_events_in_total", "shard" => shard.clone())
            .increment(publications as u64);
        metrics::counter!("gateway_deliveries_total", "shard" => shard.clone())
            .increment(deliveries);
        metrics::histogram!("gateway_fanout_seconds", "shard" => shard).record(seconds);
    }
}
