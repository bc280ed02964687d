//! Starting and stopping the gateway: shards with `SO_REUSEPORT` listeners, the
//! dispatcher that feeds bus publications to fanout, and drain on shutdown (every
//! session gets close 1001 and may reconnect to any node).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use service::Chat;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::GatewayConfig;
use crate::fanout::Router;
use crate::{shard, tls};

/// What every connection of every shard shares.
pub struct Shared {
    /// The configuration.
    pub config: GatewayConfig,
    /// The chat service (auth, storage, bus).
    pub chat: Chat,
    /// Fanout state.
    pub router: Router,
    next_session: AtomicU64,
    per_ip: Mutex<HashMap<IpAddr, u32>>,
}

impl Shared {
    /// A fresh session id, unique within this process.
    pub fn next_session_id(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts a connection from `ip`; `None` when that address is at its cap.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut per_ip = self.per_ip.lock();
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= self.config.max_connections_per_ip {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            shared: self.clone(),
            ip,
        })
    }
}

/// One connection's place in its client address's count; released on drop.
pub struct IpSlot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut per_ip = self.shared.per_ip.lock();
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// A started gateway.
pub struct Gateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    shards: Vec<std::thread::JoinHandle<std::io::Result<()>>>,
    dispatcher: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Binds the shards' listeners and starts them, and the dispatcher on the current
    /// tokio runtime.
    pub fn start(config: GatewayConfig, chat: Chat) -> std::io::Result<Self> {
        let tls = match &config.tls {
            Some(files) => Some(TlsAcceptor::from(tls::server_config(files)?)),
            None => None,
        };
        // The first listener resolves port 0; the others bind the port it got.
        let first = shard::bind(config.listen)?;
        let addr = first.local_addr()?;
        let mut listeners = vec![first];
        for _ in 1..config.shards.max(1) {
            listeners.push(shard::bind(addr)?);
        }
        let shared = Arc::new(Shared {
            router: Router::new(config.replay_buffer),
            config,
            chat,
            next_session: AtomicU64::new(1),
            per_ip: Mutex::new(HashMap::new()),
        });
        let (shutdown, stop) = watch::channel(false);
        let mut subscription = shared.chat.bus().subscribe();
        let router_shared = shared.clone();
        let dispatcher = tokio::spawn(async move {
            while let Some(publication) = subscription.recv().await {
                router_shared.router.deliver(publication);
            }
        });
        let mut shards = Vec::new();
        for (index, listener) in listeners.into_iter().enumerate() {
            let (shared, tls, stop) = (shared.clone(), tls.clone(), stop.clone());
            shards.push(
                std::thread::Builder::new()
                    .name(format!("gateway-shard-{index}"))
                    .spawn(move || shard::run(index, listener, shared, tls, stop))?,
            );
        }
        Ok(Self {
            addr,
            shared,
            shutdown,
            shards,
            dispatcher,
        })
    }

    /// The address the shards listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Number of identified sessions.
    pub fn sessions(&self) -> usize {
        self.shared.router.sessions()
    }

    /// Drains: stop accepting, close every session with 1001, wait for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let shards = self.shards;
        let _ = tokio::task::spawn_blocking(move || {
            for shard in shards {
                let _ = shard.join();
            }
        })
        .await;
        self.dispatcher.abort();
    }
}

/// Runs the gateway until `signal` resolves, then drains.
pub async fn run(
    config: GatewayConfig,
    chat: Chat,
    signal: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let gateway = Gateway::start(config, chat)?;
    tracing::info!(addr = %gateway.local_addr(), "gateway listening");
    signal.await;
    tracing::info!("gateway draining");
    gateway.shutdown().await;
    Ok(())
}
