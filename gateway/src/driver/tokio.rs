//! The epoll driver: one tokio task per connection, a thin loop around the core.
//!
//! Each turn it hands the session what arrived (bytes, request results, fanout frames,
//! timer expiry, drain) and writes what the session queued, several frames per
//! syscall (vectored writes). Requests of one connection run one at a time, in order,
//! so a client's messages are stored in the order it sent them.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes};
use protocol::events::client::Identify;
use protocol::events::server::Ready;
use protocol::{Channel, CloseCode, ErrorCode, User, UserId};
use service::ServiceError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use crate::core::session::{Action, Reply, Session};
use crate::driver::clock::{instant_of, now_ms};
use crate::driver::handshake;
use crate::fanout::index::SessionEntry;
use crate::fanout::outbox::Outbox;
use crate::handler;
use crate::server::{IpSlot, Shared};

/// Bytes pulled from the outbox per turn while the socket keeps up.
const OUTBOX_BATCH: usize = 64 * 1024;
/// Frames per vectored write.
const MAX_IOVECS: usize = 64;

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

struct Identified {
    user: User,
    presence: service::PresenceGuard,
    channels: Vec<Channel>,
    blocked: Vec<UserId>,
    identify: Identify,
}

/// Serves one accepted connection to its end. `slot` is its place in its client
/// address's connection count; `None` (over the cap) answers HTTP 429 and closes.
pub async fn serve<S>(
    mut stream: S,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    slot: Option<IpSlot>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(_slot) = slot else {
        metrics::counter!("gateway_connections_refused_per_ip_total").increment(1);
        handshake::refuse(&mut stream, 429, "too many connections from this address").await;
        return;
    };
    let Some(upgraded) = handshake::accept(&mut stream, &shared.config).await else {
        return;
    };
    metrics::gauge!("gateway_connections").increment(1.0);
    let mut conn = Connection::new(upgraded.mode, &shared);
    conn.session.handle_read(&upgraded.leftover, now_ms());
    conn.run(stream, &mut shutdown).await;
    conn.finish();
    metrics::gauge!("gateway_connections").decrement(1.0);
}

struct Connection {
    shared: Arc<Shared>,
    session: Session,
    session_id: u64,
    outbox: Arc<Outbox>,
    registered: bool,
    user: Option<UserId>,
    presence: Option<service::PresenceGuard>,
    pending: VecDeque<Bytes>,
    pending_bytes: usize,
    /// Reused buffer for frames taken from the outbox.
    taken: VecDeque<Bytes>,
    request: Option<BoxFut<(Option<u32>, Reply)>>,
    identifying: Option<BoxFut<Result<Identified, ServiceError>>>,
    close_deadline: Option<u64>,
}

impl Connection {
    fn new(mode: crate::core::session::Mode, shared: &Arc<Shared>) -> Self {
        Self {
            session: Session::new(mode, &shared.config.session, now_ms()),
            session_id: shared.next_session_id(),
            outbox: Arc::new(Outbox::new(shared.config.max_queued_bytes)),
            shared: shared.clone(),
            registered: false,
            user: None,
            presence: None,
            pending: VecDeque::new(),
            pending_bytes: 0,
            taken: VecDeque::new(),
            request: None,
            identifying: None,
            close_deadline: None,
        }
    }

