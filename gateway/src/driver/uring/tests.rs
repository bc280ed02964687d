//! The ring against real loopback sockets: bytes in order through a pool far smaller
//! than the data (buffers starve and come back), sends that back up behind a peer that
//! does not read, FIN after the last byte, a ring dropped with requests in flight, a
//! flooding peer held to its share of the pool, and starved receives that wait without
//! spinning, recover, and leave an idle ring.

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
        tokio::task::spawn_local(ring.clone().drive(|_| {}));
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
        tokio::task::spawn_local(ring.clone().drive(|_| {}));
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
        let driver = tokio::task::spawn_local(ring.clone().drive(|_| {}));
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
        tokio::task::spawn_local(ring.clone().drive(|_| {}));
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

/// Reads what `socket` has now, without waiting.
fn drain_now(socket: &UringSocket, into: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    loop {
        match socket.try_read(&mut buf) {
            Ok(0) => return,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(_) => return,
        }
    }
}

#[test]
fn a_peer_that_floods_an_unread_connection_cannot_take_the_pool() {
    run(async {
        // 256 buffers of 64 bytes; one connection may hold 16 of them unread, plus
        // what one burst brings before the pause takes effect (the kernel fills
        // buffers as fast as data arrives; here a burst is 512 bytes, 8 buffers).
        let ring = Ring::with_pool(256, 64).unwrap();
        tokio::task::spawn_local(ring.clone().drive(|_| {}));
        let (flooded, mut flooder) = pair(&ring).await;
        let (quiet, mut talker) = pair(&ring).await;
        let data = pattern(256 * 1024);
        let writer = {
            let data = data.clone();
            tokio::spawn(async move {
                for chunk in data.chunks(512) {
                    flooder.write_all(chunk).await.unwrap();
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
                flooder.shutdown().await.unwrap();
                flooder
            })
        };
        // Nobody reads `flooded` for a while: its receive pauses at the limit, and
        // the rest waits in the kernel's socket buffer as it would with epoll.
        tokio::time::sleep(Duration::from_millis(300)).await;
        {
            let inner = ring.inner.borrow();
            let held: usize = inner.sockets.iter().map(|(_, e)| e.rx.len()).sum();
            assert!(
                held <= super::RX_LIMIT + 8,
                "one connection holds {held} buffers"
            );
        }
        // The other connection still receives.
        talker.write_all(b"still here").await.unwrap();
        let (got, _) = read_all(&quiet, 10).await;
        assert_eq!(got, b"still here");
        // Reading resumes the flooded one, and every byte arrives in order.
        let (got, eof) = read_all(&flooded, usize::MAX).await;
        assert!(eof);
        assert!(
            got == data,
            "bytes differ ({} of {})",
            got.len(),
            data.len()
        );
        drop(writer.await.unwrap());
    });
}

#[test]
fn starved_connections_wait_without_spinning_then_recover_and_the_ring_goes_idle() {
    run(async {
        // 4 buffers for 8 talking connections that nobody reads: the pool runs dry
        // and most receives stop with ENOBUFS.
        let ring = Ring::with_pool(4, 64).unwrap();
        tokio::task::spawn_local(ring.clone().drive(|_| {}));
        let mut sockets = Vec::new();
        let mut writers = Vec::new();
        let data = pattern(20_000);
        for _ in 0..8 {
            let (socket, mut peer) = pair(&ring).await;
            let data = data.clone();
            writers.push(tokio::spawn(async move {
                peer.write_all(&data).await.unwrap();
                peer.shutdown().await.unwrap();
                peer
            }));
            sockets.push(socket);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !ring.inner.borrow().starved.is_empty(),
            "no receive starved: the test proves nothing"
        );
        // Starved and unread for 500 ms: only the 50 ms probe runs, not a loop.
        let before = ring.inner.borrow().rounds;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let spent = ring.inner.borrow().rounds - before;
        assert!(spent < 100, "{spent} ring rounds while starved and unread");
        // Reading gives buffers back; every connection gets all of its bytes.
        let mut got = vec![Vec::new(); sockets.len()];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got.iter().any(|g| g.len() < data.len()) {
            assert!(tokio::time::Instant::now() < deadline, "stalled: {:?}", {
                got.iter().map(Vec::len).collect::<Vec<_>>()
            });
            for (socket, got) in sockets.iter().zip(&mut got) {
                drain_now(socket, got);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(got.iter().all(|g| *g == data), "bytes differ");
        for writer in writers {
            drop(writer.await.unwrap());
        }
        // Closed everywhere: every buffer goes back to the kernel and the ring idles.
        drop(sockets);
        tokio::time::sleep(Duration::from_millis(200)).await;
        {
            let inner = ring.inner.borrow();
            assert!(inner.sockets.is_empty(), "sockets left open");
            assert_eq!(inner.kernel_buffers, 4, "buffers not back with the kernel");
            assert!(inner.starved.is_empty());
        }
        let before = ring.inner.borrow().rounds;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let spent = ring.inner.borrow().rounds - before;
        assert!(spent <= 2, "{spent} ring rounds while idle");
    });
}

#[test]
fn an_attached_socket_tells_its_owner_once_per_round_with_no_task_waiting() {
    run(async {
        let ring = Ring::with_pool(16, 256).unwrap();
        let told = Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = told.clone();
        tokio::task::spawn_local(ring.clone().drive(move |ready| {
            seen.borrow_mut().extend_from_slice(ready);
        }));
        let (socket, mut peer) = pair(&ring).await;
        let (_quiet, _quiet_peer) = pair(&ring).await;
        // Bytes that arrived before the owner was known are reported on attach.
        peer.write_all(b"early").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(told.borrow().is_empty(), "no owner yet, nobody told");
        socket.attach((7, 70));
        wait_for(&told, 1).await;
        assert_eq!(told.borrow()[0], (7, 70));
        let mut got = Vec::new();
        drain_now(&socket, &mut got);
        assert_eq!(got, b"early");
        // Several receives before the owner looks: listed once per round, not once
        // per completion.
        told.borrow_mut().clear();
        // (Fewer than RX_LIMIT: an unread connection's receive pauses there.)
        for _ in 0..10 {
            peer.write_all(b"x").await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let reports = told.borrow().len();
        assert!((1..=10).contains(&reports), "{reports} reports");
        assert!(told.borrow().iter().all(|o| *o == (7, 70)));
        got.clear();
        drain_now(&socket, &mut got);
        assert_eq!(got, [b'x'; 10]);
        // A send that went out is not reported (nobody waits for it)...
        told.borrow_mut().clear();
        socket.try_write_vectored(&[IoSlice::new(b"pong")]).unwrap();
        let mut pong = [0u8; 4];
        peer.read_exact(&mut pong).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(told.borrow().is_empty(), "a finished send was reported");
        // ...one the owner was refused room for is, once room is back.
        let data = pattern(64 * 1024 * 1024);
        let mut sent = 0;
        while sent < data.len() {
            match socket.try_write_vectored(&[IoSlice::new(&data[sent..])]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("write failed: {e}"),
            }
            tokio::task::yield_now().await;
        }
        assert!(sent < data.len(), "the kernel took everything");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(told.borrow().is_empty(), "blocked, and nothing moved");
        let mut sink = vec![0u8; sent];
        peer.read_exact(&mut sink).await.unwrap();
        wait_for(&told, 1).await;
        assert!(sink == data[..sent], "bytes differ");
        // ...and so is a kick from the shard.
        told.borrow_mut().clear();
        socket.kick();
        wait_for(&told, 1).await;
        assert_eq!(*told.borrow(), vec![(7, 70)]);
        // The end of the stream, too; the unattached socket was never reported.
        told.borrow_mut().clear();
        drop(peer);
        wait_for(&told, 1).await;
        assert!(told.borrow().iter().all(|o| *o == (7, 70)));
        assert_eq!(socket.try_read(&mut [0u8; 8]).unwrap(), 0, "end of stream");
    });
}

/// Waits until the owner was told at least `n` times.
async fn wait_for(told: &std::cell::RefCell<Vec<(usize, u64)>>, n: usize) {
    for _ in 0..200 {
        if told.borrow().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the owner was told {} times, not {n}", told.borrow().len());
}
