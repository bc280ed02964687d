//! One connection as its shard holds it: the socket (plain or TLS, driven directly so
//! the shard can write to it without a task of its own), the sans-IO session, and a
//! few flags. No buffers while idle: reads go through the shard's buffer, writes come
//! straight from the session's frame queue (DESIGN.md idea 6).

use std::io::{self, IoSlice, Read, Write};
use std::rc::Rc;
use std::task::Waker;

use protocol::codec::Encoding;
use protocol::{ChannelId, UserId};
use service::PresenceGuard;
use tokio::net::TcpStream;

use crate::core::session::Session;
use crate::server::Slot;

/// Frames per vectored write.
const MAX_IOVECS: usize = 64;

/// Reads per readiness event before other connections get their turn.
const MAX_READS_PER_TURN: usize = 4;

/// A connection of this shard.
pub(crate) struct Conn {
    /// Unique within the process (READY's `session_id`); checks that a task's key still
    /// names its connection.
    pub id: u64,
    pub stream: Rc<dyn Transport>,
    pub tls: Option<Box<rustls::ServerConnection>>,
    pub session: Session,
    pub encoding: Encoding,
    /// Set once identified and registered in fanout.
    pub user: Option<UserId>,
    /// Channels this session follows, to leave them on close.
    pub channels: Vec<ChannelId>,
    /// Channels whose live events up to an offset this session already has (it joined
    /// ahead of its shard); usually none, so boxed (8 bytes, not 24, per connection).
    #[allow(clippy::box_collection)] // the point: one pointer inline, not a Vec's three words
    pub floors: Option<Box<Vec<(ChannelId, u64)>>>,
    /// An identify or a request of this connection is running (they run in order).
    pub busy: bool,
    /// On the shard's dirty list.
    pub dirty: bool,
    /// The shard asks the IO task to look again (new interest, or finish).
    pub kick: bool,
    /// The IO task's waker while it waits (epoll; io_uring connections have no task).
    pub waker: Option<Waker>,
    /// Writability will be reported without a kick: the IO task waits for it already,
    /// or (io_uring) every finished send is reported anyway.
    pub awaits_writable: bool,
    /// When a closing connection is dropped regardless.
    pub close_at: Option<u64>,
    /// FIN sent after our close frame.
    pub write_shut: bool,
    /// Nothing more to do: the IO task removes it.
    pub done: bool,
    pub presence: Option<PresenceGuard>,
    /// This connection's place in its address's count.
    pub _slot: Slot,
    /// This session's place in its user's count, once identified.
    pub user_slot: Option<Slot>,
}

/// What a read brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Got {
    /// Everything available was read.
    Drained,
    /// More may be waiting (the turn's budget ran out).
    More,
    /// The peer closed its side.
    Eof,
}

impl Conn {
    /// A connection that has just completed its handshake.
    pub fn new(
        id: u64,
        stream: Rc<dyn Transport>,
        tls: Option<Box<rustls::ServerConnection>>,
        session: Session,
        encoding: Encoding,
        slot: Slot,
    ) -> Self {
        Self {
            id,
            stream,
            tls,
            session,
            encoding,
            user: None,
            channels: Vec::new(),
            floors: None,
            busy: false,
            dirty: false,
            kick: false,
            waker: None,
            awaits_writable: false,
            close_at: None,
            write_shut: false,
            done: false,
            presence: None,
            _slot: slot,
            user_slot: None,
        }
    }

    /// Whether this session already has the channel event at `offset` (and, once it
    /// is past its floor, forgets the floor).
    pub fn has_already(&mut self, channel: ChannelId, offset: u64) -> bool {
        let Some(floors) = &mut self.floors else {
            return false;
        };
        let Some(i) = floors.iter().position(|(c, _)| *c == channel) else {
            return false;
        };
        if offset <= floors[i].1 {
            return true;
        }
        floors.swap_remove(i);
        if floors.is_empty() {
            self.floors = None;
        }
        false
    }

    /// Remembers that this session has `channel`'s live events up to `offset`.
    pub fn add_floor(&mut self, channel: ChannelId, offset: u64) {
        self.floors
            .get_or_insert_with(Box::default)
            .push((channel, offset));
    }

    /// Whether the IO task must wait for writability.
    pub fn wants_write(&self) -> bool {
        self.session.queued_bytes() > 0 || self.tls.as_ref().is_some_and(|t| t.wants_write())
    }

