//! `wss://`: the gateway with a certificate speaks TLS (rustls, TLS 1.2/1.3) and the
//! protocol runs unchanged over it.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::sync::Arc;

use common::Node;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::Connector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();

    let mut config = common::test_config();
    config.gateway.tls = Some(gateway::TlsFiles { cert, key });
    let node = Node::start_with(config).await;
    let (_, token) = node.register("alice").await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!(
        "wss://localhost:{}/gateway?v=1&encoding=json",
        node.gateway_addr().port()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        url,
        None,
        false,
        Some(Connector::Rustls(Arc::new(client))),
    )
    .await
    .unwrap();
    ws.send(WsMessage::Text(
        json!({"t": "IDENTIFY", "d": {"token": token}}).to_string(),
    ))
    .await
    .unwrap();
    let ready = loop {
        match ws.next().await.unwrap().unwrap() {
            WsMessage::Text(text) => break serde_json::from_str::<Value>(&text).unwrap(),
            _ => continue,
        }
    };
    assert_eq!(ready["t"], "READY");
    assert_eq!(ready["d"]["user"]["username"], "alice");

    // Plain ws:// to the TLS port does not get a WebSocket.
    let plain = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio_tungstenite::connect_async(format!("ws://{}/gateway?v=1", node.gateway_addr())),
    )
    .await
    .unwrap();
    assert!(plain.is_err());
    node.stack.shutdown().await;
}
