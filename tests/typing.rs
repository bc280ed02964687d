//! Typing end to end over real sockets: one TYPING_STARTED per user per channel per
//! 3 s reaches the other members (a repeat is acknowledged and publishes nothing),
//! never the typist nor a member who blocked them, nor a non-member; a non-member's
//! START_TYPING is refused as for any other channel request.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use std::time::Duration;

use common::{id, Client, Frame, Node};
use serde_json::{json, Value};

/// The typing events `client` receives within `ms` (other events are skipped).
async fn typing_within(client: &mut Client, ms: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    let mut seen = Vec::new();
    while let Ok(frame) = tokio::time::timeout_at(deadline, client.next_frame()).await {
        match frame {
            Frame::Event(v) if v["t"].as_str().is_some_and(|t| t.starts_with("TYPING")) => {
                seen.push(v)
            }
            Frame::Event(_) => {}
            Frame::Closed(code) => panic!("closed with {code:?}"),
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_reaches_the_channel_once_per_interval_and_skips_blockers() {
    let node = Node::start().await;
    let (alice, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let (carol, carol_token) = node.register("carol").await;
    let (_dave, dave_token) = node.register("dave").await;
    let group = node
        .group(&alice_token, "general", true, &[bob, carol])
        .await;
    let private = node.group(&alice_token, "inner", false, &[bob]).await;
    let (status, _) = node
        .call(
            "PUT",
            &format!("/api/chat/users/{alice}/block"),
            &carol_token,
            None,
        )
        .await;
    assert_eq!(status, 204);

    let addr = node.gateway_addr();
    let (mut a, _) = Client::identify(addr, &alice_token).await;
    let (mut b, _) = Client::identify(addr, &bob_token).await;
    let (mut c, _) = Client::identify(addr, &carol_token).await;
    let (mut d, _) = Client::identify(addr, &dave_token).await;

    // Three starts within 3 s: each acknowledged, one TYPING_STARTED reaches bob.
    for n in 1..=3u64 {
        a.send(json!({"t": "START_TYPING", "id": n, "d": {"channel_id": group}}))
            .await;
        let ack = a.expect("ACK").await;
        assert_eq!(ack["id"], n);
    }
    let to_bob = typing_within(&mut b, 600).await;
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert_eq!(to_bob[0]["t"], "TYPING_STARTED");
    assert_eq!(id(&to_bob[0]["d"]["user_id"]), alice);
    assert_eq!(id(&to_bob[0]["d"]["channel_id"]), group);
    assert!(to_bob[0].get("s").is_none_or(Value::is_null), "ephemeral");
    assert!(
        typing_within(&mut c, 200).await.is_empty(),
        "carol blocked alice"
    );
    assert!(
        typing_within(&mut a, 200).await.is_empty(),
        "not to the typist"
    );
    assert!(typing_within(&mut d, 200).await.is_empty(), "not a member");

    // A stop reaches the channel (but carol) at once.
    a.send(json!({"t": "STOP_TYPING", "id": 4, "d": {"channel_id": group}}))
        .await;
    a.expect("ACK").await;
    let to_bob = typing_within(&mut b, 600).await;
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert_eq!(to_bob[0]["t"], "TYPING_STOPPED");
    assert!(typing_within(&mut c, 200).await.is_empty());

    // Non-members: FORBIDDEN in a public group, NOT_FOUND in a private one.
    for (n, channel, code) in [(5u64, group, "FORBIDDEN"), (6, private, "NOT_FOUND")] {
        d.send(json!({"t": "START_TYPING", "id": n, "d": {"channel_id": channel}}))
            .await;
        let err = d.expect("ERROR").await;
        assert_eq!(
            (err["id"].as_u64(), err["d"]["code"].as_str()),
            (Some(n), Some(code))
        );
    }
    assert!(typing_within(&mut b, 300).await.is_empty());

    // After the interval, the next start reaches the channel again.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    a.send(json!({"t": "START_TYPING", "id": 7, "d": {"channel_id": group}}))
        .await;
    a.expect("ACK").await;
    let to_bob = typing_within(&mut b, 600).await;
    assert_eq!(to_bob.len(), 1, "{to_bob:?}");
    assert_eq!(to_bob[0]["t"], "TYPING_STARTED");
    for client in [a, b, c, d] {
        client.close().await;
    }
}
