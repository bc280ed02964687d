//! The `layer4` binary itself: secrets it refuses, the dev server's banner and demo
//! data, and logs that never contain a password or a token.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::{group, layer4, post, register, Dev};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[test]
fn servers_refuse_a_missing_or_short_secret() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["gateway", "api"] {
        let out = layer4()
            .args([sub, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{sub} started without JWT_SECRET");
        assert!(String::from_utf8_lossy(&out.stderr).contains("JWT_SECRET is required"));
        let out = layer4()
            .args([sub, "--data-dir"])
            .arg(dir.path())
            .env("JWT_SECRET", "short")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_demo_seeds_and_logs_hold_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (dev, api, ws) = Dev::start(dir.path(), &["--demo"]);
    let seeded = dev
        .log
        .iter()
        .any(|l| l.contains("demo data: users alice, bob, carol"));
    assert!(seeded, "{:#?}", dev.log);
    assert!(dir.path().join("dev-secret").exists());

    let http = reqwest::Client::new();
    let password = "a-very-secret-password-123";
    let register = json!({"username": "zed", "password": password});
    let body = post(
        &http,
        format!("http://{api}/api/auth/register"),
        None,
        register,
    )
    .await;
    let token = body["token"].as_str().unwrap().to_owned();
    let alice = json!({"username": "alice", "password": "password123"});
    let login = post(&http, format!("http://{api}/api/auth/login"), None, alice).await;
    let alice_token = login["token"].as_str().unwrap().to_owned();
    let channels: Value = http
        .get(format!("http://{api}/api/chat/channels"))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = channels["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert!(names.contains(&json!("general")), "{names:?}");

    // A gateway session with each token, and a failed one with a wrong token.
    for t in [&token, &alice_token] {
        let (mut socket, _) =
            tokio_tungstenite::connect_async(format!("ws://{ws}/gateway?v=1&encoding=json"))
                .await
                .unwrap();
        socket
            .send(WsMessage::Text(
                json!({"t": "IDENTIFY", "d": {"token": t}}).to_string(),
            ))
            .await
            .unwrap();
        let ready = socket.next().await.unwrap().unwrap();
        assert!(ready.to_text().unwrap().contains("READY"));
    }
    let _ = http
        .post(format!("http://{api}/api/auth/login"))
        .json(&json!({"username": "zed", "password": "wrong-password-456"}))
        .send()
        .await
        .unwrap();

    let log = dev.stop().join("\n");
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "trace logging was on"
    );
    // (The demo password is printed on purpose: it is the documented demo login.)
    for secret in [password, "wrong-password-456", &token, &alice_token] {
        assert!(
            !log.contains(secret),
            "a secret appears in the logs: {secret}"
        );
    }
    // The signature part of a token never appears either.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature));
}

/// The `addr=` field of a tracing line.
fn addr_field(line: &str) -> String {
    let plain: String = line
        .split("addr")
        .nth(1)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    plain.trim_start_matches(':').to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_gateway_serves_its_metrics_on_an_admin_port() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = layer4();
    cmd.args([
        "gateway",
        "--bind",
        "127.0.0.1",
        "--ws-port",
        "0",
        "--metrics-port",
        "0",
        "--data-dir",
    ])
    .arg(dir.path())
    .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
    .env("METRICS_TOKEN", "admin-token")
    .env("NO_COLOR", "1")
    .env("RUST_LOG", "info");
    let mut gw = Dev::spawn(cmd);
    let metrics = addr_field(&gw.wait_for("gateway metrics at /metrics"));
    let ws = addr_field(&gw.wait_for("gateway listening"));
    let (_socket, _) = tokio_tungstenite::connect_async(format!("ws://{ws}/gateway?v=1"))
        .await
        .unwrap();
    // One connection closed by the server with 4002 (not a MessagePack map).
    let (mut bad, _) = tokio_tungstenite::connect_async(format!("ws://{ws}/gateway?v=1"))
        .await
        .unwrap();
    bad.send(WsMessage::Binary(vec![0x78])).await.unwrap();
    while let Some(Ok(msg)) = bad.next().await {
        if msg.is_close() {
            break;
        }
    }
    drop(bad);
    let http = reqwest::Client::new();
    let url = format!("http://{metrics}/metrics");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    // The server counts after the 101 and after the close: poll instead of racing it.
    let body = poll_metrics(&http, &url, "gateway_connections").await;
    assert!(body.contains("gateway_connections"), "{body}");
    let closes = poll_metrics(&http, &url, "gateway_closes_total{code=\"4002\"} 1").await;
    assert!(
        closes.contains("gateway_closes_total{code=\"4002\"} 1"),
        "{closes}"
    );
    gw.stop();
}

/// The metrics text once it contains `needle` (or the last one after 15 s: CI runs
/// many servers at once on two cores).
async fn poll_metrics(http: &reqwest::Client, url: &str, needle: &str) -> String {
    let mut body = String::new();
    for _ in 0..150 {
        let res = http
            .get(url)
            .bearer_auth("admin-token")
            .send()
            .await
            .unwrap();
        body = res.text().await.unwrap();
        if body.contains(needle) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    body
}

/// SIGTERM while senders keep a channel busy: every session gets close 1001, and every
/// message that was acknowledged is in storage when the node starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_traffic_closes_1001_and_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let limits = [
        "--messages-per-window",
        "100000",
        "--frames-per-window",
        "100000",
    ];
    let (mut dev, api, ws) = Dev::start(dir.path(), &limits);
    let http = reqwest::Client::new();
    let mut users = Vec::new();
    for name in ["sender1", "sender2", "sender3", "sender4"] {
        users.push(register(&http, &api, name).await);
    }
    let others: Vec<&str> = users[1..].iter().map(|(id, _)| id.as_str()).collect();
    let channel = group(&http, &api, &users[0].1, "busy", &others).await;

    // Each user sends as fast as its ACKs come back, until the socket closes.
    let mut senders = Vec::new();
    for (_, token) in users.clone() {
        let (ws, channel) = (ws.clone(), channel.clone());
        senders.push(tokio::spawn(async move {
            let url = format!("ws://{ws}/gateway?v=1&encoding=json");
            let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let identify = json!({"t": "IDENTIFY", "d": {"token": token}});
            socket.send(WsMessage::Text(identify.to_string())).await.unwrap();
            let mut acked = Vec::new();
            let mut next = 1u32;
            let send = |n: u32| {
                let m = json!({"t": "SEND_MESSAGE", "id": n, "d": {"channel_id": channel, "content": format!("m{n}")}});
                WsMessage::Text(m.to_string())
            };
            let _ = socket.send(send(next)).await;
            while let Some(Ok(msg)) = socket.next().await {
                match msg {
                    WsMessage::Text(text) => {
                        let v: Value = serde_json::from_str(&text).unwrap();
                        if v["t"] == "ACK" {
                            acked.push(v["d"]["message"]["id"].as_str().unwrap().to_owned());
                            next += 1;
                            let _ = socket.send(send(next)).await;
                        }
                    }
                    WsMessage::Close(frame) => {
                        return (acked, frame.map(|f| u16::from(f.code)));
                    }
                    _ => {}
                }
            }
            (acked, None)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = dev.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut acked = Vec::new();
    for sender in senders {
        let (ids, close) = tokio::time::timeout(Duration::from_secs(20), sender)
            .await
            .expect("every session is closed")
            .unwrap();
        assert_eq!(close, Some(1001), "closed with 1001 (drain)");
        acked.extend(ids);
    }
    assert!(
        acked.len() > 20,
        "traffic was flowing: {} acks",
        acked.len()
    );
    let status = dev.child.wait().unwrap();
    assert!(status.success(), "a clean exit after the drain: {status:?}");
    drop(dev);

    // Every acknowledged message is stored.
    let (dev, api, _) = Dev::start(dir.path(), &[]);
    let mut stored = std::collections::HashSet::new();
    let mut before: Option<String> = None;
    loop {
        let mut url = format!("http://{api}/api/chat/channels/{channel}/messages?limit=100");
        if let Some(b) = &before {
            url.push_str(&format!("&before={b}"));
        }
        let page: Value = http
            .get(&url)
            .bearer_auth(&users[0].1)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["error"]["code"] == "RATE_LIMITED" {
            // Many pages read at once hit the per-user request rate, as a client would:
            // wait as told, then read the same page again.
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let messages = page["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page of messages: {page}"));
        if messages.is_empty() {
            break;
        }
        for m in messages {
            stored.insert(m["id"].as_str().unwrap().to_owned());
        }
        before = messages
            .last()
            .map(|m| m["id"].as_str().unwrap().to_owned());
    }
    for id in &acked {
        assert!(stored.contains(id), "acknowledged message {id} was lost");
    }
    dev.stop();
}

/// Asserts a failed run whose only error is one line containing `needle`, the last
/// line of stderr, with no panic and no password.
fn assert_one_line_failure(out: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("Error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(needle), "{needle:?} not in {stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
}

/// `layer4` with `DATABASE_URL` set to `url`, a secret and ephemeral ports.
fn layer4_on(url: &str, sub: &str, dir: &std::path::Path) -> std::process::Output {
    layer4()
        .arg(sub)
        .arg("--data-dir")
        .arg(dir)
        .env("DATABASE_URL", url)
        .env("JWT_SECRET", "a-long-enough-secret-for-the-cli-tests!!")
        .env("API_PORT", "0")
        .env("WS_PORT", "0")
        // anyhow would print a backtrace under the error line.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap()
}

/// No server where the URL points: every subcommand that opens the store fails with
/// one line naming the database (without its password), never a panic.
#[test]
fn an_unreachable_postgres_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1.
    let url = "postgres://layer4:hunter2@127.0.0.1:1/chat?connect_timeout=2";
    for sub in ["migrate", "seed", "api", "gateway"] {
        let out = layer4_on(url, sub, dir.path());
        assert_one_line_failure(&out, "PostgreSQL at postgres://***@127.0.0.1:1/chat");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("storage unavailable"),
            "{sub}"
        );
    }
    let out = layer4_on("mysql://u:hunter2@h/d", "migrate", dir.path());
    assert_one_line_failure(&out, "expected sqlite://PATH or postgres://");
}

/// The PostgreSQL server of `DATABASE_URL` (`user@host:port`), if one is configured.
fn postgres_server() -> Option<(String, String)> {
    let url = std::env::var("DATABASE_URL").ok();
    let Some(rest) = url.as_deref().and_then(|u| u.strip_prefix("postgres://")) else {
        println!("skipped: DATABASE_URL unset (or not postgres://)");
        return None;
    };
    let (authority, path) = rest.split_once('/').unwrap();
    let database = path.split('?').next().unwrap().to_owned();
    Some((authority.to_owned(), database))
}

/// A server that refuses the login or has no such database: one line, no panic.
#[test]
fn a_refused_login_or_a_missing_database_is_a_one_line_error() {
    let Some((authority, _)) = postgres_server() else {
        return;
    };
    let host = authority.rsplit('@').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let no_role = format!("postgres://l4_no_such_role:hunter2@{host}/test");
    assert_one_line_failure(
        &layer4_on(&no_role, "migrate", dir.path()),
        "storage unavailable",
    );
    let no_database = format!("postgres://{authority}/l4_no_such_database");
    let out = layer4_on(&no_database, "api", dir.path());
    assert_one_line_failure(&out, "l4_no_such_database");
}

/// `layer4 migrate` on PostgreSQL applies the schema once, in the schema the URL names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_on_postgres_applies_once() {
    let Some((authority, database)) = postgres_server() else {
        return;
    };
    let base = format!("postgres://{authority}/{database}");
    let schema = format!("l4cli_{}", std::process::id());
    let url = format!("{base}?schema={schema}");
    let dir = tempfile::tempdir().unwrap();
    let first = layer4_on(&url, "migrate", dir.path());
    let second = layer4_on(&url, "migrate", dir.path());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .len();
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .unwrap();
    let stdout = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(first.status.success(), "{first:?}");
    assert!(
        stdout(&first).starts_with("2 migration(s) applied to postgres://"),
        "{first:?}"
    );
    assert!(
        stdout(&second).starts_with("0 migration(s) applied"),
        "{second:?}"
    );
    assert!(tables >= 11, "{tables} tables");
}
