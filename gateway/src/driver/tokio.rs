//! The epoll driver (tokio), and the handshake both drivers share.
//!
//! A new connection gets a short-lived task for the TLS and HTTP upgrade handshakes
//! (buffers that live only that long), on tokio's reactor whichever the driver; then
//! the connection goes to its shard (`driver::connection`): with epoll it stays a
//! tokio socket and its IO task waits for readiness, with io_uring it leaves tokio's
//! reactor for the shard's ring, which tells the shard about it (no task).

use std::rc::Rc;

use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::driver::connection::{self, Readiness};
use crate::driver::handshake;
use crate::server::Slot;
use crate::shard::Shard;

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
    #[cfg(target_os = "linux")]
    if let Some(ring) = &shard.ring {
        match ring.adopt(stream) {
            Ok(socket) => {
                let owner = connection::start(&shard, socket.clone(), tls, upgraded, slot, true);
                socket.attach(owner);
            }
            Err(err) => tracing::warn!("io_uring: cannot take the connection: {err}"),
        }
        return;
    }
    let stream = Rc::new(stream);
    let (key, id) = connection::start(&shard, stream.clone(), tls, upgraded, slot, false);
    tokio::task::spawn_local(connection::io(shard, key, id, stream));
}

impl Readiness for TcpStream {
    async fn ready(&self, write: bool) -> std::io::Result<bool> {
        let interest = if write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let ready = TcpStream::ready(self, interest).await?;
        Ok(ready.is_readable() || ready.is_read_closed())
    }
}
