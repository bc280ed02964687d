//! [`ShardState`]: everything one shard owns, behind one `RefCell` on its thread.
//!
//! The connections (a slab, so fanout reaches a session by index), the fanout index,
//! the dirty list, and the work the state asks the shard to spawn (identify and request
//! tasks). Every change to a connection ends in [`ShardState::settle`], which moves the
//! session forward: start its next request, leave fanout once it closes, write what it
//! queued, and note its next deadline.

use std::rc::Rc;

use bus::{DynBus, SubscriberId, Topic};
use protocol::events::client::Identify;
use protocol::events::ClientEvent;
use protocol::ChannelId;
use slab::Slab;

use crate::core::session::Action;
use crate::fanout::index::{ConnKey, Index};
use crate::shard::conn::Conn;
use crate::shard::metrics::ShardMetrics;

/// Work a connection needs from an async task.
pub(crate) enum Work {
    Identify(Identify),
    Request(Option<u32>, ClientEvent),
}

/// One shard's state.
pub(crate) struct ShardState {
    /// Boxed: a slab grows by doubling, and a `Conn` is 640 bytes; boxed, the slack is
    /// 16 bytes a slot instead of a whole `Conn` (at 17 000 connections in one shard,
    /// a 32 768-slot slab of `Conn`s was 21 MiB, 1.2 KiB per connection).
    pub conns: Slab<Box<Conn>>,
    /// Each slot's next deadline (the earlier of its session's timeout and
    /// `Conn::close_at`; `u64::MAX`: none), dense beside the slab so the tick scans 8 bytes a connection,
    /// not every `Conn`.
    pub due: Vec<u64>,
    pub index: Index,
    pub dirty: Vec<ConnKey>,
    /// Connections that did something since the last shrink pass (or still hold
    /// queued bytes): the pass looks only at these, not at every idle connection.
    pub touched: Vec<ConnKey>,
    /// Which slots are on `touched` (by slot, not connection: a slot reused while
    /// listed is not listed twice).
    listed: Vec<bool>,
    /// (connection, its id, work) for the shard to spawn after the borrow ends.
    pub work: Vec<(ConnKey, u64, Work)>,
    pub bus: DynBus,
    pub subscriber: SubscriberId,
    pub close_linger_ms: u64,
    pub max_queued_bytes: usize,
    pub draining: bool,
    pub metrics: Rc<ShardMetrics>,
}

impl ShardState {
    /// An empty shard subscribed to `bus` as `subscriber`.
    pub fn new(
        bus: DynBus,
        subscriber: SubscriberId,
        config: &crate::GatewayConfig,
        metrics: ShardMetrics,
    ) -> Self {
        Self {
            conns: Slab::new(),
            due: Vec::new(),
            index: Index::default(),
            dirty: Vec::new(),
            touched: Vec::new(),
            listed: Vec::new(),
            work: Vec::new(),
            bus,
            subscriber,
            close_linger_ms: config.close_linger_ms,
            max_queued_bytes: config.max_queued_bytes,
            draining: false,
            metrics: Rc::new(metrics),
        }
    }

    /// The connection at `key` if it is still the one with `id`.
    pub fn conn(&mut self, key: ConnKey, id: u64) -> Option<&mut Conn> {
        self.conns
            .get_mut(key)
            .filter(|c| c.id == id)
            .map(|c| &mut **c)
    }

    /// Moves a connection forward after anything happened to it, at `now`.
    pub fn settle(&mut self, key: ConnKey, now: u64) {
        if !self.conns.contains(key) {
            return;
        }
        self.touch(key);
        let conn = &mut self.conns[key];
        if conn.session.is_closing() {
            if conn.close_at.is_none() {
                conn.close_at = Some(now + self.close_linger_ms);
            }
            self.leave_fanout(key);
        } else if !conn.busy {
            let conn = &mut self.conns[key];
            match conn.session.poll_action() {
                Some(Action::Identify(identify)) => {
                    conn.busy = true;
                    self.work.push((key, conn.id, Work::Identify(identify)));
                }
                Some(Action::Request { id, event }) => {
                    conn.busy = true;
                    self.work.push((key, conn.id, Work::Request(id, event)));
                }
                Some(Action::Closing) => self.leave_fanout(key),
                None => {}
            }
        }
        self.write(key);
        let conn = &mut self.conns[key];
        let deadline = conn.session.poll_timeout();
        if conn.session.should_close_socket()
            && conn.session.queued_bytes() == 0
            && !conn.write_shut
        {
            conn.shutdown_write();
        }
        let due = deadline
            .unwrap_or(u64::MAX)
            .min(conn.close_at.unwrap_or(u64::MAX));
        self.set_due(key, due);
    }

    fn set_due(&mut self, key: ConnKey, due: u64) {
        if self.due.len() <= key {
            self.due.resize(key + 1, u64::MAX);
        }
        self.due[key] = due;
    }

