//! `api::serve` on a real socket: answers, sees the peer address, shuts down
//! gracefully.

use std::sync::Arc;
use std::time::Duration;

use api::{ApiConfig, ApiState};
use bus::LocalBus;
use service::{Chat, ChatConfig};
use storage::backend::sqlite::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request on a fresh connection; the whole answer as text (empty on IO errors,
/// which then fail the caller's assertion).
async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut out = Vec::new();
    if let Ok(mut stream) = TcpStream::connect(addr).await {
        if stream.write_all(request.as_bytes()).await.is_ok() {
            let _ = stream.read_to_end(&mut out).await;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn serves_limits_by_peer_address_and_shuts_down() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let chat = Chat::new(store, Arc::new(LocalBus::new()), ChatConfig::default());
    let state = ApiState::new(
        chat,
        ApiConfig {
            register_per_min: 1,
            ..ApiConfig::default()
        },
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let health = raw(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let login = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nContent-Length: 36\r\n\r\n\
                 {\"username\":\"ada\",\"password\":\"pw\"}\r\n";
    let first = raw(addr, login).await;
    assert!(first.starts_with("HTTP/1.1 401"), "{first}");
    let second = raw(addr, login).await;
    assert!(second.starts_with("HTTP/1.1 429"), "{second}");
    assert!(
        second.to_ascii_lowercase().contains("retry-after:"),
        "{second}"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
