//! One upgraded connection's life in its shard, for either driver: it joins the
//! shard's table; when its socket has something (or the shard kicks it) it reads into
//! the shard's buffer and lets the shard settle the session ([`look`]). Writes mostly
//! happen elsewhere: the shard flushes a connection right after fanout or a reply.
//!
//! The drivers differ in who notices the socket. With epoll a small IO task per
//! connection waits for readiness ([`Readiness`]), and for writability when the socket
//! was full. With io_uring there is no task per connection (about 400 bytes and a
//! wake-up per event saved): the ring task reaps the completions and hands the
//! connections they touched to [`on_ready`] in one batch.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use protocol::codec::Encoding;

use crate::core::session::{Mode, Session};
use crate::driver::clock::now_ms;
use crate::driver::handshake::Upgraded;
use crate::fanout::index::ConnKey;
use crate::server::Slot;
use crate::shard::conn::{Got, Transport};
use crate::shard::{kick, tasks, Conn, Shard, ShardState};

/// What a connection's IO task waits on.
pub(crate) trait Readiness {
    /// Resolves when the socket may have something to read (`Ok(true)`: read it), or,
    /// with `write`, when it can take more bytes (`Ok(false)`).
    fn ready(&self, write: bool) -> impl Future<Output = std::io::Result<bool>>;
}

/// Puts an upgraded connection in its shard and reads what came with the upgrade;
/// returns its owner key for the driver. `completions`: the transport reports every
/// finished send itself (io_uring), so a blocked write needs no kick.
pub(crate) fn start(
    shard: &Rc<Shard>,
    stream: Rc<dyn Transport>,
    tls: Option<Box<rustls::ServerConnection>>,
    upgraded: Upgraded,
    slot: Slot,
    completions: bool,
) -> (ConnKey, u64) {
    let now = now_ms();
    let id = shard
        .ctx
        .next_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let key = {
        let mut state = shard.state.borrow_mut();
        let encoding = match upgraded.mode {
            Mode::Gateway(encoding) => encoding,
            Mode::Echo => Encoding::MsgPack,
        };
        let mut session = Session::new(upgraded.mode, &shard.ctx.config.session, now);
        if state.draining {
            session.close(protocol::CloseCode::GoingAway);
        }
        let mut conn = Box::new(Conn::new(id, stream, tls, session, encoding, slot));
        conn.awaits_writable = completions;
        let key = state.conns.insert(conn);
        state.metrics.connection_opened();
        state.conns[key]
            .session
            .handle_read(&upgraded.leftover, now);
        state.settle(key, now);
        key
    };
    tasks::spawn_work(shard);
    (key, id)
}

/// The IO task of one epoll connection, until the shard or the peer ends it.
pub(crate) async fn io<S: Readiness>(shard: Rc<Shard>, key: ConnKey, id: u64, stream: Rc<S>) {
    loop {
        let write = {
            let mut state = shard.state.borrow_mut();
            let Some(conn) = state.conn(key, id) else {
                return;
            };
            if conn.done {
                state.remove(key);
                return;
            }
            // Set while this task runs too: its own settle() then does not kick it.
            conn.awaits_writable = conn.wants_write();
            conn.awaits_writable
        };
        let ready = wait(&shard, key, id, &*stream, write).await;
        let event = match ready {
            Some(Ok(true)) => Event::Readable,
            Some(Ok(false)) | None => Event::Look,
            Some(Err(_)) => Event::Failed,
        };
        let looked = {
            let mut state = shard.state.borrow_mut();
            let mut buf = shard.buf.borrow_mut();
            look(&mut state, &mut buf, key, id, event, now_ms())
        };
        // More to read: the socket stays readable, the next wait returns at once.
        if looked.is_none() {
            return;
        }
        tasks::spawn_work(&shard);
    }
}

/// The io_uring ring task hands over the connections whose sockets had events (or
/// that were kicked): each reads what arrived and settles, here, with no task.
#[cfg(target_os = "linux")]
pub(crate) fn on_ready(shard: &Rc<Shard>, owners: &[(ConnKey, u64)]) {
    let now = now_ms();
    {
        let mut state = shard.state.borrow_mut();
        let mut buf = shard.buf.borrow_mut();
        for &(key, id) in owners {
            let Some(more) = look(&mut state, &mut buf, key, id, Event::Readable, now) else {
                continue;
            };
            let Some(conn) = state.conn(key, id) else {
                continue;
            };
            if conn.done {
                // Finished in settle (a failed write): gone now rather than next round.
                state.remove(key);
            } else if more {
                // The read budget ran out: again after the others.
                kick(conn);
            }
        }
    }
    tasks::spawn_work(shard);
}

/// Why a connection is looked at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Its socket may have bytes (or an end, or an error) to read.
    Readable,
    /// Writable, or kicked: settle it.
    Look,
    /// Its socket failed.
    Failed,
}

/// Reads (for `Readable`) and settles one connection; removes it once done. `None`
/// when it is gone, else whether more may be waiting to be read.
fn look(
    state: &mut ShardState,
    buf: &mut [u8],
    key: ConnKey,
    id: u64,
    event: Event,
    now: u64,
) -> Option<bool> {
    let conn = state.conn(key, id)?;
    conn.kick = false;
    let mut more = false;
    match event {
        Event::Readable if !conn.done => match conn.read(buf, now) {
            Ok(Got::Drained) => {}
            Ok(Got::More) => more = true,
            Ok(Got::Eof) | Err(_) => conn.done = true,
        },
        Event::Readable | Event::Look => {}
        Event::Failed => conn.done = true,
    }
    if conn.done {
        state.remove(key);
        return None;
    }
    state.settle(key, now);
    Some(more)
}

/// Waits until the socket is ready (see [`Readiness`]), or the shard kicks the
/// connection (`None`: look at it again).
async fn wait<S: Readiness>(
    shard: &Shard,
    key: ConnKey,
    id: u64,
    stream: &S,
    write: bool,
) -> Option<std::io::Result<bool>> {
    let mut ready = pin!(stream.ready(write));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(result) = ready.as_mut().poll(cx) {
            return Poll::Ready(Some(result));
        }
        let mut state = shard.state.borrow_mut();
        let Some(conn) = state.conn(key, id) else {
            return Poll::Ready(None);
        };
        if conn.kick {
            conn.kick = false;
            return Poll::Ready(None);
        }
        if !conn.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            conn.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    })
    .await
}
