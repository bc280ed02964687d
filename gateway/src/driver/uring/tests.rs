//! The ring against real loopback sockets: bytes in order through a pool far smaller
//! than the data (buffers starve and come back), sends that back up behind a peer that
//! does not read, FIN after the last byte, and a ring dropped with requests in flight.

use std::io::IoSlice;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{probe, Ring, UringSocket};
use crate::driver::connection::Readiness;
use crate::shard::conn::Transport;

fn run(test: impl std::future::Future<Output = ()>) {
    if let Err(reason) = probe() {
        println!("skipped: {reason}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        tokio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("test timed out");
    });
}

/// A connected pair: (the ring's end, the peer).
async fn pair(ring: &Rc<Ring>) -> (Rc<UringSocket>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    (ring.adopt(ours).unwrap(), peer)
}

/// Reads until `want` bytes or end of stream.
async fn read_all(socket: &UringSocket, want: usize) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1000];
    loop {
        if got.len() >= want {
            return (got, false);
        }
        assert!(socket.ready(false).await.unwrap());
        match socket.try_read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Writes all of `data`, waiting for room like the IO task does.
async fn write_all(socket: &UringSocket, data: &[u8]) {
    let mut sent = 0;
    while sent < data.len() {
        let halves = data[sent..].split_at((data.len() - sent) / 2);
        match socket.try_write_vectored(&[IoSlice::new(halves.0), IoSlice::new(halves.1)]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                socket.ready(true).await.unwrap();
            }
            Err(e) => panic!("write failed: {e}"),
        }
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn bytes_arrive_in_order_through_a_small_pool() {
    run(async {
        // 4 buffers of 64 bytes for 200 KB: receives starve and re-arm many times.
        let ring = Ring::with_pool(4, 64).unwrap();
        tokio::task::spawn_local(ring.clone().drive());
        let (socket, mut peer) = pair(&ring).await;
        let data = pattern(200_000);
        let writer = {
            let data = data.clone();
            tokio::spawn(async move {
                peer.write_all(&data).await.unwrap();
                peer.shutdown().await.unwrap();
                peer
            })
        };
        let (got, eof) = read_all(&socket, usize::MAX).await;
        assert!(eof, "end of stream after the data");
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        drop(writer.await.unwrap());
    });
}

#[test]
fn sends_back_up_then_flow_and_fin_follows_the_last_byte() {
    run(async {
        let ring = Ring::with_pool(16, 1024).unwrap();
        tokio::task::spawn_local(ring.clone().drive());
        let (socket, mut peer) = pair(&ring).await;
        // Far more than the socket buffers and our two send buffers hold, so writes
        // must wait for the peer, which starts reading only later.
        let data = pattern(8 * 1024 * 1024);
        let reader = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut got = Vec::new();
            peer.read_to_end(&mut got).await.unwrap();
            got
        });
        write_all(&socket, &data).await;
        socket.shutdown_write();
        let got = reader.await.unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
    });
}

#[test]
fn a_ring_dropped_with_requests_in_flight_closes_its_sockets() {
    run(async {
        let ring = Ring::with_pool(8, 256).unwrap();
        let driver = tokio::task::spawn_local(ring.clone().drive());
        let (socket, mut peer) = pair(&ring).await;
        // A send that cannot finish (the peer does not read) and an armed receive.
        let data = pattern(16 * 1024 * 1024);
        let mut sent = 0;
        for _ in 0..100 {
            match socket.try_write_vectored(&[IoSlice::new(&data[sent..])]) {
                Ok(n) => sent += n,
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        assert!(sent < data.len(), "the peer took everything");
        driver.abort();
        let _ = driver.await;
        drop(socket);
        assert_eq!(Rc::strong_count(&ring), 1);
        drop(ring);
        // The socket is closed: the peer reads what arrived, then the end.
        let mut sink = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), peer.read_to_end(&mut sink))
            .await
            .expect("socket still open");
        assert!(read.is_ok() || !sink.is_empty());
        assert!(sink.len() <= sent);
    });
}

#[test]
fn a_closed_peer_ends_the_read_and_a_write_after_it_fails() {
    run(async {
        let ring = Ring::with_pool(8, 256).unwrap();
        tokio::task::spawn_local(ring.clone().drive());
        let (socket, peer) = pair(&ring).await;
        drop(peer);
        let (got, eof) = read_all(&socket, usize::MAX).await;
        assert!(got.is_empty() && eof);
        // The first write may still be taken; one after the reset must fail.
        let mut failed = false;
        for _ in 0..50 {
            match socket.try_write_vectored(&[IoSlice::new(b"hello")]) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    failed = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(failed, "writes to a closed peer kept succeeding");
    });
}
