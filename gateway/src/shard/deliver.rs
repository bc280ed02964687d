//! Delivering a bus batch to this shard's sessions (DESIGN.md idea 3, last two steps).
//!
//! Channel events are delivered in offset order exactly once: an offset at or below
//! what the shard already delivered is dropped, a jump is filled from the bus's replay
//! ring first (or, if the ring lost it, the channel's sessions are closed with 4000 so
//! they resume with `positions`: never a silent gap). Membership events keep the index
//! current: a joiner's sessions follow the channel from its join, a leaver's stop after
//! its leave. Frames are pushed on each recipient's queue; the caller flushes the dirty
//! connections once per batch.

use std::sync::Arc;

use bus::{Publication, Replay, Target};
use protocol::events::ServerEvent;
use protocol::{ChannelId, CloseCode, UserId};

use crate::core::replay::Plan;
use crate::fanout::encoded::Framed;
use crate::fanout::index::ConnKey;
use crate::shard::state::ShardState;

impl ShardState {
    /// Delivers every publication of a batch; returns the number of frames queued.
    pub fn deliver(&mut self, batch: &[Arc<Publication>]) -> u64 {
        let mut delivered = 0;
        for publication in batch {
            delivered += self.deliver_one(publication);
        }
        delivered
    }

    fn deliver_one(&mut self, publication: &Arc<Publication>) -> u64 {
        match (&publication.target, publication.offset) {
            (Target::Channel { channel, .. }, Some(offset)) => {
                self.channel_event(*channel, offset, publication)
            }
            (Target::Channel { channel, except }, None) => {
                let framed = Framed::new(publication.clone());
                self.push_channel(*channel, &framed, except, None)
            }
            (Target::Users(users), _) => self.user_event(users, publication),
        }
    }

    fn channel_event(&mut self, channel: ChannelId, offset: u64, p: &Arc<Publication>) -> u64 {
        if let ServerEvent::UserJoined(joined) = &p.event {
            self.joined(channel, joined.user.id, offset);
        }
        let Some(last) = self.index.channel(channel).map(|f| f.last) else {
            return 0;
        };
        if offset <= last {
            return 0;
        }
        let mut delivered = 0;
        if offset > last + 1 {
            match self.bus.replay(channel, last) {
                Replay::Events(missed)
                    if missed.first().and_then(|m| m.offset) == Some(last + 1) =>
                {
                    for m in missed
                        .iter()
                        .filter(|m| m.offset.is_some_and(|s| s < offset))
                    {
                        delivered += self.channel_event_in_order(channel, m);
                    }
                }
                _ => self.lost(channel, offset),
            }
        }
        delivered += self.channel_event_in_order(channel, p);
        if let ServerEvent::UserLeft(left) = &p.event {
            for key in self.index.user_sessions(left.user_id).to_vec() {
                self.unfollow(key, channel);
            }
        }
        delivered
    }

    /// Delivers the next channel event (its offset is `last + 1`).
    fn channel_event_in_order(&mut self, channel: ChannelId, p: &Arc<Publication>) -> u64 {
        let Some(followed) = self.index.channel_mut(channel) else {
            return 0;
        };
        if let Some(offset) = p.offset {
            followed.last = offset;
        }
        let framed = Framed::new(p.clone());
        self.push_channel(channel, &framed, &[], p.offset)
    }

