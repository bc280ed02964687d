//! Opening one gateway WebSocket from a chosen loopback source address.
//!
//! RFC 6455 is tokio-tungstenite's, not our gateway's codec. The socket is bound to a
//! `127.0.0.x` source address before connecting, so more connections than one address
//! has ephemeral ports (about 28 000 per destination) can reach one gateway port, and so
//! the gateway's per-IP connection cap applies per source address.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// One gateway connection.
pub type Ws = WebSocketStream<TcpStream>;

/// Time allowed for TCP connect plus the HTTP upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens `ws://<gateway>/gateway?v=1&encoding=msgpack` from `source` (any when `None`).
pub async fn open(gateway: SocketAddr, source: Option<Ipv4Addr>) -> anyhow::Result<Ws> {
    let socket = TcpSocket::new_v4().context("socket")?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip.into(), 0))
            .with_context(|| format!("binding source address {ip}"))?;
    }
    let handshake = async {
        let stream = socket
            .connect(gateway)
            .await
            .with_context(|| format!("TCP connect to {gateway}"))?;
        stream.set_nodelay(true)?;
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
}
