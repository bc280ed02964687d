//! The io_uring driver: each shard owns one ring; every upgraded connection of the
//! shard reads and writes through it, with the very same connection loop, session,
//! identify, replay and backpressure code as the epoll driver (`driver::connection`).
//!
//! - Reads: one multishot receive per connection, taking buffers from the shard's
//!   provided-buffer pool ([`pool`]): no read syscall, no buffer per connection. The
//!   bytes wait in the connection's queue until the shard reads them (the same
//!   `Conn::read`, TLS included) right after the round that reaped them: the ring task
//!   hands every socket a round touched to the shard in one batch (`drive`'s
//!   `on_ready`), so a connection has no task of its own and an event costs no wake-up.
//! - Writes: `Transport::try_write_vectored` copies into the connection's send buffer
//!   and queues a send; every send (and buffer return, receive, cancel) queued while
//!   the shard's tasks run goes to the kernel in one `io_uring_enter` when the ring
//!   task runs next, so one flush of many dirty connections is one submission. At most
//!   one send per connection is in flight, with one more buffer filling behind it (the
//!   part a kernel socket buffer plays for epoll); when both are full the connection
//!   is "not writable" and its session queue holds the rest, as with epoll.
//! - The ring's own fd is watched by tokio's reactor (readable = completions), so the
//!   shard keeps its tokio runtime: the bus, the sequencer, identify and request tasks
//!   (sqlx, redis) run unchanged beside it. Accept and the short TLS and upgrade
//!   handshakes stay on tokio; once upgraded the socket leaves epoll for the ring.
//!   The tick (deadlines of every connection) is the shard's, shared.
//!
//! Why the raw `io-uring` crate and not a runtime: tokio-uring (0.5) has no multishot
//! receive or provided buffers (tokio-rs/tokio-uring#238 and #250 are still open) and
//! would cost a buffer per connection per pending read; monoio and compio replace the
//! runtime, and the shard's tokio-based neighbours (bus, sequencer, sqlx, redis) would
//! have to move to other threads. Owning the ring lets the flush batch its sends.

mod pool;
mod socket;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use io_uring::types::{CancelBuilder, Fd, SubmitArgs, Timespec};
use io_uring::{cqueue, opcode, squeue, IoUring};
use slab::Slab;
use tokio::io::unix::AsyncFd;

use self::pool::Pool;
pub(crate) use self::socket::UringSocket;

/// Submission queue entries (the completion queue is four times larger).
const ENTRIES: u32 = 1024;

/// Receive buffers per shard, and their size: 2 MiB per shard at most, of which the
/// kernel holds a working set of [`WORKING_BUFFERS`] (512 KiB) until traffic needs more
/// (see [`pool`]). Clients send small frames; a larger one spans buffers.
const BUFFERS: u16 = 1024;
const BUFFER_SIZE: usize = 2048;
const WORKING_BUFFERS: u16 = 256;

/// Bytes one send (and the buffer filling behind it) holds at most.
const SEND_MAX: usize = 256 * 1024;

/// Submit-and-reap rounds per turn before other tasks get the thread.
const ROUNDS_PER_TURN: usize = 8;

/// Buffers one connection may hold unread before its receive is paused (32 KiB, what
/// a kernel socket buffer would hold for epoll): a peer that floods faster than its
/// connection is read cannot take the shard's whole pool. Resumed below half of it.
const RX_LIMIT: usize = 16;

/// While sockets wait for buffers and none is known to be with the kernel, one of
/// them tries again this often (our count of the kernel's buffers could be low; the
/// kernel's answer corrects it), and buffers whose provision failed are provided
/// again. Never sooner: a receive re-armed with no buffers fails at once, and
/// re-arming in a loop would spin the shard (a gateway that lost 14 000 connections
/// at once did, when the count was raised as provisions were queued, not completed).
const STARVED_PROBE: Duration = Duration::from_millis(50);

/// What a completion is for (the low bits of its user data).
const OP_RECV: u64 = 0;
const OP_SEND: u64 = 1;
const OP_CANCEL: u64 = 2;
const OP_PROVIDE: u64 = 3;

/// Who a socket's completions are for: its connection's key in the shard and its id.
pub(crate) type Owner = (usize, u64);

