//! A shard: one OS thread with its own single-threaded tokio runtime and its own
//! `SO_REUSEPORT` listener. The kernel spreads new connections over the shards'
//! listeners; a session lives and dies on the shard that accepted it.

use std::net::SocketAddr;
use std::sync::Arc;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::driver;
use crate::server::Shared;

/// Binds a listener with `SO_REUSEPORT`, so every shard can bind the same address.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nodelay(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

/// Runs one shard's accept loop on the current thread until shutdown.
pub fn run(
    index: usize,
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        let mut tasks = tokio::task::JoinSet::new();
        let mut stop = shutdown.clone();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(pair) => pair,
                        Err(err) => {
                            // EMFILE and friends: back off instead of spinning.
                            tracing::warn!(shard = index, "accept failed: {err}");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    // Reap finished connections so the set does not grow forever.
                    while tasks.try_join_next().is_some() {}
                    let shared = shared.clone();
                    let shutdown = shutdown.clone();
                    let tls = tls.clone();
                    // Counted before the TLS and upgrade handshakes; at the cap the client
                    // still gets a clear answer (HTTP 429) rather than a reset.
                    let slot = shared.admit(peer.ip());
                    tasks.spawn(async move {
                        match tls {
                            Some(acceptor) => {
                                let handshake = std::time::Duration::from_millis(
                                    shared.config.handshake_timeout_ms,
                                );
                                if let Ok(Ok(stream)) =
                                    tokio::time::timeout(handshake, acceptor.accept(stream)).await
                                {
                                    driver::tokio::serve(stream, shared, shutdown, slot).await;
                                }
                            }
                            None => driver::tokio::serve(stream, shared, shutdown, slot).await,
                        }
                    });
                }
                _ = stop.changed() => break,
            }
        }
        drop(listener);
        // Drain: every connection got 1001 through its shutdown receiver.
        while tasks.join_next().await.is_some() {}
        Ok(())
    })
}
