//! One upgraded connection's life in its shard, for either driver: it joins the
//! shard's table, then a small IO task waits for its socket (or a kick from the
//! shard), reads into the shard's buffer, and lets the shard settle the session.
//! Writes mostly happen elsewhere: the shard flushes a connection right after fanout
//! or a reply, and the IO task only waits for writability when the socket was full.
//!
//! The drivers differ only in what "ready" means ([`Readiness`]): epoll readiness for
//! tokio's sockets, a completion having arrived for the io_uring ones.

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
use crate::shard::{tasks, Conn, Shard};

/// What a connection's IO task waits on.
pub(crate) trait Readiness {
    /// Resolves when the socket may have something to read (`Ok(true)`: read it), or,
    /// with `write`, when it can take more bytes (`Ok(false)`).
    fn ready(&self, write: bool) -> impl Future<Output = std::io::Result<bool>>;
}

/// Puts an upgraded connection in its shard and starts its IO task.
pub(crate) fn start<S>(
    shard: Rc<Shard>,
    stream: Rc<S>,
    tls: Option<Box<rustls::ServerConnection>>,
    upgraded: Upgraded,
    slot: Slot,
) where
    S: Transport + Readiness + 'static,
{
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
        let key = state.conns.insert(Box::new(Conn::new(
            id,
            stream.clone() as Rc<dyn Transport>,
            tls,
            session,
            encoding,
            slot,
        )));
        state.metrics.connection_opened();
        state.conns[key]
            .session
            .handle_read(&upgraded.leftover, now);
        state.settle(key, now);
        key
    };
    tasks::spawn_work(&shard);
    tokio::task::spawn_local(io(shard, key, id, stream));
}

/// The IO loop of one connection, until the shard or the peer ends it.
async fn io<S: Readiness>(shard: Rc<Shard>, key: ConnKey, id: u64, stream: Rc<S>) {
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
        let now = now_ms();
        {
            let mut state = shard.state.borrow_mut();
            let Some(conn) = state.conn(key, id) else {
                return;
            };
            match ready {
                Some(Ok(true)) => {
                    let mut buf = shard.buf.borrow_mut();
                    match conn.read(&mut buf, now) {
                        Ok(Got::Drained | Got::More) => {}
                        Ok(Got::Eof) | Err(_) => conn.done = true,
                    }
                }
                Some(Ok(false)) | None => {}
                Some(Err(_)) => conn.done = true,
            }
            if conn.done {
                state.remove(key);
                return;
            }
            state.settle(key, now);
        }
        tasks::spawn_work(&shard);
    }
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
