//! A shard: one OS thread with its own single-threaded runtime, its own `SO_REUSEPORT`
//! listener, and everything its sessions need, owned by that thread alone (DESIGN.md
//! idea 2): the connections, the fanout index, the sequencer of the channels it is
//! home to. It talks to the rest of the process only through the bus (bounded queues)
//! and the sequencers' queues.
//!
//! Tasks on the shard's `LocalSet`, all sharing [`ShardState`] through one `RefCell`
//! (never borrowed across an await):
//! - the accept loop, and a short-lived handshake task per new connection;
//! - with epoll, one IO task per connection (`driver::connection`): waits for
//!   readiness, reads into the shard's buffer, hands bytes to the session;
//! - with io_uring, the ring task (`driver::uring`) instead: one submission for
//!   everything the other tasks queued, then the completions, and the connections they
//!   touched read and settled in one batch (no task per connection);
//! - the inbox: bus batches -> fanout -> one flush of every dirty connection;
//! - the tick: heartbeat, identify and linger deadlines of every connection (no timer
//!   object per connection);
//! - identify and request tasks, one at a time per connection, in order;
//! - the sequencer worker this shard is home to.

pub(crate) mod conn;
mod deliver;
mod metrics;
mod register;
#[cfg(test)]
mod sim;
mod state;
pub(crate) mod tasks;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use service::Chat;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub(crate) use self::conn::Conn;
pub(crate) use self::state::{kick, ShardState};
use crate::config::GatewayConfig;
use crate::driver::clock::now_ms;
use crate::server::Admission;

/// Size of the shard's read buffer (every connection reads through it).
const READ_BUFFER: usize = 64 * 1024;

/// How often the tick looks at deadlines.
const TICK: Duration = Duration::from_millis(50);

/// What every shard of a gateway shares (read-only, or atomics and the admission
/// counts touched once per connection).
#[derive(Clone)]
pub struct ShardContext {
    /// The configuration.
    pub config: Arc<GatewayConfig>,
    /// The chat service.
    pub chat: Chat,
    /// Per-IP and per-user connection counts.
    pub admission: Arc<Admission>,
    /// TLS, when configured.
    pub tls: Option<TlsAcceptor>,
    /// Identified sessions of every shard.
    pub sessions: Arc<AtomicUsize>,
    /// Session ids, unique in the process.
    pub next_id: Arc<AtomicU64>,
    /// The IO driver (resolved from `--io`).
    pub io: crate::driver::Selected,
}

/// One shard, shared by its tasks.
pub(crate) struct Shard {
    pub ctx: ShardContext,
    pub state: RefCell<ShardState>,
    pub buf: RefCell<Vec<u8>>,
    /// The shard's ring, with the io_uring driver.
    #[cfg(target_os = "linux")]
    pub ring: Option<Rc<crate::driver::uring::Ring>>,
}

/// Binds a listener with `SO_REUSEPORT`, so every shard (and every gateway process on
/// this host) can bind the same address.
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

/// Runs shard `index` on the current thread until shutdown, then drains it.
///
/// `sequencer` is the worker of the channels this shard is home to, taken before the
/// thread started (so no early request can start it elsewhere).
pub fn run(
    index: usize,
    listener: std::net::TcpListener,
    ctx: ShardContext,
    sequencer: Option<service::sequencer::Worker>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = TcpListener::from_std(listener)?;
        let bus = ctx.chat.bus().clone();
        let subscription = bus.subscriber();
        let metrics = metrics::ShardMetrics {
            shard: index.to_string(),
            sessions: ctx.sessions.clone(),
        };
        let subscriber = subscription.id;
        let state = ShardState::new(bus.clone(), subscriber, &ctx.config, metrics);
        if let Some(worker) = sequencer {
            tokio::task::spawn_local(worker.run());
        }
        #[cfg(target_os = "linux")]
        let ring = match ctx.io {
            crate::driver::Selected::Uring => Some(crate::driver::uring::Ring::new()?),
            crate::driver::Selected::Epoll => None,
        };
        let shard = Rc::new(Shard {
            ctx,
            state: RefCell::new(state),
            buf: RefCell::new(vec![0; READ_BUFFER]),
            #[cfg(target_os = "linux")]
            ring,
        });
        #[cfg(target_os = "linux")]
        if let Some(ring) = &shard.ring {
            let owner = shard.clone();
            tokio::task::spawn_local(ring.clone().drive(move |ready| {
                crate::driver::connection::on_ready(&owner, ready);
            }));
        }
        tokio::task::spawn_local(tasks::inbox(shard.clone(), subscription));
        tokio::task::spawn_local(tasks::tick(shard.clone(), TICK));
        tasks::accept(&shard, &listener, shutdown).await;
        drop(listener);
        drain(&shard).await;
        bus.remove_subscriber(subscriber);
        Ok(())
    })
}

/// Closes every connection with 1001 and waits (at most the linger time) for them.
async fn drain(shard: &Rc<Shard>) {
    let now = now_ms();
    {
        let mut state = shard.state.borrow_mut();
        state.draining = true;
        let keys: Vec<usize> = state.conns.iter().map(|(k, _)| k).collect();
        for key in keys {
            state.conns[key]
                .session
                .close(protocol::CloseCode::GoingAway);
            state.settle(key, now);
        }
    }
    tasks::spawn_work(shard);
    let deadline = now + shard.ctx.config.close_linger_ms + 500;
    while !shard.state.borrow().conns.is_empty() && now_ms() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
