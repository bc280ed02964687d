//! Offsets and replay (PROTOCOL.md sections 4.3 and 5): a reconnecting client gets
//! exactly what it missed, or `resync`; offsets survive a restart.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use common::{id, Client, Node};
use serde_json::json;

async fn send(client: &mut Client, channel: u64, content: &str) -> u64 {
    client
        .send(
            json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": channel, "content": content}}),
        )
        .await;
    let ack = client.expect("ACK").await;
    id(&ack["d"]["message"]["id"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_with_positions_replays_exactly_the_gap() {
    let mut config = common::test_config();
    config.gateway.replay_buffer = 8;
    let node = Node::start_with(config).await;
    let (_, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let group = node.group(&alice_token, "g", false, &[bob]).await;
    let (mut a, _) = Client::identify(node.gateway_addr(), &alice_token).await;
    let (mut b, _) = Client::identify(node.gateway_addr(), &bob_token).await;
    send(&mut a, group, "seen").await;
    let seen = b.expect("MESSAGE_RECEIVED").await["s"].as_u64().unwrap();
    b.close().await;

    for i in 0..3 {
        send(&mut a, group, &format!("missed {i}")).await;
    }
    let positions = json!({"token": bob_token, "positions": {group.to_string(): seen}});
    let (mut b, ready) =
        Client::identify_with(node.gateway_addr(), common::Enc::MsgPack, positions).await;
    assert_eq!(ready["resync"], json!([]));
    for i in 0..3 {
        let ev = b.expect("MESSAGE_RECEIVED").await;
        assert_eq!(ev["s"], seen + 1 + i);
        assert_eq!(ev["d"]["message"]["content"], format!("missed {i}"));
    }
    // Then live events continue the sequence.
    send(&mut a, group, "live").await;
    assert_eq!(b.expect("MESSAGE_RECEIVED").await["s"], seen + 4);
    b.close().await;

    // A gap larger than the buffer: resync, and nothing of that channel is replayed.
    for i in 0..10 {
        send(&mut a, group, &format!("flood {i}")).await;
    }
    let positions = json!({"token": bob_token, "positions": {group.to_string(): seen}});
    let (mut b, ready) =
        Client::identify_with(node.gateway_addr(), common::Enc::MsgPack, positions).await;
    assert_eq!(ready["resync"], json!([group]));
    b.expect_no_channel_events(300).await;

    // A position ahead of the channel: resync too.
    let positions = json!({"token": bob_token, "positions": {group.to_string(): 1_000_000}});
    let (_, ready) =
        Client::identify_with(node.gateway_addr(), common::Enc::MsgPack, positions).await;
    assert_eq!(ready["resync"], json!([group]));
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_survive_a_restart() {
    let config = common::test_config();
    let node = Node::start_with(config.clone()).await;
    let (_, token) = node.register("alice").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut a, _) = Client::identify(node.gateway_addr(), &token).await;
    send(&mut a, group, "one").await;
    send(&mut a, group, "two").await;
    let before = a.expect("MESSAGE_RECEIVED").await["s"].as_u64().unwrap();
    let before = before.max(a.expect("MESSAGE_RECEIVED").await["s"].as_u64().unwrap());
    drop(a);
    let Node { stack, dir, .. } = node;
    stack.shutdown().await;

    let node = Node::start_in(dir, config).await;
    let (mut a, ready) = Client::identify(node.gateway_addr(), &token).await;
    assert_eq!(ready["channels"][0]["offset"], before);
    // Replay from before the restart is gone from memory: resync, never a partial replay.
    let positions = json!({"token": token, "positions": {group.to_string(): before - 1}});
    let (_, ready2) =
        Client::identify_with(node.gateway_addr(), common::Enc::MsgPack, positions).await;
    assert_eq!(ready2["resync"], json!([group]));
    send(&mut a, group, "three").await;
    assert_eq!(a.expect("MESSAGE_RECEIVED").await["s"], before + 1);
    node.stack.shutdown().await;
}
