//! A TCP stream that remembers when the kernel received the bytes it last read.
//!
//! Send-to-receive latency measured when a session gets round to a frame includes the
//! time the frame waited for the client process: with 10 000 sockets in two client
//! processes on the server's own two cores, that wait is most of a lone message's p99.
//! The kernel stamps each received packet (`SO_TIMESTAMPNS`); on loopback it does so as
//! the server's send hands the packet to the receiving socket, so "arrived" is when the
//! server delivered the frame to the member, whatever the client does next. The stamp
//! comes back with `recvmsg` as a control message; for TCP it is that of the last
//! packet the read consumed, so a frame read together with later ones is given a later
//! arrival than its own (the figure errs towards slower, never faster). The kernel
//! starts stamping shortly after the first socket asks (it switches its stamping on in
//! deferred work), so the first packets after that may come unstamped: such a read
//! reports no stamp and its frames count in send -> receive only.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// A `TcpStream` whose reads keep the kernel's receive timestamp.
#[derive(Debug)]
pub struct Stamped {
    inner: TcpStream,
    /// Microseconds since the Unix epoch of the last packet read; 0 before any.
    last_rx_us: u64,
}

impl Stamped {
    /// Wraps `inner`; when `stamps`, asks the kernel to stamp what it receives from now
    /// on (else reads carry no stamp).
    pub fn new(inner: TcpStream, stamps: bool) -> io::Result<Self> {
        #[cfg(target_os = "linux")]
        if stamps {
            use std::os::fd::AsRawFd;
            crate::client::set_int_option(
                inner.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                1,
            )?;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = stamps;
        Ok(Self {
            inner,
            last_rx_us: 0,
        })
    }

    /// When the kernel received the bytes of the last read (µs since the Unix epoch, the
    /// clock of `metrics::now_micros`); 0 if that read had no stamp.
    pub fn last_rx_us(&self) -> u64 {
        self.last_rx_us
    }
}

impl AsyncRead for Stamped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match this
                .inner
                .try_io(Interest::READABLE, || recv_stamped(&this.inner, unfilled))
            {
                Ok((n, stamp)) => {
                    // A read without a stamp must not keep an older one (too early).
                    this.last_rx_us = stamp.unwrap_or(0);
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // `try_io` cleared the readiness: wait for the next.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// One `recvmsg` into `buf`: the bytes read and the receive stamp, if the kernel gave
/// one.
#[cfg(target_os = "linux")]
fn recv_stamped(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<u64>)> {
    use std::os::fd::AsRawFd;
    // Room for one `cmsghdr` with a `timespec`, 8-byte aligned as `cmsghdr` wants.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: `msghdr` is plain data; all-zero is a valid value (no name, no iovecs).
    #[allow(unsafe_code)]
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: the fd is `stream`'s and open for the call; `msg` points to one iovec over
    // `buf` (writable, `buf.len()` bytes) and to `control` (writable, its size), all
    // alive on this frame until the call returns.
    #[allow(unsafe_code)]
    let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, 0) };
    let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    let mut stamp = None;
    // SAFETY: `msg` was filled by `recvmsg` above: `msg_control`/`msg_controllen` describe
    // the part of `control` the kernel wrote, so the CMSG_* walk stays inside it; the
    // payload of an `SCM_TIMESTAMPNS` message is one `timespec`, read unaligned.
    #[allow(unsafe_code)]
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                stamp = Some(ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n, stamp))
}

/// Elsewhere: a plain read, no stamp.
#[cfg(not(target_os = "linux"))]
fn recv_stamped(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<u64>)> {
    stream.try_read(buf).map(|n| (n, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::now_micros;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback connection: our end wrapped, and the peer.
    async fn pair(stamps: bool) -> (Stamped, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (
            Stamped::new(client.unwrap(), stamps).unwrap(),
            server.unwrap().0,
        )
    }

    #[tokio::test]
    async fn a_read_carries_the_time_the_kernel_received_the_bytes() {
        let (mut stamped, mut server) = pair(true).await;
        assert_eq!(stamped.last_rx_us(), 0);
        let mut got = [0u8; 16];
        // The kernel turns stamping on in deferred work: until then, reads have none.
        for tries in 0.. {
            if !cfg!(target_os = "linux") {
                break;
            }
            assert!(tries < 200, "the kernel never stamped a packet");
            server.write_all(b"?").await.unwrap();
            stamped.read_exact(&mut got[..1]).await.unwrap();
            if stamped.last_rx_us() != 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }

        let before = now_micros();
        server.write_all(b"hello").await.unwrap();
        let after = now_micros();
        // Read late: the stamp is the arrival, not the read.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let n = stamped.read(&mut got).await.unwrap();
        assert_eq!(&got[..n], b"hello");
        let stamp = stamped.last_rx_us();
        if cfg!(target_os = "linux") {
            assert!(
                (before..=after).contains(&stamp),
                "stamp {stamp} outside the write's [{before}, {after}]"
            );
        }

        // Writes pass through; end of stream reads 0.
        stamped.write_all(b"back").await.unwrap();
        let mut echo = [0u8; 4];
        server.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"back");
        drop(server);
        assert_eq!(stamped.read(&mut got).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn without_stamps_a_read_carries_none() {
        let (mut plain, mut server) = pair(false).await;
        server.write_all(b"x").await.unwrap();
        let mut got = [0u8; 4];
        assert_eq!(plain.read(&mut got).await.unwrap(), 1);
        assert_eq!(plain.last_rx_us(), 0);
    }
}
