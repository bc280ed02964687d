//! A connection's socket on the ring, as the shard sees it: the same `Transport` as a
//! tokio socket (answers at once, `WouldBlock` when it cannot), over the bytes the ring
//! received and the send buffers it owns. Its events go to its connection through the
//! ring task ([`UringSocket::attach`]); the ring's tests wait on it with `Readiness`.

use std::io::{self, IoSlice};
use std::rc::Rc;
#[cfg(test)]
use std::task::Poll;

use super::{Owner, Ring, SEND_MAX};
#[cfg(test)]
use crate::driver::connection::Readiness;
use crate::shard::conn::Transport;

/// A handle to one socket of a ring; dropping the last one cancels what the socket
/// has in flight and closes it once that is done.
pub(crate) struct UringSocket {
    ring: Rc<Ring>,
    slot: usize,
}

impl UringSocket {
    pub(super) fn new(ring: Rc<Ring>, slot: usize) -> Self {
        Self { ring, slot }
    }

    /// From now on, whatever happens to the socket is handed to `owner` by the ring
    /// task; and it looks once now, for what arrived before.
    pub fn attach(&self, owner: Owner) {
        let mut inner = self.ring.inner.borrow_mut();
        if let Some(entry) = inner.sockets.get_mut(self.slot) {
            entry.owner = Some(owner);
        }
        inner.notify(self.slot);
        inner.wake_driver();
    }
}

impl Drop for UringSocket {
    fn drop(&mut self) {
        self.ring.inner.borrow_mut().finish(self.slot);
    }
}

impl Transport for UringSocket {
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inner = self.ring.inner.borrow_mut();
        let inner = &mut *inner;
        let Some(entry) = inner.sockets.get_mut(self.slot) else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let mut n = 0;
        let mut returned = false;
        while n < buf.len() {
            let Some((bid, start, end)) = entry.rx.front_mut() else {
                break;
            };
            let take = (*end - *start).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(inner.pool.bytes(*bid, *start, *start + take));
            *start += take;
            n += take;
            if start == end {
                inner.pool.give_back(*bid);
                entry.rx.pop_front();
                returned = true;
            }
        }
        if returned {
            if entry.rx.is_empty() {
                // Idle connections hold no queue (a few reads per heartbeat interval
                // pay one allocation each instead).
                entry.rx = std::collections::VecDeque::new();
            }
            inner.resume_recv(self.slot);
            inner.wake_driver();
        }
        let entry = &inner.sockets[self.slot];
        match (n, entry.error) {
            (0, Some(errno)) => Err(io::Error::from_raw_os_error(errno)),
            (0, None) if entry.eof => Ok(0),
            (0, None) => Err(io::ErrorKind::WouldBlock.into()),
            (n, _) => Ok(n),
        }
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut inner = self.ring.inner.borrow_mut();
        let Some(entry) = inner.sockets.get_mut(self.slot) else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        if let Some(errno) = entry.error {
            return Err(io::Error::from_raw_os_error(errno));
        }
        if entry.shut_after_send {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        // Straight into a new send when none is in flight, else behind it.
        let idle = entry.sending.is_none();
        let mut target = if idle {
            Vec::new()
        } else {
            std::mem::take(&mut entry.next)
        };
        let room = SEND_MAX.saturating_sub(target.len());
        let total = bufs.iter().map(|b| b.len()).sum::<usize>();
        if total == 0 || room == 0 {
            entry.write_blocked |= total > 0;
            entry.next = target;
            return match total {
                0 => Ok(0),
                _ => Err(io::ErrorKind::WouldBlock.into()),
            };
        }
        let wanted = total.min(room);
        if idle {
            target.reserve_exact(wanted);
        } else {
            // Often many small frames behind one send: grow geometrically.
            target.reserve(wanted);
        }
        let mut copied = 0;
        for buf in bufs {
            let take = buf.len().min(wanted - copied);
            target.extend_from_slice(&buf[..take]);
            copied += take;
            if copied == wanted {
                break;
            }
        }
        if idle {
            inner.start_send(self.slot, target, 0);
        } else {
            inner.sockets[self.slot].next = target;
        }
        Ok(copied)
    }

    fn kick(&self) {
        let mut inner = self.ring.inner.borrow_mut();
        inner.notify(self.slot);
        inner.wake_driver();
    }

    fn shutdown_write(&self) {
        let mut inner = self.ring.inner.borrow_mut();
        let Some(entry) = inner.sockets.get_mut(self.slot) else {
            return;
        };
        if entry.sending.is_some() {
            entry.shut_after_send = true;
        } else {
            let _ = entry.stream.shutdown(std::net::Shutdown::Write);
        }
    }
}

#[cfg(test)]
impl Readiness for UringSocket {
    async fn ready(&self, write: bool) -> io::Result<bool> {
        std::future::poll_fn(|cx| {
            let mut inner = self.ring.inner.borrow_mut();
            let Some(entry) = inner.sockets.get_mut(self.slot) else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            if !entry.rx.is_empty() || entry.eof || entry.error.is_some() {
                return Poll::Ready(Ok(true));
            }
            if write && entry.next.len() < SEND_MAX {
                return Poll::Ready(Ok(false));
            }
            if !entry
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                entry.waker = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}
