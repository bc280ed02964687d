//! Where a session starts following a channel, and what it is replayed (PROTOCOL.md
//! section 4.3): a channel is replayed completely or listed in `resync`, never partly,
//! and live events continue exactly after the offset the session is told.
//!
//! The inputs: `stored`, the channel offset read from storage for READY (or carried by
//! `CHANNEL_CREATED`); `followed`, the offset up to which this shard already delivers
//! the channel (`None` when no local session follows it yet); `position`, where the
//! client says it is; and what the bus's replay ring holds after
//! [`Plan::ring_after`]. The shard delivers every live event above the offset it
//! follows, so a session joining at that offset meets the live stream exactly.

use bus::Replay;

/// What a session gets for one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<T> {
    /// The channel offset to announce; live events continue after it. When the shard
    /// did not follow the channel, it follows it from here.
    pub offset: u64,
    /// Events after `position` up to `offset`, to send right after READY.
    pub replay: Vec<T>,
    /// The gap could not be replayed: list the channel in `resync`.
    pub resync: bool,
    /// The client is ahead of what this shard delivered so far: live events up to this
    /// offset are still on their way here and must be skipped for this session.
    pub floor: Option<u64>,
}

impl<T> Plan<T> {
    /// The offset to ask the ring for events after.
    pub fn ring_after(stored: u64, position: Option<u64>) -> u64 {
        position.map_or(stored, |p| p.min(stored))
    }

    /// Decides, given the ring's events after [`Self::ring_after`] (each with its
    /// offset, contiguous and ascending as the ring keeps them).
    pub fn new(
        stored: u64,
        followed: Option<u64>,
        position: Option<u64>,
        ring: Replay<(u64, T)>,
    ) -> Self {
        let after = Self::ring_after(stored, position);
        let (events, newest, published) = match ring {
            // Nothing newer than `after` published yet: what storage has beyond it is
            // still on its way.
            Replay::Events(events) => {
                let newest = events.last().map_or(after, |(s, _)| *s);
                (Some(events), newest, Some(newest))
            }
            Replay::Gap { newest } => (None, newest, Some(newest)),
            Replay::Unknown => (Some(Vec::new()), after, None),
        };
        // A followed channel is delivered live above `followed`. An unfollowed one is
        // followed from the newest offset published: the shard subscribed before it
        // read the ring, so everything after that (committed or not yet) comes live.
        // With nothing published since start, storage's offset is where it stands.
        let offset = followed.unwrap_or(published.unwrap_or(stored));
        let plain = |offset, resync| Self {
            offset,
            replay: Vec::new(),
            resync,
            floor: None,
        };
        let Some(position) = position else {
            return plain(offset, false);
        };
        if position > offset {
            if followed.is_some() && position <= stored.max(newest) {
                // This shard lags behind the client (it was on another node or shard):
                // continue from the client's position, skipping what arrives up to it.
                return Self {
                    offset: position,
                    replay: Vec::new(),
                    resync: false,
                    floor: Some(position),
                };
            }
            return plain(offset, true);
        }
        if position == offset {
            return plain(offset, false);
        }
        let resync = plain(offset, true);
        let Some(events) = events else {
            return resync;
        };
        // The ring starts at after + 1 <= position + 1; it must reach `offset`.
        if newest < offset {
            return resync;
        }
        let replay = events
            .into_iter()
            .filter(|(s, _)| *s > position && *s <= offset)
            .map(|(_, e)| e)
            .collect();
        Self {
            offset,
            replay,
            resync: false,
            floor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(range: std::ops::RangeInclusive<u64>) -> Replay<(u64, u64)> {
        Replay::Events(range.map(|s| (s, s)).collect())
    }

    #[test]
    fn a_new_follower_without_position_starts_at_the_newest_offset() {
        // Storage said 10; 11 and 12 were already published: they will not come live.
        let plan = Plan::new(10, None, None, ring(11..=12));
        assert_eq!(
            (plan.offset, plan.replay.len(), plan.resync),
            (12, 0, false)
        );
        // Storage is ahead of the ring (13 committed, not yet published): it comes
        // live, after the announced 12.
        let plan = Plan::<u64>::new(13, None, None, ring(11..=12));
        assert_eq!(plan.offset, 12);
        // A reconnect in that moment is replayed up to 12, and gets 13 live.
        let plan = Plan::new(13, None, Some(9), ring(10..=12));
        assert_eq!(
            (plan.offset, plan.replay, plan.resync),
            (12, vec![10, 11, 12], false)
        );
        // Nothing published since start: storage's offset.
        let plan = Plan::<u64>::new(13, None, None, Replay::Unknown);
        assert_eq!(plan.offset, 13);
        // Published up to (at most) the client's position, storage ahead: the rest is
        // on its way, the client continues from its position.
        let plan = Plan::<u64>::new(60, None, Some(57), Replay::Events(vec![]));
        assert_eq!(
            (plan.offset, plan.replay.len(), plan.resync),
            (57, 0, false)
        );
    }

    #[test]
    fn a_followed_channel_is_announced_at_the_shards_offset() {
        let plan = Plan::<u64>::new(10, Some(8), None, ring(9..=10));
        assert_eq!(plan.offset, 8, "9 and 10 are still on their way live");
        let plan = Plan::new(10, Some(12), Some(10), ring(11..=12));
        assert_eq!((plan.offset, plan.replay), (12, vec![11, 12]));
    }

    #[test]
    fn positions_are_replayed_completely_or_resynced() {
        assert_eq!(
            Plan::new(10, None, Some(7), ring(5..=10)).replay,
            [8, 9, 10]
        );
        assert!(Plan::<u64>::new(10, None, Some(7), Replay::Gap { newest: 10 }).resync);
        assert!(Plan::new(10, None, Some(11), ring(1..=10)).resync, "ahead");
        assert!(
            Plan::new(10, Some(8), Some(11), ring(1..=10)).resync,
            "ahead"
        );
        let current = Plan::new(10, None, Some(10), ring(1..=10));
        assert_eq!((current.replay.len(), current.resync), (0, false));
        // The ring does not reach what the shard already delivered: resync.
        assert!(Plan::new(10, Some(14), Some(7), ring(8..=12)).resync);
    }

    #[test]
    fn a_client_ahead_of_a_lagging_shard_continues_from_its_position() {
        // Storage is at 35, this shard delivered up to 13, the client saw 22.
        let plan = Plan::new(35, Some(13), Some(22), ring(23..=35));
        assert_eq!(
            (plan.offset, plan.replay.len(), plan.resync, plan.floor),
            (22, 0, false, Some(22))
        );
    }

    #[test]
    fn an_unknown_channel_replays_nothing_but_a_current_client() {
        assert!(!Plan::<u64>::new(5, None, Some(5), Replay::Unknown).resync);
        assert!(Plan::<u64>::new(5, None, Some(4), Replay::Unknown).resync);
    }
}