    /// The ring lost events the shard never saw: the channel's sessions resume with
    /// `positions` (and get `resync`) rather than miss them silently.
    fn lost(&mut self, channel: ChannelId, offset: u64) {
        tracing::warn!(%channel, offset, "channel events lost between bus and shard; closing its sessions 4000");
        metrics::counter!("gateway_channel_gaps_total").increment(1);
        for key in self.channel_keys(channel) {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.session.close(CloseCode::UnknownError);
            }
            self.mark_dirty(key);
        }
        if let Some(followed) = self.index.channel_mut(channel) {
            followed.last = offset - 1;
        }
    }

    /// The bus could not show that every event of `channel` reached this node (it
    /// lost its Redis connection): the channel's sessions resume with `positions`.
    pub fn bus_lost(&mut self, channel: ChannelId) {
        tracing::warn!(%channel, "bus continuity lost; closing the channel's sessions 4000");
        metrics::counter!("gateway_channel_gaps_total").increment(1);
        for key in self.channel_keys(channel) {
            if let Some(conn) = self.conns.get_mut(key) {
                conn.session.close(CloseCode::UnknownError);
            }
            self.mark_dirty(key);
        }
    }

    /// A local user joined at `offset`: their sessions follow the channel from there
    /// (the join itself included).
    fn joined(&mut self, channel: ChannelId, user: UserId, offset: u64) {
        let keys: Vec<ConnKey> = self
            .index
            .user_sessions(user)
            .iter()
            .copied()
            .filter(|&k| !self.index.follows(channel, k))
            .collect();
        if keys.is_empty() {
            return;
        }
        if self.index.channel(channel).is_some() {
            // Followed already: the join is the next event, delivered to them too.
            for key in keys {
                self.follow(key, channel, offset - 1);
            }
        } else {
            self.start_following(&keys, channel, offset - 1);
        }
    }

    /// Sessions start following a channel nobody here followed, at `from` (what their
    /// client knows), with whatever the ring already holds after it replayed to them.
    pub fn start_following(&mut self, keys: &[ConnKey], channel: ChannelId, from: u64) {
        // Subscribe before reading the ring: every later event then arrives live.
        self.follow(keys[0], channel, from);
        let ring = crate::shard::register::offsets(self.bus.replay(channel, from));
        let plan = Plan::new(from, None, Some(from), ring);
        if let Some(followed) = self.index.channel_mut(channel) {
            followed.last = plan.offset;
        }
        for &key in keys {
            self.follow(key, channel, plan.offset);
        }
        for p in &plan.replay {
            let framed = Framed::new(p.clone());
            self.push_all(&framed, keys.iter().copied(), &[]);
        }
    }

    fn user_event(&mut self, users: &[UserId], p: &Arc<Publication>) -> u64 {
        let framed = Framed::new(p.clone());
        let mut delivered = 0;
        for &user in users {
            let keys = self.index.user_sessions(user).to_vec();
            if keys.is_empty() {
                continue;
            }
            delivered += self.push_all(&framed, keys.iter().copied(), &[]);
            match &p.event {
                ServerEvent::ChannelCreated(created) => {
                    let channel = &created.channel;
                    let new: Vec<ConnKey> = keys
                        .iter()
                        .copied()
                        .filter(|&k| !self.index.follows(channel.id, k))
                        .collect();
                    if new.is_empty() {
                    } else if self.index.channel(channel.id).is_some() {
                        for key in new {
                            self.follow(key, channel.id, channel.offset);
                        }
                    } else {
                        self.start_following(&new, channel.id, channel.offset);
                    }
                }
                ServerEvent::ChannelDeleted(deleted) => {
                    for key in keys {
                        self.unfollow(key, deleted.channel_id);
                    }
                }
                _ => {}
            }
        }
        delivered
    }

    fn channel_keys(&self, channel: ChannelId) -> Vec<ConnKey> {
        self.index
            .channel(channel)
            .map(|f| f.sessions.iter().copied().collect())
            .unwrap_or_default()
    }

    /// [`push`] to every session following `channel`, walking the index in place.
    fn push_channel(
        &mut self,
        channel: ChannelId,
        framed: &Framed,
        except: &[UserId],
        offset: Option<u64>,
    ) -> u64 {
        let Self {
            index,
            conns,
            dirty,
            max_queued_bytes,
            ..
        } = self;
        match index.channel(channel) {
            Some(followed) => push(
                conns,
                dirty,
                *max_queued_bytes,
                framed,
                followed.sessions.iter().copied(),
                except,
                offset.map(|s| (channel, s)),
            ),
            None => 0,
        }
    }

    fn push_all(
        &mut self,
        framed: &Framed,
        keys: impl Iterator<Item = ConnKey>,
        except: &[UserId],
    ) -> u64 {
        push(
            &mut self.conns,
            &mut self.dirty,
            self.max_queued_bytes,
            framed,
            keys,
            except,
            None,
        )
    }
}

/// Queues the frame on each session (but `except`'s users): under pressure a
/// droppable event is dropped, a required one that does not fit closes 4010.
fn push(
    conns: &mut slab::Slab<Box<crate::shard::conn::Conn>>,
    dirty: &mut Vec<ConnKey>,
    cap: usize,
    framed: &Framed,
    keys: impl Iterator<Item = ConnKey>,
    except: &[UserId],
    event: Option<(ChannelId, u64)>,
) -> u64 {
    {
        let droppable = framed.droppable();
        let mut delivered = 0;
        for key in keys {
            let Some(conn) = conns.get_mut(key) else {
                continue;
            };
            if conn.session.is_closing() || conn.user.is_some_and(|u| except.contains(&u)) {
                continue;
            }
            if let Some((channel, offset)) = event.filter(|_| conn.floors.is_some()) {
                if conn.has_already(channel, offset) {
                    continue;
                }
            }
            let frame = framed.frame(conn.encoding);
            let unsent = conn.session.queued_bytes() + frame.len();
            if droppable && unsent > cap / 2 {
                metrics::counter!("gateway_dropped_events_total").increment(1);
                continue;
            }
            if unsent > cap {
                metrics::counter!("gateway_close_slow_consumer_total").increment(1);
                conn.session.close_slow_consumer();
            } else {
                conn.session.handle_frame(frame);
                delivered += 1;
            }
            if !conn.dirty {
                conn.dirty = true;
                dirty.push(key);
            }
        }
        delivered
    }
}