    async fn run<S>(&mut self, stream: S, shutdown: &mut watch::Receiver<bool>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let (mut rd, mut wr) = tokio::io::split(stream);
        let mut buf = vec![0u8; 16 * 1024];
        let mut draining = *shutdown.borrow();
        loop {
            if draining {
                self.session.close(CloseCode::GoingAway);
            }
            self.step();
            if self.session.should_close_socket() && self.pending.is_empty() {
                break;
            }
            if let Some(deadline) = self.close_deadline {
                if now_ms() >= deadline {
                    break;
                }
            }
            let timer = self
                .session
                .poll_timeout()
                .into_iter()
                .chain(self.close_deadline)
                .min();
            tokio::select! {
                read = rd.read(&mut buf) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => self.session.handle_read(&buf[..n], now_ms()),
                },
                written = write_some(&mut wr, &self.pending), if !self.pending.is_empty() => {
                    match written {
                        Ok(n) if n > 0 => self.advance(n),
                        _ => break,
                    }
                }
                () = self.outbox.notified(), if self.registered => {}
                (id, reply) = poll_opt(&mut self.request), if self.request.is_some() => {
                    self.request = None;
                    self.session.handle_reply(id, reply);
                }
                identified = poll_opt(&mut self.identifying), if self.identifying.is_some() => {
                    self.identifying = None;
                    self.on_identified(identified);
                }
                () = sleep_until(timer), if timer.is_some() => {
                    self.session.handle_timeout(now_ms());
                }
                changed = shutdown.changed(), if !draining => {
                    draining = changed.is_err() || *shutdown.borrow();
                }
            }
        }
        // The close frame must reach the client: flush what is queued (bounded), send
        // FIN, and read out what the client already sent so the kernel does not answer
        // with a reset.
        // A closing connection's socket is dropped at its close deadline regardless
        // (slow consumers: within 5 s of the 4010).
        let linger = match self.close_deadline {
            Some(deadline) => deadline.saturating_sub(now_ms()),
            None => self.shared.config.close_linger_ms,
        };
        let _ = tokio::time::timeout(Duration::from_millis(linger), async {
            while !self.pending.is_empty() {
                match write_some(&mut wr, &self.pending).await {
                    Ok(n) if n > 0 => self.advance(n),
                    _ => return,
                }
            }
            let _ = wr.shutdown().await;
            while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
    }

    /// Moves work between the session, the outbox and the service.
    fn step(&mut self) {
        if self.request.is_none() && self.identifying.is_none() {
            if let Some(action) = self.session.poll_action() {
                self.start(action);
            }
        }
        if self.registered {
            if self.outbox.overflowed() {
                metrics::counter!("gateway_close_slow_consumer_total").increment(1);
                self.session.close(CloseCode::SlowConsumer);
            } else if self.pending_bytes < OUTBOX_BATCH {
                self.outbox.take(&mut self.taken, OUTBOX_BATCH);
                while let Some(frame) = self.taken.pop_front() {
                    self.session.handle_frame(frame);
                }
            }
        }
        while let Some(chunk) = self.session.poll_transmit() {
            self.pending_bytes += chunk.len();
            self.pending.push_back(chunk);
        }
        if self.session.is_closing() && self.close_deadline.is_none() {
            self.close_deadline = Some(now_ms() + self.shared.config.close_linger_ms);
            self.leave_fanout();
        }
        self.outbox.set_in_flight(self.pending_bytes);
    }

    fn start(&mut self, action: Action) {
        match action {
            Action::Identify(identify) => {
                let chat = self.shared.chat.clone();
                self.identifying = Some(Box::pin(async move {
                    let user = chat.authenticate(&identify.token).await?;
                    let (channels, blocked) = chat.ready(user.id).await?;
                    let status = identify.status.unwrap_or(protocol::UserStatus::Online);
                    let presence = chat.presence().connect(user.id, status).await;
                    Ok(Identified {
                        user,
                        presence,
                        channels,
                        blocked,
                        identify,
                    })
                }));
            }
            Action::Request { id, event } => {
                let Some(user) = self.user else { return };
                let chat = self.shared.chat.clone();
                self.request = Some(Box::pin(async move {
                    (id, handler::handle(&chat, user, event).await)
                }));
            }
            Action::Closing => self.leave_fanout(),
        }
    }

    fn on_identified(&mut self, identified: Result<Identified, ServiceError>) {
        let identified = match identified {
            Ok(identified) => identified,
            Err(err) if err.code == ErrorCode::Unauthorized => {
                metrics::counter!("gateway_identify_failed_total").increment(1);
                return self.session.handle_identify_failed();
            }
            Err(err) => {
                tracing::warn!(code = err.code.as_str(), "identify failed: {}", err.message);
                return self.session.close(CloseCode::UnknownError);
            }
        };
        if self.session.is_closing() {
            return;
        }
        let Some(encoding) = self.session.encoding() else {
            return;
        };
        let Identified {
            user,
            presence,
            channels,
            blocked,
            identify,
        } = identified;
        let offsets: Vec<_> = channels.iter().map(|c| (c.id, c.offset)).collect();
        let positions: BTreeMap<_, _> = identify.positions.unwrap_or_default();
        let entry = SessionEntry {
            user: user.id,
            encoding,
            outbox: self.outbox.clone(),
        };
        let registered = self.shared.router.register(
            self.session_id,
            entry,
            &offsets,
            &positions,
            self.shared.config.max_sessions_per_user,
        );
        let Ok(registered) = registered else {
            metrics::counter!("gateway_sessions_refused_total").increment(1);
            return self.session.close(CloseCode::RateLimited);
        };
        self.registered = true;
        self.user = Some(user.id);
        self.presence = Some(presence);
        let ready = Ready {
            session_id: self.session_id.to_string(),
            user: user.clone(),
            channels,
            blocked_user_ids: blocked,
            heartbeat_interval_ms: self.shared.config.session.heartbeat_interval_ms,
            resync: registered.resync,
        };
        self.session.handle_ready(user.id, ready);
    }

    fn advance(&mut self, mut written: usize) {
        self.pending_bytes -= written;
        while written > 0 {
            let Some(front) = self.pending.front_mut() else {
                break;
            };
            if written >= front.len() {
                written -= front.len();
                self.pending.pop_front();
            } else {
                front.advance(written);
                written = 0;
            }
        }
    }

    fn leave_fanout(&mut self) {
        if self.registered {
            self.registered = false;
            self.shared.router.unregister(self.session_id);
            self.outbox.close();
        }
    }

    fn finish(&mut self) {
        if let Some(code) = self.session.closed_with() {
            metrics::counter!("gateway_closes_total", "code" => code.code().to_string())
                .increment(1);
        }
        self.leave_fanout();
        self.presence = None;
    }
}

/// One vectored write of the queued frames; cancel-safe (one syscall attempt).
async fn write_some<W: AsyncWrite + Unpin>(
    wr: &mut W,
    pending: &VecDeque<Bytes>,
) -> std::io::Result<usize> {
    let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
    let mut n = 0;
    for (slot, frame) in slices.iter_mut().zip(pending) {
        *slot = IoSlice::new(frame);
        n += 1;
    }
    wr.write_vectored(&slices[..n]).await
}

/// Awaits an optional boxed future (only polled when it is `Some`).
async fn poll_opt<T>(fut: &mut Option<BoxFut<T>>) -> T {
    match fut {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<u64>) {
    match deadline {
        Some(ms) => tokio::time::sleep_until(instant_of(ms)).await,
        None => std::future::pending().await,
    }
}