    /// Reads what the socket has into the session, through `buf`.
    pub fn read(&mut self, buf: &mut [u8], now: u64) -> io::Result<Got> {
        for _ in 0..MAX_READS_PER_TURN {
            let n = match &mut self.tls {
                None => match self.stream.try_read(buf) {
                    Ok(0) => return Ok(Got::Eof),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Got::Drained),
                    Err(e) => return Err(e),
                },
                Some(tls) => match read_tls(tls, &*self.stream, buf)? {
                    TlsRead::Plain(n) => n,
                    TlsRead::Eof => return Ok(Got::Eof),
                    TlsRead::Blocked => return Ok(Got::Drained),
                },
            };
            self.session.handle_read(&buf[..n], now);
        }
        Ok(Got::More)
    }

    /// Writes queued frames until the socket would block; `true` when all went out.
    pub fn flush(&mut self) -> io::Result<bool> {
        match &mut self.tls {
            None => loop {
                if self.session.queued_bytes() == 0 {
                    return Ok(true);
                }
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let n = self.session.transmit_slices(&mut slices);
                match self.stream.try_write_vectored(&slices[..n]) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(written) => self.session.advance_transmit(written),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) => return Err(e),
                }
            },
            Some(tls) => loop {
                // Plaintext into rustls while it takes it (it caps its own buffer)...
                while self.session.queued_bytes() > 0 {
                    let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                    let n = self.session.transmit_slices(&mut slices);
                    let took = tls.writer().write_vectored(&slices[..n])?;
                    if took == 0 {
                        break;
                    }
                    self.session.advance_transmit(took);
                }
                // ...then ciphertext to the socket.
                if !tls.wants_write() {
                    return Ok(self.session.queued_bytes() == 0);
                }
                match tls.write_tls(&mut Socket(&*self.stream)) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) => return Err(e),
                }
            },
        }
    }

    /// Sends FIN after our close frame (and TLS close_notify first).
    pub fn shutdown_write(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.send_close_notify();
            let _ = self.flush();
        }
        self.stream.shutdown_write();
        self.write_shut = true;
    }
}

enum TlsRead {
    Plain(usize),
    Eof,
    Blocked,
}

/// Reads ciphertext, decrypts, and hands out plaintext into `buf`.
fn read_tls(
    tls: &mut rustls::ServerConnection,
    stream: &dyn Transport,
    buf: &mut [u8],
) -> io::Result<TlsRead> {
    loop {
        match tls.reader().read(buf) {
            Ok(0) => return Ok(TlsRead::Eof),
            Ok(n) => return Ok(TlsRead::Plain(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        match tls.read_tls(&mut Socket(stream)) {
            Ok(0) => return Ok(TlsRead::Eof),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(TlsRead::Blocked),
            Err(e) => return Err(e),
        }
        if let Err(err) = tls.process_new_packets() {
            // Tell the peer (the alert is queued), then give up on the connection.
            let _ = tls.write_tls(&mut Socket(stream));
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
    }
}

/// What a connection's bytes go through: a non-blocking socket (or, in the
/// simulator, an in-memory pipe). Every call answers at once (`WouldBlock` when it
/// cannot); waiting for readiness is the IO task's business, not this one's.
pub(crate) trait Transport {
    /// Reads what is available; `Ok(0)` at end of stream.
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes as much of `bufs` as fits now.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Sends FIN.
    fn shutdown_write(&self);
    /// Has the connection looked at again, where the transport itself tells the
    /// shard about its events (io_uring); a connection with an IO task is woken
    /// through that task instead.
    fn kick(&self) {}
}

impl Transport for TcpStream {
    fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::try_read(self, buf)
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        TcpStream::try_write_vectored(self, bufs)
    }

    fn shutdown_write(&self) {
        let _ = socket2::SockRef::from(self).shutdown(std::net::Shutdown::Write);
    }
}

/// The transport as `Read`/`Write` for rustls.
struct Socket<'a>(&'a dyn Transport);

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN.md idea 6: an idle identified connection costs at most ~2 KiB of user
    /// space. These are the fixed parts; queues and buffers start empty.
    #[test]
    fn per_connection_structs_stay_small() {
        let conn = std::mem::size_of::<Conn>();
        let session = std::mem::size_of::<Session>();
        println!("Conn {conn} B, of which Session {session} B");
        // Boxed in the shard's slab, so every byte counts once, rounded up to the
        // allocator's size class: 512 is one (jemalloc's; glibc adds 8 bytes). A new
        // field belongs in a box of its own unless every connection needs it.
        assert!(conn <= 512, "Conn is {conn} bytes");
    }
}
