//! The epoll driver (tokio): moves bytes, nothing else.
//!
//! A new connection gets a short-lived task for the TLS and HTTP upgrade handshakes
//! (buffers that live only that long); then the connection joins its shard's table and
//! a small IO task takes over: it waits for readiness (or a kick from the shard),
//! reads into the shard's buffer, and lets the shard settle the session. Writes mostly
//! happen elsewhere: the shard flushes a connection right after fanout or a reply, and
//! the IO task only waits for writability when the socket was full.

use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use protocol::codec::Encoding;
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::core::session::{Mode, Session};
use crate::driver::clock::now_ms;
use crate::driver::handshake;
use crate::fanout::index::ConnKey;
use crate::server::Slot;
use crate::shard::conn::{Got, Transport};
use crate::shard::{tasks, Conn, Shard};

/// Handshakes a new connection, then hands it to its IO task. `slot` is its place in
/// its address's count; `None` (over the cap) answers HTTP 429.
pub(crate) async fn handshake(shard: Rc<Shard>, mut stream: TcpStream, slot: Option<Slot>) {
    let Some(slot) = slot else {
        metrics::counter!("gateway_connections_refused_per_ip_total").increment(1);
        handshake::refuse(&mut stream, 429, "too many connections from this address").await;
        return;
    };
    let config = shard.ctx.config.clone();
    let (stream, tls, upgraded) = match shard.ctx.tls.clone() {
        Some(acceptor) => {
            let limit = std::time::Duration::from_millis(config.handshake_timeout_ms);
            let Ok(Ok(mut tls_stream)) = tokio::time::timeout(limit, acceptor.accept(stream)).await
            else {
                return;
            };
            let Some(upgraded) = handshake::accept(&mut tls_stream, &config).await else {
                return;
            };
            let (stream, tls) = tls_stream.into_inner();
            (stream, Some(Box::new(tls)), upgraded)
        }
        None => {
            let Some(upgraded) = handshake::accept(&mut stream, &config).await else {
                return;
            };
            (stream, None, upgraded)
        }
    };
    let stream = Rc::new(stream);
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
        let mut session = Session::new(upgraded.mode, &config.session, now);
        if state.draining {
            session.close(protocol::CloseCode::GoingAway);
        }
        let key = state.conns.insert(Conn::new(
            id,
            stream.clone() as Rc<dyn Transport>,
            tls,
            session,
            encoding,
            slot,
        ));
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
async fn io(shard: Rc<Shard>, key: ConnKey, id: u64, stream: Rc<TcpStream>) {
    loop {
        let interest = {
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
            if conn.awaits_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            }
        };
        let ready = wait(&shard, key, id, &stream, interest).await;
        let now = now_ms();
        {
            let mut state = shard.state.borrow_mut();
            let Some(conn) = state.conn(key, id) else {
                return;
            };
            match ready {
                Some(Ok(ready)) if ready.is_readable() || ready.is_read_closed() => {
                    let mut buf = shard.buf.borrow_mut();
                    match conn.read(&mut buf, now) {
                        Ok(Got::Drained | Got::More) => {}
                        Ok(Got::Eof) | Err(_) => conn.done = true,
                    }
                }
                Some(Ok(_)) | None => {}
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

/// Waits until the socket is ready for `interest`, or the shard kicks the connection
/// (`None`: look at it again).
async fn wait(
    shard: &Shard,
    key: ConnKey,
    id: u64,
    stream: &TcpStream,
    interest: Interest,
) -> Option<std::io::Result<tokio::io::Ready>> {
    let mut ready = pin!(stream.ready(interest));
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
