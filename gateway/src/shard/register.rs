//! A session that passed IDENTIFY joins fanout (PROTOCOL.md section 4.2-4.3).
//!
//! In one synchronous step on the shard, with nothing delivered in between: follow
//! (and subscribe) each channel of READY before reading the bus's replay ring, decide
//! each channel's announced offset and replay with [`Plan`], then send READY and the
//! replay. Live events then continue exactly after each announced offset.

use std::collections::BTreeMap;
use std::sync::Arc;

use bus::{Publication, Replay, Topic};
use protocol::events::server::Ready;
use protocol::{Channel, ChannelId, User, UserId};
use service::PresenceGuard;

use crate::core::replay::Plan;
use crate::fanout::encoded::Framed;
use crate::fanout::index::ConnKey;
use crate::shard::state::ShardState;

/// What IDENTIFY loaded.
pub(crate) struct Identified {
    pub user: User,
    pub presence: PresenceGuard,
    pub channels: Vec<Channel>,
    pub blocked: Vec<UserId>,
    pub positions: BTreeMap<ChannelId, u64>,
}

impl ShardState {
    /// Registers an identified session and sends READY and its replay.
    pub fn register(&mut self, key: ConnKey, identified: Identified, heartbeat_interval_ms: u64) {
        let Identified {
            user,
            presence,
            mut channels,
            blocked,
            positions,
        } = identified;
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.session.is_closing() {
            return;
        }
        conn.user = Some(user.id);
        conn.presence = Some(presence);
        let (session_id, encoding) = (conn.id, conn.encoding);
        if self.index.add_user(user.id, key) {
            self.bus.subscribe(self.subscriber, Topic::User(user.id));
        }
        self.metrics.session_joined();

        let mut resync = Vec::new();
        let mut replay: Vec<Arc<Publication>> = Vec::new();
        for channel in &mut channels {
            let followed = self.index.channel(channel.id).map(|f| f.last);
            // Follow (subscribe) before reading the ring: what the ring does not have
            // yet then arrives live.
            self.follow(key, channel.id, channel.offset);
            let position = positions.get(&channel.id).copied();
            let after = Plan::<()>::ring_after(channel.offset, position);
            let ring = offsets(self.bus.replay(channel.id, after));
            let plan = Plan::new(channel.offset, followed, position, ring);
            if followed.is_none() {
                if let Some(f) = self.index.channel_mut(channel.id) {
                    f.last = plan.offset;
                }
            }
            channel.offset = plan.offset;
            if let Some(floor) = plan.floor {
                self.conns[key].add_floor(channel.id, floor);
            }
            if plan.resync {
                resync.push(channel.id);
                metrics::counter!("gateway_resyncs_total").increment(1);
            } else if !plan.replay.is_empty() {
                metrics::counter!("gateway_replayed_events_total")
                    .increment(plan.replay.len() as u64);
            }
            replay.extend(plan.replay);
        }
        let ready = Ready {
            session_id: session_id.to_string(),
            user: user.clone(),
            channels,
            blocked_user_ids: blocked,
            heartbeat_interval_ms,
            resync,
        };
        let conn = &mut self.conns[key];
        conn.session.handle_ready(user.id, ready);
        for p in replay {
            conn.session.handle_frame(Framed::new(p).frame(encoding));
        }
    }
}

/// The ring's events with their offsets.
pub(crate) fn offsets(ring: Replay<Arc<Publication>>) -> Replay<(u64, Arc<Publication>)> {
    match ring {
        Replay::Events(events) => Replay::Events(
            events
                .into_iter()
                .filter_map(|p| p.offset.map(|s| (s, p)))
                .collect(),
        ),
        Replay::Gap { newest } => Replay::Gap { newest },
        Replay::Unknown => Replay::Unknown,
    }
}