/// A shard's ring, shared by its connections and its ring task.
pub(crate) struct Ring {
    /// Declared first: dropped (leaves tokio's reactor) before the ring closes.
    readiness: AsyncFd<RingFd>,
    inner: RefCell<Inner>,
}

/// The ring's fd, for tokio's reactor (the `IoUring` owns it).
struct RingFd(RawFd);

impl AsRawFd for RingFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

struct Inner {
    uring: IoUring,
    /// Boxed for the same reason as the shard's connections: a doubling slab of
    /// entries kept up to an entry of slack per slot.
    sockets: Slab<Box<Entry>>,
    pool: Pool,
    /// Buffers the kernel holds, as far as completions tell: raised when a provision
    /// completes, lowered by every receive that names a buffer, zero on `ENOBUFS`.
    kernel_buffers: usize,
    /// Sockets whose receive stopped for want of buffers, to re-arm once some return.
    starved: VecDeque<usize>,
    /// The timer of the next starved probe (see [`STARVED_PROBE`]).
    probe_timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// The probe fired: the next round re-arms one starved socket whatever the count.
    probe_due: bool,
    /// Submit-and-reap rounds run (the tests check that an idle ring stays idle).
    rounds: u64,
    /// Entries queued since the last submission (or buffers to give back).
    queued: bool,
    /// The ring task, while it waits.
    waker: Option<Waker>,
    /// Requests whose last completion has not arrived.
    in_flight: usize,
    /// Generation of the next socket, so a late completion cannot reach a reused slot.
    next_gen: u32,
    /// Completions reaped, reused between turns.
    reaped: Vec<(u64, i32, u32)>,
    /// The ring cannot submit any more: sockets fail, new ones are refused.
    failed: bool,
    /// Sockets something happened to (a receive, a send done, an error, a kick), for
    /// the ring task to hand to their connections after the round: (slot, owner).
    ready: Vec<(usize, Owner)>,
}

/// One connection's socket as the ring holds it.
struct Entry {
    stream: std::net::TcpStream,
    gen: u32,
    /// Received bytes not read yet: (buffer, start, end).
    rx: VecDeque<(u16, usize, usize)>,
    eof: bool,
    /// The errno that ended the socket.
    error: Option<i32>,
    recv_armed: bool,
    /// The receive was stopped because the connection holds [`RX_LIMIT`] buffers.
    recv_paused: bool,
    /// The send in flight and how much of it went out.
    sending: Option<(Vec<u8>, usize)>,
    /// Bytes to send once the one in flight is done.
    next: Vec<u8>,
    /// FIN once every byte is sent.
    shut_after_send: bool,
    /// A write was refused (both send buffers full): the owner hears when one is done.
    write_blocked: bool,
    /// The connection is gone: cancel what is in flight, then close.
    finished: bool,
    /// The connection this socket's events go to (set once it is in the shard).
    owner: Option<Owner>,
    /// On the ring's ready list already.
    listed: bool,
    /// A task waiting through `Readiness` (the ring's own tests; the shard's
    /// connections are told through the ready list instead, with no task each).
    waker: Option<Waker>,
}

/// The generation bits a completion carries.
const GEN_MASK: u32 = 0x1FFF_FFFF;

fn user_data(slot: usize, gen: u32, op: u64) -> u64 {
    ((slot as u64) << 32) | (u64::from(gen & GEN_MASK) << 3) | op
}

/// A provision's user data: the first buffer and how many it gives the kernel.
fn provide_data(first: u16, count: u16) -> u64 {
    (u64::from(count) << 32) | (u64::from(first) << 16) | OP_PROVIDE
}

impl Ring {
    /// A ring with the shard's buffer pool; call within the shard's runtime.
    pub fn new() -> io::Result<Rc<Self>> {
        Self::with_pool(BUFFERS, BUFFER_SIZE)
    }

