//! The ceiling: what a plain loop writing the same frame bytes to the same number of
//! loopback sockets achieves on this machine, measured in the same run.
//!
//! A child process (this binary's hidden `ceiling-writer`) accepts N connections and
//! writes `per_write` copies of one server WebSocket frame per `write()` to each socket
//! in turn, for a fixed time, and reports frames written and its own CPU seconds. This
//! process holds the N client sockets and only reads and discards bytes. The figure to
//! compare with the gateway is frames (deliveries) per writer CPU-second: everything a
//! gateway does beyond that loop is its overhead. Two processes because one may hold at
//! most 20 000 sockets here.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpSocket;

use crate::client;
use crate::metrics::proc_sample;

/// What the write loop achieved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ceiling {
    /// Sockets written to.
    pub conns: u64,
    /// Frames per `write()`.
    pub frames_per_write: u64,
    /// Bytes per frame (header included).
    pub frame_bytes: u64,
    /// Frames written.
    pub frames: u64,
    /// Seconds of writing.
    pub secs: f64,
    /// Writer CPU seconds.
    pub cpu_secs: f64,
    /// Frames per second.
    pub frames_per_sec: f64,
    /// Frames per writer CPU-second.
    pub frames_per_cpu_sec: f64,
}

/// A server-to-client binary WebSocket frame (unmasked) around `payload`.
pub fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x82];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n < 65_536 => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Runs the ceiling: `conns` sockets, `frame` written `per_write` at a time, for `duration`.
pub async fn run(
    conns: usize,
    frame: &[u8],
    per_write: usize,
    duration: Duration,
    sources: &[Ipv4Addr],
) -> anyhow::Result<Ceiling> {
    use base64::Engine;
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .arg("ceiling-writer")
        .arg(conns.to_string())
        .arg(per_write.to_string())
        .arg(duration.as_millis().to_string())
        .arg(base64::engine::general_purpose::STANDARD.encode(frame))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the ceiling writer")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let port: u16 = lines.next_line().await?.context("writer port")?.parse()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let bytes = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::with_capacity(conns);
    for i in 0..conns {
        let socket = TcpSocket::new_v4()?;
        if let Some(ip) = client::source_for(i, sources) {
            client::bind_source(&socket, ip)?;
        }
        let mut stream = socket
            .connect(addr)
            .await
            .context("connecting to the writer")?;
        let bytes = bytes.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
        }));
    }
    let line = lines.next_line().await?.context("writer result")?;
    let result: Ceiling = serde_json::from_str(&line)?;
    for r in readers {
        r.abort();
    }
    let _ = child.wait().await;
    Ok(result)
}

/// The hidden `ceiling-writer CONNS PER_WRITE MILLIS FRAME_BASE64` subcommand.
pub fn writer_main(args: &[String]) -> anyhow::Result<()> {
    use base64::Engine;
    let [conns, per_write, millis, frame] = args else {
        anyhow::bail!("usage: ceiling-writer CONNS PER_WRITE MILLIS FRAME_BASE64");
    };
    let (conns, per_write): (usize, usize) = (conns.parse()?, per_write.parse()?);
    let duration = Duration::from_millis(millis.parse()?);
    let payload = base64::engine::general_purpose::STANDARD.decode(frame)?;
    let frame = ws_frame(&payload);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", listener.local_addr()?.port())?;
    out.flush()?;
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        sockets.push(s);
    }
    let batch: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * per_write)
        .collect();
    let cpu0 = proc_sample("thread-self")?.cpu_secs;
    let start = Instant::now();
    let mut frames = 0u64;
    'outer: loop {
        for s in &mut sockets {
            if std::io::Write::write_all(s, &batch).is_err() {
                break 'outer;
            }
            frames += per_write as u64;
        }
        if start.elapsed() >= duration {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = proc_sample("thread-self")?.cpu_secs - cpu0;
    let result = Ceiling {
        conns: conns as u64,
        frames_per_write: per_write as u64,
        frame_bytes: frame.len() as u64,
        frames,
        secs,
        cpu_secs: cpu,
        frames_per_sec: frames as f64 / secs,
        frames_per_cpu_sec: frames as f64 / cpu.max(0.01),
    };
    writeln!(out, "{}", serde_json::to_string(&result)?)?;
    out.flush()?;
    drop(sockets);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_rfc6455_length_forms() {
        assert_eq!(ws_frame(&[1, 2])[..2], [0x82, 2]);
        assert_eq!(ws_frame(&[0; 200])[..4], [0x82, 126, 0, 200]);
        assert_eq!(ws_frame(&[0; 70_000])[1], 127);
    }
}
