//! Who is a member of which channel, cached for the hot paths (DESIGN.md idea 3:
//! "membership cached per shard; invalidated by join/leave events").
//!
//! A send, a typing event or a fetch must check that the caller is a member; reading
//! that from storage costs two queries per request, as much as the group commit of the
//! message itself. The cache keeps (channel kind, role) per (channel, user) for a short
//! time. Every membership change this process commits (join, leave, removal, channel
//! deletion) drops the entry at once, so on one node it is exact; a change made by
//! another process (a separate `layer4 api` without the Redis bus) is seen within
//! [`TTL`]. Only members are cached: a refusal always asks storage again.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use protocol::{ChannelId, ChannelKind, Role, UserId};
use tokio::time::Instant;

/// How long an entry is trusted without a change seen by this process.
pub const TTL: Duration = Duration::from_secs(5);

/// Stripes of the cache (a lock each), so shards rarely wait for each other.
const STRIPES: usize = 64;

/// Entries per stripe before expired ones are swept (and, if still full, new ones are
/// simply not cached).
const MAX_PER_STRIPE: usize = 4096;

type Stripe = HashMap<(ChannelId, UserId), (Instant, ChannelKind, Role)>;

/// The membership cache of one process.
pub(crate) struct MembersCache {
    stripes: Vec<Mutex<Stripe>>,
}

impl MembersCache {
    pub(crate) fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn stripe(&self, channel: ChannelId) -> &Mutex<Stripe> {
        let mixed = channel.get().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        &self.stripes[(mixed as usize) % STRIPES]
    }

    /// The cached kind and role of a member, if fresh.
    pub(crate) fn get(&self, channel: ChannelId, user: UserId) -> Option<(ChannelKind, Role)> {
        let stripe = self.stripe(channel).lock();
        let (at, kind, role) = stripe.get(&(channel, user))?;
        (at.elapsed() < TTL).then_some((*kind, *role))
    }

    /// Remembers a member read from storage.
    pub(crate) fn insert(&self, channel: ChannelId, user: UserId, kind: ChannelKind, role: Role) {
        let mut stripe = self.stripe(channel).lock();
        if stripe.len() >= MAX_PER_STRIPE {
            stripe.retain(|_, (at, _, _)| at.elapsed() < TTL);
            if stripe.len() >= MAX_PER_STRIPE {
                return;
            }
        }
        stripe.insert((channel, user), (Instant::now(), kind, role));
    }

    /// A member joined, left or was removed.
    pub(crate) fn forget(&self, channel: ChannelId, user: UserId) {
        self.stripe(channel).lock().remove(&(channel, user));
    }

    /// A channel was deleted.
    pub(crate) fn forget_channel(&self, channel: ChannelId) {
        self.stripe(channel)
            .lock()
            .retain(|(c, _), _| *c != channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn members_are_cached_until_a_change_or_the_ttl() {
        let cache = MembersCache::new();
        let (c, u) = (ChannelId::new(1), UserId::new(2));
        assert_eq!(cache.get(c, u), None);
        cache.insert(c, u, ChannelKind::Group, Role::Member);
        assert_eq!(cache.get(c, u), Some((ChannelKind::Group, Role::Member)));
        cache.forget(c, u);
        assert_eq!(cache.get(c, u), None);
        cache.insert(c, u, ChannelKind::Group, Role::Admin);
        cache.forget_channel(c);
        assert_eq!(cache.get(c, u), None);
        cache.insert(c, u, ChannelKind::Group, Role::Member);
        tokio::time::advance(TTL).await;
        assert_eq!(cache.get(c, u), None, "expired");
    }
}
