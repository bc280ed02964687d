//! Reading the HTTP upgrade request off a socket and choosing what the connection
//! speaks: `/gateway` (with `v` and `encoding`) or `/echo`.

use std::time::Duration;

use protocol::codec::Encoding;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::GatewayConfig;
use crate::core::session::Mode;
use crate::core::ws::handshake::{self as hs, UpgradeRequest};
use crate::core::ws::{write_accept, write_reject};

/// A completed upgrade: the mode and any bytes the client sent after its request.
pub struct Upgraded {
    /// What the connection speaks.
    pub mode: Mode,
    /// Bytes after the request (the first frames, if the client did not wait).
    pub leftover: Vec<u8>,
}

/// Reads and answers the upgrade request. `None` when the connection ended here
/// (refused with a status, timed out, or closed).
pub async fn accept<S>(stream: &mut S, config: &GatewayConfig) -> Option<Upgraded>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = Duration::from_millis(config.handshake_timeout_ms);
    let outcome = tokio::time::timeout(deadline, read_request(stream, config)).await;
    let (request, leftover) = match outcome {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return None,
        Ok(Err(reject)) => {
            let _ = stream.write_all(&reject).await;
            let _ = stream.shutdown().await;
            return None;
        }
        Err(_) => {
            metrics::counter!("gateway_handshake_timeouts_total").increment(1);
            return None;
        }
    };
    let mode = match route(&request, config) {
        Ok(mode) => mode,
        Err(reject) => {
            let _ = stream.write_all(&reject).await;
            let _ = stream.shutdown().await;
            return None;
        }
    };
    let mut response = Vec::with_capacity(160);
    write_accept(&request.key, &mut response);
    stream.write_all(&response).await.ok()?;
    Some(Upgraded { mode, leftover })
}

/// Answers with an HTTP error and closes, reading out (briefly, boundedly) what the
/// client sent so the answer is not lost to a TCP reset.
pub async fn refuse<S>(stream: &mut S, status: u16, reason: &str)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut out = Vec::new();
    write_reject(status, reason, &[], &mut out);
    let _ = stream.write_all(&out).await;
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        for _ in 0..16 {
            if !matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {
                break;
            }
        }
    })
    .await;
}

/// Reads until a complete request; `Err` holds the rejection to write.
async fn read_request<S>(
    stream: &mut S,
    config: &GatewayConfig,
) -> Result<Option<(UpgradeRequest, Vec<u8>)>, Vec<u8>>
where
    S: AsyncRead + Unpin,
{
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        match hs::parse_request(&buf, config.max_header_bytes) {
            Ok(Some(request)) => {
                let leftover = buf.split_off(request.consumed.min(buf.len()));
                return Ok(Some((request, leftover)));
            }
            Ok(None) => continue,
            Err(err) => {
                let mut out = Vec::new();
                err.write_response(&mut out);
                return Err(out);
            }
        }
    }
}

/// Picks the mode from the path and query (PROTOCOL.md section 1).
fn route(request: &UpgradeRequest, config: &GatewayConfig) -> Result<Mode, Vec<u8>> {
    let reject = |status: u16, reason: &str| {
        let mut out = Vec::new();
        write_reject(status, reason, &[], &mut out);
        out
    };
    match request.path.as_str() {
        "/gateway" => {
            let param = |name: &str| {
                request
                    .query
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            match param("v") {
                Some("1") => {}
                Some(_) => {
                    return Err(reject(400, "unsupported protocol version v (expected v=1)"))
                }
                None => return Err(reject(400, "missing protocol version v (expected v=1)")),
            }
            let encoding = match param("encoding") {
                None => Encoding::MsgPack,
                Some(name) => Encoding::from_query(name)
                    .ok_or_else(|| reject(400, "unknown encoding (expected msgpack or json)"))?,
            };
            Ok(Mode::Gateway(encoding))
        }
        "/echo" if config.echo_endpoint => Ok(Mode::Echo),
        _ => Err(reject(404, "not found")),
    }
}
