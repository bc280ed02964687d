//! Per-channel home state on this gateway: the recent-event buffer that replay reads.
//!
//! In the sharded gateway each channel has one home shard that owns this state; with
//! one shard it is simply a map. Offsets are assigned by storage (single node) or Redis
//! (cluster), never here: this only remembers what was published.

use std::collections::HashMap;
use std::sync::Arc;

use protocol::ChannelId;

use crate::core::replay::{Replay, ReplayBuffer};
use crate::fanout::encoded::EncodedEvent;

/// Recent events of every channel that had one since start.
#[derive(Debug)]
pub struct Channels {
    capacity: usize,
    buffers: HashMap<ChannelId, ReplayBuffer<Arc<EncodedEvent>>>,
}

impl Channels {
    /// Keeps the last `capacity` events of each channel.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffers: HashMap::new(),
        }
    }

    /// Remembers a published channel event.
    pub fn record(&mut self, channel: ChannelId, offset: u64, event: Arc<EncodedEvent>) {
        let capacity = self.capacity;
        self.buffers
            .entry(channel)
            .or_insert_with(|| ReplayBuffer::new(capacity))
            .push(offset, event);
    }

    /// What a client at `position` missed, given the stored offset `current`.
    pub fn replay(
        &self,
        channel: ChannelId,
        position: u64,
        current: u64,
    ) -> Option<Vec<Arc<EncodedEvent>>> {
        let empty = ReplayBuffer::new(1);
        let buffer = self.buffers.get(&channel).unwrap_or(&empty);
        match buffer.since(position, current) {
            Replay::Events(events) => Some(events.into_iter().cloned().collect()),
            Replay::Resync => None,
        }
    }

    /// Forgets a deleted channel.
    pub fn forget(&mut self, channel: ChannelId) {
        self.buffers.remove(&channel);
    }
}