    fn with_pool(buffers: u16, size: usize) -> io::Result<Rc<Self>> {
        let uring = IoUring::builder()
            .setup_cqsize(ENTRIES * 4)
            .build(ENTRIES)?;
        let fd = uring.as_raw_fd();
        let mut inner = Inner {
            uring,
            sockets: Slab::new(),
            pool: Pool::new(buffers, size),
            kernel_buffers: 0,
            starved: VecDeque::new(),
            probe_timer: None,
            probe_due: false,
            rounds: 0,
            queued: false,
            waker: None,
            in_flight: 0,
            next_gen: 0,
            reaped: Vec::new(),
            failed: false,
            ready: Vec::new(),
        };
        let (provide, working) = inner.pool.provide_first(WORKING_BUFFERS);
        inner.push(provide.user_data(provide_data(0, working)));
        // SAFETY: `fd` is the ring's, owned by `inner` in the same `Ring`, which
        // declares `readiness` first: the registration ends before the fd closes.
        #[allow(unsafe_code)]
        let readiness =
            unsafe { AsyncFd::register_with_interest(RingFd(fd), tokio::io::Interest::READABLE) }?;
        Ok(Rc::new(Self {
            readiness,
            inner: RefCell::new(inner),
        }))
    }

    /// Takes an upgraded connection off tokio's reactor and starts receiving on it.
    pub fn adopt(self: &Rc<Self>, stream: tokio::net::TcpStream) -> io::Result<Rc<UringSocket>> {
        if self.inner.borrow().failed {
            return Err(io::Error::other("the shard's ring failed"));
        }
        let stream = stream.into_std()?;
        // The ring waits for the socket itself; a non-blocking socket would make some
        // kernels answer EAGAIN instead.
        stream.set_nonblocking(false)?;
        let slot = self.inner.borrow_mut().insert(stream);
        Ok(Rc::new(UringSocket::new(self.clone(), slot)))
    }