    /// The connections whose deadline is at or before `now`, into `out`.
    pub fn due_by(&self, now: u64, out: &mut Vec<ConnKey>) {
        out.extend(
            self.due
                .iter()
                .enumerate()
                .filter(|(_, due)| **due <= now)
                .map(|(key, _)| key),
        );
    }

    /// Writes what the connection queued; wakes its IO task when the socket is full
    /// (it then waits for writability) or on failure (it then finishes).
    pub fn write(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        if conn.write_shut && !conn.wants_write() {
            return;
        }
        match conn.flush() {
            Ok(true) => {}
            // The IO task must wait for writability: tell it, unless it already does
            // (or is the caller, and looks at its interest next).
            Ok(false) if conn.awaits_writable => {}
            Ok(false) => kick(conn),
            Err(_) => {
                conn.done = true;
                kick(conn);
            }
        }
    }

    /// Writes every dirty connection.
    #[cfg(test)]
    pub fn flush_dirty(&mut self) {
        while self.flush_some(usize::MAX) {}
    }

    /// Writes up to `max` dirty connections; `true` when some are left. The inbox
    /// flushes in slices and yields between them, so a big channel's flush does not
    /// hold back this shard's reads, replies and sequencer.
    pub fn flush_some(&mut self, max: usize) -> bool {
        for _ in 0..max {
            let Some(key) = self.dirty.pop() else {
                return false;
            };
            if self.conns.contains(key) {
                self.touch(key);
                let conn = &mut self.conns[key];
                conn.dirty = false;
                if conn.session.is_closing() {
                    // A slow consumer closed by fanout: settle it (leave fanout, linger).
                    let now = crate::driver::clock::now_ms();
                    self.settle(key, now);
                } else {
                    self.write(key);
                }
            }
        }
        !self.dirty.is_empty()
    }

    /// Marks a connection for the next flush.
    pub fn mark_dirty(&mut self, key: ConnKey) {
        if let Some(conn) = self.conns.get_mut(key) {
            if !conn.dirty {
                conn.dirty = true;
                self.dirty.push(key);
            }
            self.touch(key);
        }
    }

    fn touch(&mut self, key: ConnKey) {
        if self.listed.len() <= key {
            self.listed.resize(key + 1, false);
        }
        if !self.listed[key] {
            self.listed[key] = true;
            self.touched.push(key);
        }
    }

    /// The shrink pass: each touched connection that is idle again gives its queues'
    /// memory back and leaves the list; one still busy or holding queued bytes stays
    /// for the next pass. Returns the bytes queued to connections (every connection
    /// not on the list has none). Idle connections are not visited at all, so their
    /// cost per pass is nothing, not a cache miss each.
    pub fn shrink_touched(&mut self) -> usize {
        let mut queued = 0;
        let touched = std::mem::take(&mut self.touched);
        for key in touched {
            let Some(conn) = self.conns.get_mut(key) else {
                self.listed[key] = false;
                continue;
            };
            let bytes = conn.session.queued_bytes();
            queued += bytes;
            if conn.busy || bytes > 0 {
                self.touched.push(key);
            } else {
                self.listed[key] = false;
                conn.session.shrink();
            }
        }
        queued
    }

    /// Adds a session to a channel it now follows.
    pub fn follow(&mut self, key: ConnKey, channel: ChannelId, offset: u64) {
        if self.index.follow_channel(channel, offset) {
            self.bus.subscribe_channel(self.subscriber, channel, offset);
        }
        if !self.index.follows(channel, key) {
            self.index.add_session(channel, key);
            if let Some(conn) = self.conns.get_mut(key) {
                conn.channels.push(channel);
            }
        }
    }

    /// Removes a session from a channel.
    pub fn unfollow(&mut self, key: ConnKey, channel: ChannelId) {
        if self.index.remove_session(channel, key) {
            self.bus
                .unsubscribe(self.subscriber, Topic::Channel(channel));
        }
        if let Some(conn) = self.conns.get_mut(key) {
            conn.channels.retain(|c| *c != channel);
        }
    }

    /// Takes a session out of fanout (it is closing or gone).
    pub fn leave_fanout(&mut self, key: ConnKey) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        let Some(user) = conn.user.take() else {
            return;
        };
        let channels = std::mem::take(&mut conn.channels);
        for channel in channels {
            if self.index.remove_session(channel, key) {
                self.bus
                    .unsubscribe(self.subscriber, Topic::Channel(channel));
            }
        }
        if self.index.remove_user(user, key) {
            self.bus.unsubscribe(self.subscriber, Topic::User(user));
        }
        self.metrics.session_left();
    }

    /// Forgets a finished connection.
    pub fn remove(&mut self, key: ConnKey) {
        self.leave_fanout(key);
        if self.conns.contains(key) {
            self.set_due(key, u64::MAX);
            let conn = self.conns.remove(key);
            if let Some(code) = conn.session.closed_with() {
                metrics::counter!("gateway_closes_total", "code" => code.code().to_string())
                    .increment(1);
            }
            self.metrics.connection_closed();
        }
    }
}

