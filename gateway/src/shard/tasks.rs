//! The shard's tasks besides the connections' IO: accept, inbox, tick, and the
//! identify and request work of sessions.

use std::rc::Rc;
use std::time::{Duration, Instant};

use bus::Subscription;
use protocol::events::client::Identify;
use protocol::events::ClientEvent;
use protocol::{CloseCode, ErrorCode};
use service::ServiceError;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::register::Identified;
use super::state::Work;
use super::Shard;
use crate::driver;
use crate::driver::clock::now_ms;
use crate::fanout::index::ConnKey;
use crate::handler;

/// How often (in ticks) idle connections give memory back.
const SHRINK_EVERY_TICKS: u64 = 20;

/// Connections written before the inbox lets the shard's other tasks run.
const FLUSH_SLICE: usize = 512;

/// Batches delivered before one flush, at most.
const BATCHES_PER_FLUSH: usize = 64;

/// Accepts connections until shutdown.
pub(crate) async fn accept(
    shard: &Rc<Shard>,
    listener: &TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    if *shutdown.borrow() {
        return;
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // Counted before the TLS and upgrade handshakes; at the cap the client
                // still gets a clear answer (HTTP 429) rather than a reset.
                let slot = shard.ctx.admission.admit_ip(peer.ip());
                tokio::task::spawn_local(driver::tokio::handshake(shard.clone(), stream, slot));
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

/// Bus batches -> fanout -> one flush of every dirty connection.
pub(crate) async fn inbox(shard: Rc<Shard>, subscription: Subscription) {
    let Subscription {
        mut rx, mut lost, ..
    } = subscription;
    loop {
        let batch = tokio::select! {
            batch = rx.recv() => match batch {
                Some(batch) => batch,
                None => return,
            },
            Some(channel) = lost.recv() => {
                shard.state.borrow_mut().bus_lost(channel);
                flush_all(&shard).await;
                continue;
            }
        };
        let started = Instant::now();
        let (metrics, publications, delivered) = {
            let mut state = shard.state.borrow_mut();
            let mut publications = batch.len();
            let mut delivered = state.deliver(&batch);
            for _ in 1..BATCHES_PER_FLUSH {
                let Ok(more) = rx.try_recv() else { break };
                publications += more.len();
                delivered += state.deliver(&more);
            }
            (state.metrics.clone(), publications, delivered)
        };
        flush_all(&shard).await;
        metrics.batch(publications, delivered, started.elapsed().as_secs_f64());
    }
}

/// Flushes the dirty connections in slices: other tasks of this shard (reads,
/// replies, the sequencer) run between them.
async fn flush_all(shard: &Rc<Shard>) {
    loop {
        let more = shard.state.borrow_mut().flush_some(FLUSH_SLICE);
        spawn_work(shard);
        if !more {
            break;
        }
        tokio::task::yield_now().await;
    }
}

/// Fires the deadlines of every connection (heartbeat, identify, partial message,
/// close linger) by scanning the shard's dense list of them (8 bytes a connection):
/// no timer object per connection, and an idle connection's `Conn` is not touched.
pub(crate) async fn tick(shard: Rc<Shard>, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut due = Vec::new();
    let mut ticks = 0u64;
    loop {
        interval.tick().await;
        ticks += 1;
        let now = now_ms();
        {
            let mut state = shard.state.borrow_mut();
            if ticks.is_multiple_of(SHRINK_EVERY_TICKS) {
                // Connections idle again give their queues' memory back; the bytes
                // still queued are reported (a soak shows whether they grow).
                let queued = state.shrink_touched();
                state.metrics.queued(queued);
            }
            state.due_by(now, &mut due);
            for key in due.drain(..) {
                let Some(conn) = state.conns.get_mut(key) else {
                    continue;
                };
                if conn.close_at.is_some_and(|d| d <= now) {
                    conn.done = true;
                    super::kick(conn);
                    continue;
                }
                // Read what already arrived first: a PING waiting in the socket while
                // this shard was busy must not end in a heartbeat timeout.
                if let Ok(mut buf) = shard.buf.try_borrow_mut() {
                    if let Ok(super::conn::Got::Eof) | Err(_) = conn.read(&mut buf, now) {
                        conn.done = true;
                        super::kick(conn);
                        continue;
                    }
                }
                conn.session.handle_timeout(now);
                state.settle(key, now);
            }
        }
        spawn_work(&shard);
    }
}

/// Starts the identify and request tasks the state asked for.
pub(crate) fn spawn_work(shard: &Rc<Shard>) {
    let work = std::mem::take(&mut shard.state.borrow_mut().work);
    for (key, id, work) in work {
        match work {
            Work::Identify(identify) => {
                tokio::task::spawn_local(identify_task(shard.clone(), key, id, identify));
            }
            Work::Request(request_id, event) => {
                tokio::task::spawn_local(request_task(shard.clone(), key, id, request_id, event));
            }
        }
    }
}

async fn identify_task(shard: Rc<Shard>, key: ConnKey, id: u64, identify: Identify) {
    let chat = shard.ctx.chat.clone();
    let admission = shard.ctx.admission.clone();
    let loaded = async {
        // The token first (no storage), the user's session cap next, then one read.
        let user = chat.verify_token(&identify.token)?;
        let Some(slot) = admission.admit_user(user) else {
            return Ok(None);
        };
        let (user, channels, blocked) = chat.ready(user).await?;
        // A resuming client is replayed from the bus: in a cluster its node loads
        // the channels' recent events first (a no-op in one process).
        let behind: Vec<_> = channels
            .iter()
            .filter(|c| {
                identify
                    .positions
                    .as_ref()
                    .and_then(|p| p.get(&c.id))
                    .is_some_and(|&position| position < c.offset)
            })
            .map(|c| c.id)
            .collect();
        if !behind.is_empty() {
            chat.bus().prepare(&behind).await;
        }
        let status = identify.status.unwrap_or(protocol::UserStatus::Online);
        let presence = chat.presence().connect(user.id, status).await;
        Ok::<_, ServiceError>(Some((
            slot,
            Identified {
                user,
                presence,
                channels,
                blocked,
                positions: identify.positions.clone().unwrap_or_default(),
            },
        )))
    }
    .await;
    let now = now_ms();
    {
        let mut state = shard.state.borrow_mut();
        let Some(conn) = state.conn(key, id) else {
            return;
        };
        conn.busy = false;
        match loaded {
            Ok(Some((slot, identified))) => {
                conn.user_slot = Some(slot);
                let heartbeat = shard.ctx.config.session.heartbeat_interval_ms;
                state.register(key, identified, heartbeat);
            }
            Ok(None) => {
                metrics::counter!("gateway_sessions_refused_total").increment(1);
                conn.session.close(CloseCode::RateLimited);
            }
            Err(err) if err.code == ErrorCode::Unauthorized => {
                metrics::counter!("gateway_identify_failed_total").increment(1);
                conn.session.handle_identify_failed();
            }
            Err(err) => {
                tracing::warn!(code = err.code.as_str(), "identify failed: {}", err.message);
                conn.session.close(CloseCode::UnknownError);
            }
        }
        state.settle(key, now);
    }
    spawn_work(&shard);
}

async fn request_task(
    shard: Rc<Shard>,
    key: ConnKey,
    id: u64,
    request_id: Option<u32>,
    event: ClientEvent,
) {
    let user = {
        let mut state = shard.state.borrow_mut();
        let Some(conn) = state.conn(key, id) else {
            return;
        };
        match conn.user {
            Some(user) => user,
            None => {
                conn.busy = false;
                return;
            }
        }
    };
    let reply = handler::handle(&shard.ctx.chat, user, event).await;
    {
        let mut state = shard.state.borrow_mut();
        let Some(conn) = state.conn(key, id) else {
            return;
        };
        conn.busy = false;
        conn.session.handle_reply(request_id, reply);
        state.settle(key, now_ms());
    }
    spawn_work(&shard);
}