    /// The ring task: submits what the shard queued, reaps completions, and hands
    /// the sockets they touched to `on_ready` (the shard reads and settles those
    /// connections right here: no task per connection, no wake-up each), until the
    /// ring fails; then every socket reports the error once more and it returns.
    pub async fn drive(self: Rc<Self>, mut on_ready: impl FnMut(&[Owner])) {
        let mut ready = Vec::new();
        loop {
            let turn = match std::future::poll_fn(|cx| self.poll_work(cx)).await {
                Ok(()) => self.inner.borrow_mut().turn(),
                Err(err) => Err(err),
            };
            let more = match turn {
                Ok(more) => more,
                Err(err) => {
                    tracing::error!("io_uring: the ring failed: {err}");
                    self.inner.borrow_mut().fail_all();
                    self.take_ready(&mut ready);
                    on_ready(&ready);
                    return;
                }
            };
            self.take_ready(&mut ready);
            if !ready.is_empty() {
                on_ready(&ready);
                ready.clear();
            }
            if more {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Moves the ready list into `into` (the ring is not borrowed while the shard
    /// looks at the connections: their reads and writes borrow it).
    fn take_ready(&self, into: &mut Vec<Owner>) {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        for (slot, owner) in inner.ready.drain(..) {
            if let Some(entry) = inner.sockets.get_mut(slot) {
                entry.listed = false;
            }
            into.push(owner);
        }
    }

    /// Ready when there is something to submit or to reap.
    fn poll_work(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.readiness.poll_read_ready(cx) {
            Poll::Ready(Ok(mut guard)) => {
                // Cleared before reaping: a completion posted after this wakes us again.
                guard.clear_ready();
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => {}
        }
        let mut inner = self.inner.borrow_mut();
        if inner.queued || !inner.ready.is_empty() || !inner.uring.completion().is_empty() {
            return Poll::Ready(Ok(()));
        }
        if inner.starved.is_empty() && !inner.pool.has_failed() {
            inner.probe_timer = None;
        } else {
            let timer = inner
                .probe_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(STARVED_PROBE)));
            if timer.as_mut().poll(cx).is_ready() {
                inner.probe_timer = None;
                inner.probe_due = true;
                inner.pool.retry();
                return Poll::Ready(Ok(()));
            }
        }
        if !inner
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            inner.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Inner {
    /// Queues an entry for the next submission (submitting now if the queue is full).
    fn push(&mut self, entry: squeue::Entry) {
        if self.failed {
            return;
        }
        loop {
            // SAFETY: every buffer an entry points to outlives its request: send
            // buffers live in their socket's `Entry`, which leaves the slab only after
            // its last request completed (a `Vec`'s heap data does not move with it);
            // pool memory lives until the ring is drained (`Drop`), or is leaked.
            // Receives, cancels and buffer provisions point to nothing else.
            #[allow(unsafe_code)]
            let pushed = unsafe { self.uring.submission().push(&entry) }.is_ok();
            if pushed {
                break;
            }
            // Full: hand the queue to the kernel now. A failure here (EBUSY while
            // completions back up) is retried by the ring task's next turn.
            match self.uring.submit() {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    tracing::error!("io_uring: submit failed: {err}");
                    self.fail_all();
                    return;
                }
            }
            self.reap();
        }
        if entry.get_user_data() & 7 != OP_CANCEL {
            self.in_flight += 1;
        }
        self.wake_driver();
    }

    /// Tells the socket's owner (or waiting task) to look at it.
    fn notify(&mut self, slot: usize) {
        let Some(entry) = self.sockets.get_mut(slot) else {
            return;
        };
        if let Some(waker) = entry.waker.take() {
            waker.wake();
        }
        if let Some(owner) = entry.owner {
            if !entry.listed {
                entry.listed = true;
                self.ready.push((slot, owner));
            }
        }
    }

    fn wake_driver(&mut self) {
        if !self.queued {
            self.queued = true;
            if let Some(waker) = self.waker.take() {
                waker.wake();
            }
        }
    }

    fn insert(&mut self, stream: std::net::TcpStream) -> usize {
        self.next_gen = self.next_gen.wrapping_add(1);
        let slot = self.sockets.insert(Box::new(Entry {
            stream,
            gen: self.next_gen,
            rx: VecDeque::new(),
            eof: false,
            error: None,
            recv_armed: false,
            recv_paused: false,
            sending: None,
            next: Vec::new(),
            shut_after_send: false,
            write_blocked: false,
            finished: false,
            owner: None,
            listed: false,
            waker: None,
        }));
        self.arm_recv(slot);
        slot
    }

    fn arm_recv(&mut self, slot: usize) {
        let entry = &mut self.sockets[slot];
        entry.recv_armed = true;
        let recv = opcode::RecvMulti::new(Fd(entry.stream.as_raw_fd()), pool::GROUP)
            .build()
            .user_data(user_data(slot, entry.gen, OP_RECV));
        self.push(recv);
    }

    /// Submits, reaps and dispatches for a few rounds; `true` if work is left.
    fn turn(&mut self) -> io::Result<bool> {
        for _ in 0..ROUNDS_PER_TURN {
            self.rounds += 1;
            let starving = !self.starved.is_empty();
            if let Some((entry, first, count)) = self.pool.grow(self.kernel_buffers, starving) {
                self.push(entry.user_data(provide_data(first, count)));
            }
            if self.pool.should_provide(self.kernel_buffers, starving) {
                let mut entries = Vec::new();
                self.pool.provide_returned(|e, first, count| {
                    entries.push(e.user_data(provide_data(first, count)));
                });
                for entry in entries {
                    self.push(entry);
                }
            }
            // As many per round as the kernel is known to have buffers (counted when
            // their provision completed): a receive armed with none fails at once, so
            // re-arming every starved socket at once, or on a guess, would churn.
            let mut rearm = self.kernel_buffers.min(self.starved.len());
            if std::mem::take(&mut self.probe_due) {
                rearm = rearm.max(1).min(self.starved.len());
            }
            for slot in self.starved.drain(..rearm).collect::<Vec<_>>() {
                if self
                    .sockets
                    .get(slot)
                    .is_some_and(|e| !e.finished && !e.recv_armed && !e.recv_paused)
                {
                    self.arm_recv(slot);
                }
            }
            self.queued = false;
            let overflow = self.uring.submission().cq_overflow();
            if !self.uring.submission().is_empty() || overflow {
                match self.uring.submit() {
                    Ok(_) => {}
                    // Completions back up: reap them, then submit again.
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => self.queued = true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => self.queued = true,
                    Err(e) => return Err(e),
                }
            }
            // Done when nothing came back, nothing waits to be submitted and no
            // starved socket can be re-armed with buffers the kernel is known to have.
            let rearmable = self.kernel_buffers > 0 && !self.starved.is_empty();
            if !self.reap() && !self.queued && !rearmable {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Hands every completion to its socket; `true` if there were some.
    fn reap(&mut self) -> bool {
        let mut reaped = std::mem::take(&mut self.reaped);
        reaped.extend(
            self.uring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        let any = !reaped.is_empty();
        for (data, result, flags) in reaped.drain(..) {
            self.complete(data, result, flags);
        }
        self.reaped = reaped;
        any
    }

    fn complete(&mut self, data: u64, result: i32, flags: u32) {
        let op = data & 7;
        if op != OP_CANCEL && !cqueue::more(flags) {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let slot = usize::try_from(data >> 32).unwrap_or(usize::MAX);
        let gen = u32::try_from((data >> 3) & 0x1FFF_FFFF).unwrap_or(0);
        match op {
            OP_RECV => self.received(slot, gen, result, flags),
            OP_SEND => self.sent(slot, gen, result),
            OP_PROVIDE => {
                let count = u16::try_from((data >> 32) & 0xFFFF).unwrap_or(0);
                if result < 0 {
                    // Kept, and provided again with the next probe.
                    let first = u16::try_from((data >> 16) & 0xFFFF).unwrap_or(0);
                    self.pool.provision_failed(first, count);
                    tracing::error!(
                        "io_uring: providing {count} receive buffers failed: {}",
                        io::Error::from_raw_os_error(-result)
                    );
                } else {
                    let total = usize::from(self.pool.count());
                    self.kernel_buffers = (self.kernel_buffers + usize::from(count)).min(total);
                }
            }
            _ => {}
        }
    }

    fn received(&mut self, slot: usize, gen: u32, result: i32, flags: u32) {
        let bid = cqueue::buffer_select(flags);
        if bid.is_some() {
            self.kernel_buffers = self.kernel_buffers.saturating_sub(1);
        }
        let Some(entry) = self
            .sockets
            .get_mut(slot)
            .filter(|e| e.gen & GEN_MASK == gen)
        else {
            if let Some(bid) = bid {
                self.pool.give_back(bid);
            }
            return;
        };
        let more = cqueue::more(flags);
        if !more {
            entry.recv_armed = false;
        }
        let mut starved = false;
        match result {
            n if n > 0 => match bid {
                Some(bid) if !entry.finished => {
                    let len = usize::try_from(n).unwrap_or(0);
                    entry.rx.push_back((bid, 0, len));
                }
                Some(bid) => self.pool.give_back(bid),
                None => entry.error = Some(libc::EIO),
            },
            0 => {
                entry.eof = true;
                if let Some(bid) = bid {
                    self.pool.give_back(bid);
                }
            }
            e if -e == libc::ENOBUFS => {
                // The kernel's word: it has none (our count may have been high).
                self.kernel_buffers = 0;
                starved = true;
            }
            e if -e == libc::ECANCELED => {}
            e => entry.error = Some(-e),
        }
        let full = entry.rx.len() >= RX_LIMIT;
        if full && more && !entry.recv_paused && !entry.finished {
            // Holding a socket buffer's worth unread: stop taking from the pool until
            // the connection reads (`resume_recv`).
            entry.recv_paused = true;
            let target = user_data(slot, entry.gen, OP_RECV);
            self.push(
                opcode::AsyncCancel::new(target)
                    .build()
                    .user_data(OP_CANCEL),
            );
        }
        self.notify(slot);
        if more {
            return;
        }
        let entry = &mut self.sockets[slot];
        let live = !entry.finished && !entry.eof && entry.error.is_none();
        if !live {
            self.release_if_idle(slot);
        } else if entry.recv_paused && entry.rx.len() >= RX_LIMIT / 2 {
            // Re-armed when the connection reads its queue down (`resume_recv`).
        } else if starved {
            // Never re-armed at once: with no buffers it would fail again at once.
            // Re-armed when provisions complete, or by the probe.
            entry.recv_paused = false;
            self.starved.push_back(slot);
            if self.pool.has_returned() {
                self.wake_driver();
            }
        } else {
            // Paused and read down meanwhile, or ended without an error (completion
            // queue overflow): again.
            entry.recv_paused = false;
            self.arm_recv(slot);
        }
    }

    /// The connection read its queue down: resumes a paused receive.
    fn resume_recv(&mut self, slot: usize) {
        let Some(entry) = self.sockets.get_mut(slot) else {
            return;
        };
        let live = !entry.finished && !entry.eof && entry.error.is_none();
        if entry.recv_paused && !entry.recv_armed && live && entry.rx.len() < RX_LIMIT / 2 {
            entry.recv_paused = false;
            self.arm_recv(slot);
        }
    }

    fn sent(&mut self, slot: usize, gen: u32, result: i32) {
        let Some(entry) = self
            .sockets
            .get_mut(slot)
            .filter(|e| e.gen & GEN_MASK == gen)
        else {
            return;
        };
        let Some((buf, mut done)) = entry.sending.take() else {
            return;
        };
        match usize::try_from(result) {
            Ok(0) => entry.error = Some(libc::EPIPE),
            Ok(n) => done += n,
            Err(_) if -result == libc::ECANCELED => {}
            Err(_) => entry.error = Some(-result),
        }
        if entry.error.is_none() && !entry.finished {
            if done < buf.len() {
                self.start_send(slot, buf, done);
                return;
            }
            if !entry.next.is_empty() {
                let next = std::mem::take(&mut entry.next);
                self.start_send(slot, next, 0);
            } else if entry.shut_after_send {
                let _ = entry.stream.shutdown(std::net::Shutdown::Write);
            }
        }
        // The owner hears of a send only if it waits for room or the socket failed:
        // a PONG or a fanout frame that went out needs no look.
        let entry = &mut self.sockets[slot];
        if std::mem::take(&mut entry.write_blocked) || entry.error.is_some() {
            self.notify(slot);
        }
        self.release_if_idle(slot);
    }

    /// Sends `buf[from..]`; the buffer stays in the entry until it completes.
    fn start_send(&mut self, slot: usize, buf: Vec<u8>, from: usize) {
        let entry = &mut self.sockets[slot];
        let rest = &buf[from..];
        let send = opcode::Send::new(
            Fd(entry.stream.as_raw_fd()),
            rest.as_ptr(),
            u32::try_from(rest.len()).unwrap_or(u32::MAX),
        )
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(user_data(slot, entry.gen, OP_SEND));
        entry.sending = Some((buf, from));
        self.push(send);
    }

    /// The connection is gone: cancel its requests; close once none is left.
    fn finish(&mut self, slot: usize) {
        let Some(entry) = self.sockets.get_mut(slot) else {
            return;
        };
        entry.finished = true;
        entry.waker = None;
        for (bid, _, _) in entry.rx.drain(..) {
            self.pool.give_back(bid);
        }
        let mut cancel = Vec::new();
        if entry.recv_armed {
            cancel.push(user_data(slot, entry.gen, OP_RECV));
        }
        if entry.sending.is_some() {
            cancel.push(user_data(slot, entry.gen, OP_SEND));
        }
        for target in cancel {
            self.push(
                opcode::AsyncCancel::new(target)
                    .build()
                    .user_data(OP_CANCEL),
            );
        }
        self.wake_driver();
        self.release_if_idle(slot);
    }

    fn release_if_idle(&mut self, slot: usize) {
        if self
            .sockets
            .get(slot)
            .is_some_and(|e| e.finished && !e.recv_armed && e.sending.is_none())
        {
            // Closes the socket.
            self.sockets.remove(slot);
        }
    }

    /// The ring broke: every socket reports an error to its connection.
    fn fail_all(&mut self) {
        self.failed = true;
        let mut slots = Vec::with_capacity(self.sockets.len());
        for (slot, entry) in &mut self.sockets {
            entry.error.get_or_insert(libc::EIO);
            slots.push(slot);
        }
        for slot in slots {
            self.notify(slot);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Requests still in flight may write into the pool or read send buffers:
        // cancel them all and wait (briefly) for their completions before freeing.
        if self.in_flight == 0 {
            return;
        }
        let cancel = opcode::AsyncCancel2::new(CancelBuilder::any())
            .build()
            .user_data(OP_CANCEL);
        self.push(cancel);
        let deadline = Instant::now() + Duration::from_secs(1);
        let wait = Timespec::new().nsec(100_000_000);
        while self.in_flight > 0 && Instant::now() < deadline {
            let args = SubmitArgs::new().timespec(&wait);
            match self.uring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ETIME) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
            let reaped: Vec<_> = self
                .uring
                .completion()
                .map(|c| (c.user_data(), c.flags()))
                .collect();
            for (data, flags) in reaped {
                if data & 7 != OP_CANCEL && !cqueue::more(flags) {
                    self.in_flight = self.in_flight.saturating_sub(1);
                }
            }
        }
        if self.in_flight > 0 {
            tracing::error!(
                requests = self.in_flight,
                "io_uring: requests outlive the ring; leaking its buffers"
            );
            self.pool.leak();
            for (_, entry) in &mut self.sockets {
                std::mem::forget(std::mem::take(&mut entry.next));
                if let Some((buf, _)) = entry.sending.take() {
                    std::mem::forget(buf);
                }
            }
        }
    }
}

/// Whether this kernel lets the driver run: a ring, and a multishot receive with
/// provided buffers on a real TCP connection (Linux 6.0+). `Err` says why not.
pub(crate) fn probe() -> Result<(), String> {
    probe_inner().map_err(|err| match err.raw_os_error() {
        Some(libc::EPERM) => format!(
            "io_uring refused ({err}): seccomp, a container policy or kernel.io_uring_disabled"
        ),
        Some(libc::ENOSYS) => format!("io_uring missing from this kernel ({err})"),
        Some(libc::EINVAL) => format!("multishot receive unsupported ({err}; Linux 6.0+ needed)"),
        _ => format!("io_uring probe failed: {err}"),
    })
}

fn probe_inner() -> io::Result<()> {
    use std::io::Write;

    // Declared before the ring: outlives it (the ring is drained before it drops).
    let mut pool = Pool::new(1, 64);
    let mut uring = IoUring::new(8)?;
    let mut probe = io_uring::Probe::new();
    uring.submitter().register_probe(&mut probe)?;
    for code in [
        opcode::RecvMulti::CODE,
        opcode::Send::CODE,
        opcode::ProvideBuffers::CODE,
        opcode::AsyncCancel::CODE,
    ] {
        if !probe.is_supported(code) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.write_all(b"x")?;
    let recv = opcode::RecvMulti::new(Fd(server.as_raw_fd()), pool::GROUP)
        .build()
        .user_data(1);
    let cancel = opcode::AsyncCancel::new(1).build().user_data(2);
    let provide = pool.provide_first(1).0.user_data(3);
    let mut got = None;
    let mut ended = false;
    // SAFETY: the provided buffer is `pool`'s, which outlives the ring; the receive
    // is cancelled and its last completion awaited below before anything drops.
    #[allow(unsafe_code)]
    unsafe {
        uring
            .submission()
            .push(&provide)
            .map_err(io::Error::other)?;
        uring.submission().push(&recv).map_err(io::Error::other)?;
    }
    uring.submit_and_wait(2)?;
    let reap = |uring: &mut IoUring, got: &mut Option<(i32, bool)>, ended: &mut bool| {
        for c in uring.completion() {
            if c.user_data() == 1 {
                got.get_or_insert((c.result(), cqueue::more(c.flags())));
                *ended |= !cqueue::more(c.flags());
            }
        }
    };
    reap(&mut uring, &mut got, &mut ended);
    if !ended {
        // SAFETY: a cancel points to no memory.
        #[allow(unsafe_code)]
        unsafe {
            uring.submission().push(&cancel).map_err(io::Error::other)?;
        }
        while !ended {
            uring.submit_and_wait(1)?;
            reap(&mut uring, &mut got, &mut ended);
        }
    }
    match got {
        Some((1, true)) => Ok(()),
        Some((n, _)) if n < 0 => Err(io::Error::from_raw_os_error(-n)),
        _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
    }
}

#[cfg(test)]
mod tests;