/// Has a connection looked at again: wakes its IO task (epoll), or puts it on its
/// ring's ready list (io_uring).
pub(crate) fn kick(conn: &mut Conn) {
    conn.kick = true;
    match conn.waker.take() {
        Some(waker) => waker.wake(),
        None => conn.stream.kick(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, IoSlice};
    use std::sync::Arc;

    use bus::{Bus, LocalBus};
    use protocol::codec::Encoding;

    use super::*;
    use crate::core::session::{Mode, Session, SessionConfig};
    use crate::server::Admission;
    use crate::shard::conn::Transport;

    struct Silent;

    impl Transport for Silent {
        fn try_read(&self, _buf: &mut [u8]) -> io::Result<usize> {
            Err(io::ErrorKind::WouldBlock.into())
        }
        fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            Ok(bufs.iter().map(|b| b.len()).sum())
        }
        fn shutdown_write(&self) {}
    }

    fn state() -> ShardState {
        let bus = Arc::new(LocalBus::new());
        let subscription = bus.subscriber();
        let metrics = ShardMetrics {
            shard: "0".into(),
            sessions: Arc::default(),
        };
        ShardState::new(
            bus,
            subscription.id,
            &crate::GatewayConfig::default(),
            metrics,
        )
    }

    fn connect(state: &mut ShardState, admission: &Arc<Admission>, id: u64, now: u64) -> ConnKey {
        let session = Session::new(
            Mode::Gateway(Encoding::MsgPack),
            &SessionConfig::default(),
            now,
        );
        let slot = admission.admit_ip([127, 0, 0, 1].into()).unwrap();
        let key = state.conns.insert(Box::new(Conn::new(
            id,
            Rc::new(Silent),
            None,
            session,
            Encoding::MsgPack,
            slot,
        )));
        state.settle(key, now);
        key
    }

    #[test]
    fn the_tick_finds_exactly_the_connections_that_are_due() {
        let admission = Arc::new(Admission::new(&crate::GatewayConfig::default()));
        let mut state = state();
        let early = connect(&mut state, &admission, 1, 0);
        let late = connect(&mut state, &admission, 2, 60_000);
        let gone = connect(&mut state, &admission, 3, 0);
        let first = state.due[early];
        assert!(first < u64::MAX, "an identify deadline");
        assert_eq!(state.due[late], first + 60_000);

        let mut due = Vec::new();
        state.due_by(first - 1, &mut due);
        assert!(due.is_empty(), "nothing is due before the first deadline");
        state.due_by(first, &mut due);
        assert_eq!(due, vec![early, gone]);

        // A removed connection is never listed again.
        due.clear();
        state.remove(gone);
        state.due_by(first, &mut due);
        assert_eq!(due, vec![early]);

        // A closing connection is due at the end of its linger, before its heartbeat.
        due.clear();
        state.conns[late]
            .session
            .close(protocol::CloseCode::GoingAway);
        state.settle(late, 1_000);
        state.due_by(1_000 + state.close_linger_ms, &mut due);
        assert_eq!(due, vec![late]);
    }

    #[test]
    fn the_shrink_pass_visits_only_connections_that_did_something() {
        let admission = Arc::new(Admission::new(&crate::GatewayConfig::default()));
        let mut state = state();
        let keys: Vec<_> = (0..4)
            .map(|id| connect(&mut state, &admission, id, 0))
            .collect();
        // Settling at connect touched all four; the pass takes them off.
        assert_eq!(state.touched.len(), 4);
        assert_eq!(state.shrink_touched(), 0);
        assert!(state.touched.is_empty());
        assert_eq!(state.shrink_touched(), 0);

        // One connection does something: only it is listed, once however often.
        state.settle(keys[2], 10);
        state.mark_dirty(keys[2]);
        state.settle(keys[2], 20);
        assert_eq!(state.touched, vec![keys[2]]);

        // A busy one stays listed until it is idle again.
        state.conns[keys[1]].busy = true;
        state.settle(keys[1], 30);
        state.shrink_touched();
        assert_eq!(state.touched, vec![keys[1]]);
        state.conns[keys[1]].busy = false;
        state.shrink_touched();
        assert!(state.touched.is_empty());

        // A slot freed while listed, then reused, is listed once.
        state.settle(keys[3], 40);
        state.remove(keys[3]);
        let again = connect(&mut state, &admission, 9, 50);
        assert_eq!(again, keys[3]);
        assert_eq!(state.touched, vec![keys[3]]);
        state.shrink_touched();
        assert!(state.touched.is_empty());
    }
}
