//! The exactly-once checks every scenario runs, per recipient and per channel.
//!
//! PROTOCOL.md section 5: each channel event carries `s`, rising by exactly one per
//! event, and every member receives every event in order. So a member only needs its
//! last offset per channel: `s == last + 1` is fine, `s <= last` is a duplicate (or a
//! reordering), `s > last + 1` is a skipped event. "Every acknowledged message was
//! received" then reduces to "every member's last offset reached the highest offset of
//! any acknowledged message of that channel", which the senders learn by receiving their
//! own messages (they are members too); the coordinator merges those highest offsets
//! and every member drains until it reaches them or the stated deadline passes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::wire::Ready;

/// One member's view of one channel.
#[derive(Debug, Clone, Copy)]
struct Track {
    /// Offset announced by the first READY (what was there before this run).
    base: u64,
    /// Highest offset received (or announced by READY).
    last: u64,
}

/// A member's channels, with its offsets.
#[derive(Debug, Default)]
pub struct Tracks {
    channels: HashMap<u64, Track>,
}

/// What a channel event did to the checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The next offset, as it should be.
    InOrder,
    /// An offset at or below one already received.
    Duplicate,
    /// Offsets were skipped.
    Gap,
    /// A channel that READY did not list; tracking starts here.
    NewChannel,
}

impl Tracks {
    /// Takes READY's channels. On a reconnect a replayed channel keeps its last offset
    /// (the replay continues from it); a channel in `resync` restarts at READY's offset.
    /// Returns the number of channels resynced and an error text if READY's offset of a
    /// replayed channel is behind what this member already received.
    pub fn on_ready(&mut self, ready: &Ready) -> (u32, Option<String>) {
        let mut resynced = 0;
        let mut problem = None;
        for &(channel, offset) in &ready.channels {
            match self.channels.get_mut(&channel) {
                None => {
                    self.channels.insert(
                        channel,
                        Track {
                            base: offset,
                            last: offset,
                        },
                    );
                }
                Some(track) if ready.resync.contains(&channel) => {
                    track.last = track.last.max(offset);
                    resynced += 1;
                }
                Some(track) => {
                    if offset < track.last {
                        problem = Some(format!(
                            "READY offset {offset} of channel {channel} is behind the {} already received",
                            track.last
                        ));
                    }
                }
            }
        }
        (resynced, problem)
    }

    /// Checks one channel event.
    pub fn on_event(&mut self, channel: u64, s: u64) -> Verdict {
        match self.channels.get_mut(&channel) {
            None => {
                self.channels.insert(
                    channel,
                    Track {
                        base: s.saturating_sub(1),
                        last: s,
                    },
                );
                Verdict::NewChannel
            }
            Some(track) if s == track.last + 1 => {
                track.last = s;
                Verdict::InOrder
            }
            Some(track) if s <= track.last => Verdict::Duplicate,
            Some(track) => {
                track.last = s;
                Verdict::Gap
            }
        }
    }

    /// Offsets to resume from (IDENTIFY `positions`).
    pub fn positions(&self) -> Vec<(u64, u64)> {
        self.channels.iter().map(|(&c, t)| (c, t.last)).collect()
    }

    /// Whether this member reached every required offset of its channels.
    pub fn caught_up(&self, required: &HashMap<u64, u64>) -> bool {
        self.missing(required).is_empty()
    }

    /// Channels where this member is short of the required offset: (channel, last, required).
    pub fn missing(&self, required: &HashMap<u64, u64>) -> Vec<(u64, u64, u64)> {
        self.channels
            .iter()
            .filter_map(|(&c, t)| {
                let need = *required.get(&c)?;
                // A member that joined after the message (base above it) owes nothing.
                (t.last < need && t.base < need).then_some((c, t.last, need))
            })
            .collect()
    }
}

/// Check failures of a connection or a whole run: a count and a few examples.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Failures {
    /// How many.
    pub count: u64,
    /// The first few, as text.
    pub examples: Vec<String>,
}

/// Examples kept per [`Failures`].
const EXAMPLES: usize = 20;

impl Failures {
    /// Records one failure.
    pub fn add(&mut self, text: impl Into<String>) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(text.into());
        }
    }

    /// Merges another set.
    pub fn merge(&mut self, other: Failures) {
        self.count += other.count;
        for e in other.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(channels: &[(u64, u64)], resync: &[u64]) -> Ready {
        Ready {
            user: 1,
            channels: channels.to_vec(),
            resync: resync.to_vec(),
            heartbeat_ms: 30_000,
        }
    }

    #[test]
    fn contiguous_duplicate_and_gap() {
        let mut t = Tracks::default();
        t.on_ready(&ready(&[(7, 10)], &[]));
        assert_eq!(t.on_event(7, 11), Verdict::InOrder);
        assert_eq!(t.on_event(7, 11), Verdict::Duplicate);
        assert_eq!(t.on_event(7, 13), Verdict::Gap);
        assert_eq!(t.on_event(8, 1), Verdict::NewChannel);
    }

    #[test]
    fn drain_requires_the_highest_acknowledged_offset() {
        let mut t = Tracks::default();
        t.on_ready(&ready(&[(7, 10), (9, 0)], &[]));
        let required = HashMap::from([(7, 12), (5, 3)]);
        assert_eq!(t.missing(&required), vec![(7, 10, 12)]);
        t.on_event(7, 11);
        t.on_event(7, 12);
        assert!(t.caught_up(&required));
    }

    #[test]
    fn reconnect_keeps_replayed_channels_and_restarts_resynced_ones() {
        let mut t = Tracks::default();
        t.on_ready(&ready(&[(7, 10), (8, 5)], &[]));
        t.on_event(7, 11);
        let (resynced, problem) = t.on_ready(&ready(&[(7, 20), (8, 900)], &[8]));
        assert_eq!((resynced, problem), (1, None));
        assert_eq!(t.on_event(7, 12), Verdict::InOrder, "replay continues");
        assert_eq!(t.on_event(8, 901), Verdict::InOrder, "resync restarts");
        let (_, problem) = t.on_ready(&ready(&[(7, 3)], &[]));
        assert!(problem.is_some(), "offsets never go back");
    }
}
