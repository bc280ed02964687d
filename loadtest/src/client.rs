//! Opening one gateway WebSocket from a chosen loopback source address.
//!
//! RFC 6455 is tokio-tungstenite's, not our gateway's codec. The socket is bound to a
//! `127.0.0.x` source address before connecting, so more connections than one address
//! has ephemeral ports (about 28 000 per destination) can reach one gateway port, and so
//! the gateway's per-IP connection cap applies per source address.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::stamped::Stamped;

/// One gateway connection.
pub type Ws = WebSocketStream<Stamped>;

/// Time allowed for TCP connect plus the HTTP upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens `ws://<gateway>/gateway?v=1&encoding=msgpack` from `source` (any when `None`),
/// with the kernel's receive stamps when `stamps`.
pub async fn open(
    gateway: SocketAddr,
    source: Option<Ipv4Addr>,
    stamps: bool,
) -> anyhow::Result<Ws> {
    let socket = TcpSocket::new_v4().context("socket")?;
    if let Some(ip) = source {
        bind_source(&socket, ip).with_context(|| format!("binding source address {ip}"))?;
    }
    let handshake = async {
        let stream = socket
            .connect(gateway)
            .await
            .with_context(|| format!("TCP connect to {gateway}"))?;
        stream.set_nodelay(true)?;
        let stream = Stamped::new(stream, stamps).context("SO_TIMESTAMPNS")?;
        let url = format!("ws://{gateway}/gateway?v=1&encoding=msgpack");
        // Frames are flushed one by one by `send`; no need for a large write buffer
        // per connection when a process holds 20 000 of them.
        let config = WebSocketConfig {
            write_buffer_size: 0,
            ..Default::default()
        };
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
            .await
            .context(
                "WebSocket upgrade (HTTP 429: raise the gateway's --max-connections-per-ip)",
            )?;
        anyhow::Ok(ws)
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .context("connect + upgrade timed out")?
}

/// Binds `socket` to source address `ip`, leaving the port to `connect`
/// (`IP_BIND_ADDRESS_NO_PORT`). Bound with port 0, the kernel picks a port free for
/// every destination at `bind`, scanning the ephemeral range past the ports an earlier
/// run left in TIME_WAIT: seconds of client CPU per 10 000 connections, slow storms
/// that starve the server beside them of CPU, and `EADDRINUSE` once the range is used
/// up. At `connect` only the address and port pair must be free.
pub fn bind_source(socket: &TcpSocket, ip: Ipv4Addr) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        set_int_option(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            1,
        )?;
    }
    socket.bind(SocketAddr::new(ip.into(), 0))
}

/// `setsockopt(fd, level, name, value)` for an `int` option.
#[cfg(target_os = "linux")]
pub fn set_int_option(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>())
        .map_err(std::io::Error::other)?;
    // SAFETY: the caller's fd is open for the call; the value points to a `c_int` on
    // this stack frame and `len` is its size, as an `int` option expects.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::setsockopt(fd, level, name, std::ptr::from_ref(&value).cast(), len) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The source address of connection `index` when spreading over `sources`.
pub fn source_for(index: usize, sources: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    (!sources.is_empty()).then(|| sources[index % sources.len()])
}

/// `count` loopback source addresses, 127.0.0.1 upwards.
pub fn loopback_sources(count: usize) -> Vec<Ipv4Addr> {
    (0..count.max(1))
        .map(|i| {
            let n = i as u32 + 1;
            Ipv4Addr::new(127, 0, (n >> 8) as u8, (n & 0xff) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_loopback_and_spread() {
        let s = loopback_sources(3);
        assert_eq!(s[0], Ipv4Addr::new(127, 0, 0, 1));
        assert!(s.iter().all(Ipv4Addr::is_loopback));
        assert_eq!(source_for(4, &s), Some(s[1]));
        assert_eq!(source_for(4, &[]), None);
    }

    #[tokio::test]
    async fn a_bound_source_takes_its_port_at_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        let source = Ipv4Addr::new(127, 0, 0, 2);
        bind_source(&socket, source).unwrap();
        let bound = socket.local_addr().unwrap();
        assert_eq!(bound.ip(), source);
        if cfg!(target_os = "linux") {
            assert_eq!(bound.port(), 0, "no port taken at bind");
        }
        let stream = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let local = stream.local_addr().unwrap();
        assert_eq!(local.ip(), source);
        assert_ne!(local.port(), 0);
    }
}
