//! Starting and stopping the gateway: shards with `SO_REUSEPORT` listeners, the
//! connection counts they share, and drain on shutdown (every session gets close 1001
//! and may reconnect to any node).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use protocol::UserId;
use service::Chat;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::config::GatewayConfig;
use crate::shard::{self, ShardContext};
use crate::tls;

/// Connections per client address and identified sessions per user, across shards.
/// Touched once per connection or identify, never per event.
pub struct Admission {
    per_ip: Counts<IpAddr>,
    per_user: Counts<UserId>,
}

struct Counts<K> {
    max: u64,
    counts: Mutex<HashMap<K, u64>>,
}

impl<K: Hash + Eq + Copy> Counts<K> {
    fn admit(&self, key: K) -> bool {
        let mut counts = self.counts.lock();
        let count = counts.entry(key).or_insert(0);
        if *count >= self.max {
            return false;
        }
        *count += 1;
        true
    }

    fn release(&self, key: K) {
        let mut counts = self.counts.lock();
        if let Some(count) = counts.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&key);
            }
        }
    }
}

impl Admission {
    /// Counts with the configured caps.
    pub fn new(config: &GatewayConfig) -> Self {
        Self {
            per_ip: Counts {
                max: u64::from(config.max_connections_per_ip),
                counts: Mutex::new(HashMap::new()),
            },
            per_user: Counts {
                max: config.max_sessions_per_user as u64,
                counts: Mutex::new(HashMap::new()),
            },
        }
    }

    /// Counts a connection from `ip`; `None` when that address is at its cap.
    pub fn admit_ip(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        self.per_ip.admit(ip).then(|| Slot {
            admission: self.clone(),
            key: SlotKey::Ip(ip),
        })
    }

    /// Counts a session of `user`; `None` when the user is at its cap.
    pub fn admit_user(self: &Arc<Self>, user: UserId) -> Option<Slot> {
        self.per_user.admit(user).then(|| Slot {
            admission: self.clone(),
            key: SlotKey::User(user),
        })
    }
}

#[derive(Clone, Copy)]
enum SlotKey {
    Ip(IpAddr),
    User(UserId),
}

/// One connection's (or session's) place in a count; released on drop.
pub struct Slot {
    admission: Arc<Admission>,
    key: SlotKey,
}

impl Drop for Slot {
    fn drop(&mut self) {
        match self.key {
            SlotKey::Ip(ip) => self.admission.per_ip.release(ip),
            SlotKey::User(user) => self.admission.per_user.release(user),
        }
    }
}

/// A started gateway.
pub struct Gateway {
    addr: SocketAddr,
    sessions: Arc<AtomicUsize>,
    shutdown: watch::Sender<bool>,
    shards: Vec<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    /// Binds the shards' listeners and starts their threads. Shard `i` runs the
    /// chat's sequencer `i` (the channels it is home to), if there is one.
    pub fn start(config: GatewayConfig, chat: Chat) -> std::io::Result<Self> {
        let io = crate::driver::select(config.io)?;
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
        let sessions = Arc::new(AtomicUsize::new(0));
        let ctx = ShardContext {
            admission: Arc::new(Admission::new(&config)),
            config: Arc::new(config),
            chat,
            tls,
            sessions: sessions.clone(),
            next_id: Arc::new(AtomicU64::new(1)),
            io,
        };
        let (shutdown, stop) = watch::channel(false);
        let mut shards = Vec::new();
        for (index, listener) in listeners.into_iter().enumerate() {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            let sequencer = ctx.chat.sequencers().take(index);
            shards.push(
                std::thread::Builder::new()
                    .name(format!("gateway-shard-{index}"))
                    .spawn(move || shard::run(index, listener, ctx, sequencer, stop))?,
            );
        }
        Ok(Self {
            addr,
            sessions,
            shutdown,
            shards,
        })
    }

    /// The address the shards listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Number of identified sessions.
    pub fn sessions(&self) -> usize {
        self.sessions.load(Ordering::Relaxed)
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
