//! A minimal WebSocket echo server on Layer4's sans-IO core (`gateway::core::ws`).
//!
//! It exists to run the Autobahn|Testsuite against the core (`scripts/autobahn.sh
//! --start-echo`) and to show how thin a driver is: read bytes, feed them to `WsConn`,
//! echo each message (text as text, binary as binary), write what the core queued with
//! vectored writes, and close TCP when the core says the WebSocket is finished. It is
//! not the gateway's driver (no TLS, no shards, no heartbeat, no slow-consumer cap).
//!
//! ```text
//! cargo run -p gateway --example ws_echo -- --port 9001 --max-message-bytes 16777216
//! ```
//! Serves `ws://HOST:PORT/` and `ws://HOST:PORT/echo`; other paths get 404.

use std::io::IoSlice;
use std::time::Duration;

use bytes::{Buf, Bytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use gateway::core::ws::{parse_request, write_accept, write_not_found, WsConfig, WsConn, WsEvent};

/// Largest request head accepted before answering 431.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Read buffer size per connection.
const READ_BUF: usize = 64 * 1024;
/// How long to read out what the client still sends after our side is done.
const LINGER: Duration = Duration::from_secs(2);
/// Most chunks handed to one vectored write.
const MAX_IOV: usize = 64;

struct Args {
    host: String,
    port: u16,
    config: WsConfig,
}

fn usage() -> &'static str {
    "usage: ws_echo [--host ADDR] [--port PORT] [--max-message-bytes N]\n\
     defaults: --host 127.0.0.1 --port 9001 --max-message-bytes 65536 (port 0 picks one)"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        host: "127.0.0.1".to_owned(),
        port: 9001,
        config: WsConfig::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--host" => args.host = value("--host")?,
            "--port" => {
                args.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?;
            }
            "--max-message-bytes" => {
                let max = value("--max-message-bytes")?
                    .parse()
                    .map_err(|e| format!("--max-message-bytes: {e}"))?;
                args.config = WsConfig::with_max_message_bytes(max);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("ws_echo: {msg}");
            }
            eprintln!("{}", usage());
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    // The Autobahn script waits for this line (and reads the port from it).
    println!("ws_echo listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        let config = args.config.clone();
        tokio::spawn(async move {
            if let Err(e) = serve(stream, config).await {
                eprintln!("ws_echo: {peer}: {e}");
            }
        });
    }
}

/// One connection: the handshake, then the echo loop.
async fn serve(mut stream: TcpStream, config: WsConfig) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut read_buf = vec![0u8; READ_BUF];
    let mut head = Vec::new();
    let leftover = loop {
        let n = stream.read(&mut read_buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(read_buf.get(..n).unwrap_or_default());
        match parse_request(&head, MAX_HEAD_BYTES) {
            Ok(None) => continue,
            Ok(Some(req)) => {
                let mut out = Vec::new();
                if req.path != "/" && req.path != "/echo" {
                    write_not_found(&mut out);
                    stream.write_all(&out).await?;
                    return linger_close(stream).await;
                }
                write_accept(&req.key, &mut out);
                stream.write_all(&out).await?;
                break head.split_off(req.consumed.min(head.len()));
            }
            Err(e) => {
                let mut out = Vec::new();
                e.write_response(&mut out);
                stream.write_all(&out).await?;
                return linger_close(stream).await;
            }
        }
    };

    let mut conn = WsConn::new(config);
    let mut chunks = Vec::new();
    conn.handle_read(&leftover);
    loop {
        while let Some(event) = conn.poll_event() {
            match event {
                WsEvent::Text(text) => {
                    conn.send_text(&text);
                }
                WsEvent::Binary(data) => {
                    conn.send_binary(&data);
                }
                // Pongs are queued by the core; closes are answered by it.
                WsEvent::Ping | WsEvent::Pong | WsEvent::Close { .. } => {}
                WsEvent::ProtocolError { .. } => {}
            }
        }
        conn.drain_into(&mut chunks);
        write_chunks(&mut stream, &mut chunks).await?;
        if conn.should_close_socket() {
            return linger_close(stream).await;
        }
        let n = stream.read(&mut read_buf).await?;
        if n == 0 {
            // The peer went away without a close handshake.
            return Ok(());
        }
        conn.handle_read(read_buf.get(..n).unwrap_or_default());
    }
}

/// Writes every chunk, several per syscall.
async fn write_chunks(stream: &mut TcpStream, chunks: &mut Vec<Bytes>) -> std::io::Result<()> {
    let mut first = 0;
    while first < chunks.len() {
        let slices: Vec<IoSlice<'_>> = chunks
            .iter()
            .skip(first)
            .take(MAX_IOV)
            .map(|c| IoSlice::new(c))
            .collect();
        let mut written = stream.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let Some(chunk) = chunks.get_mut(first) else {
                break;
            };
            if written >= chunk.len() {
                written -= chunk.len();
                first += 1;
            } else {
                chunk.advance(written);
                written = 0;
            }
        }
    }
    chunks.clear();
    Ok(())
}

/// Ends the connection gracefully: send FIN, then read out (and drop) what the client
/// already sent, so that closing does not make the kernel answer with a reset that
/// could destroy our last frames in flight.
async fn linger_close(mut stream: TcpStream) -> std::io::Result<()> {
    stream.shutdown().await?;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(())
}
