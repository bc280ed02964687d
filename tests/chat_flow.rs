//! End to end over real sockets: two users register over HTTP, create a group, connect
//! with an independent WebSocket client, exchange messages with contiguous offsets,
//! fetch history over the gateway and the API, and leave.

#![allow(clippy::unwrap_used)] // test helpers fail loudly on purpose

mod common;

use common::{id, Client, Enc, Node};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_in_a_group() {
    let node = Node::start().await;
    let (alice, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let group = node.group(&alice_token, "general", false, &[bob]).await;

    let (mut a, ready_a) = Client::identify(node.gateway_addr(), &alice_token).await;
    let (mut b, ready_b) = Client::identify(node.gateway_addr(), &bob_token).await;
    assert_eq!(id(&ready_a["user"]["id"]), alice);
    assert_eq!(ready_a["heartbeat_interval_ms"], 30_000);
    assert_eq!(ready_a["resync"], json!([]));
    let channel = &ready_b["channels"][0];
    assert_eq!(id(&channel["id"]), group);
    assert_eq!(channel["kind"], "group");
    assert_eq!(channel["member_count"], 2);
    let start = channel["offset"].as_u64().unwrap();

    // Five messages, alternating senders: every member sees every one, offsets +1.
    for i in 0..5u64 {
        let (sender, content) = if i % 2 == 0 {
            (&mut a, "from alice")
        } else {
            (&mut b, "from bob")
        };
        sender
            .send(json!({"t": "SEND_MESSAGE", "id": 100 + i, "d": {"channel_id": group, "content": format!("{content} {i}")}}))
            .await;
        let ack = sender.expect("ACK").await;
        assert_eq!(ack["id"], 100 + i);
        assert_eq!(ack["d"]["message"]["content"], format!("{content} {i}"));
    }
    for client in [&mut a, &mut b] {
        for i in 0..5u64 {
            let ev = client.expect("MESSAGE_RECEIVED").await;
            assert_eq!(ev["s"], start + 1 + i, "contiguous offsets");
            assert!(ev["d"]["message"]["content"]
                .as_str()
                .unwrap()
                .ends_with(&i.to_string()));
            assert_eq!(id(&ev["d"]["message"]["channel_id"]), group);
        }
    }

    // History over the gateway: newest first.
    a.send(json!({"t": "FETCH_MESSAGES", "id": 7, "d": {"channel_id": group, "limit": 3}}))
        .await;
    let loaded = a.expect("MESSAGES_LOADED").await;
    assert_eq!(loaded["id"], 7);
    let msgs = loaded["d"]["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["content"], "from alice 4");
    assert_eq!(msgs[2]["content"], "from alice 2");

    // ... and over the API, with a cursor.
    let before = msgs[2]["id"].as_u64().unwrap();
    let (status, body) = node
        .call(
            "GET",
            &format!("/api/chat/channels/{group}/messages?before={before}&limit=10"),
            &bob_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let contents: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contents, ["from bob 1", "from alice 0"]);

    // Bob leaves: Alice sees USER_LEFT at the next offset; Bob gets no more events.
    b.send(json!({"t": "LEAVE_CHANNEL", "id": 9, "d": {"channel_id": group}}))
        .await;
    assert_eq!(b.expect("ACK").await["id"], 9);
    let left = a.expect("USER_LEFT").await;
    assert_eq!(left["s"], start + 6);
    assert_eq!(id(&left["d"]["user_id"]), bob);
    a.send(json!({"t": "SEND_MESSAGE", "d": {"channel_id": group, "content": "still here?"}}))
        .await;
    assert_eq!(a.expect("MESSAGE_RECEIVED").await["s"], start + 7);
    // Bob's own USER_LEFT is the last event of the channel he receives.
    assert_eq!(b.expect("USER_LEFT").await["s"], start + 6);
    b.expect_no_channel_events(300).await;

    // Bob can no longer read the private group: NOT_FOUND over both doors.
    b.send(json!({"t": "FETCH_MESSAGES", "id": 10, "d": {"channel_id": group}}))
        .await;
    let err = b.expect("ERROR").await;
    assert_eq!(err["id"], 10);
    assert_eq!(err["d"]["code"], "NOT_FOUND");
    let (status, body) = node
        .call(
            "GET",
            &format!("/api/chat/channels/{group}/messages"),
            &bob_token,
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");

    a.close().await;
    b.close().await;
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_encoding_uses_string_ids() {
    let node = Node::start().await;
    let (_, alice_token) = node.register("alice").await;
    let group = node.group(&alice_token, "general", true, &[]).await;
    let (mut a, ready) = Client::identify_with(
        node.gateway_addr(),
        Enc::Json,
        json!({"token": alice_token}),
    )
    .await;
    assert!(ready["user"]["id"].is_string());
    assert_eq!(ready["channels"][0]["id"], group.to_string());
    a.send(json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": group.to_string(), "content": "hi", "nonce": "n-1"}}))
        .await;
    let ev = a.expect("MESSAGE_RECEIVED").await;
    assert!(ev["d"]["message"]["id"].is_string());
    assert_eq!(ev["d"]["message"]["nonce"], "n-1");
    assert!(ev["s"].is_u64(), "offsets are numbers, not ids");
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_nonce_is_stored_once() {
    let node = Node::start().await;
    let (_, token) = node.register("alice").await;
    let group = node.group(&token, "g", false, &[]).await;
    let (mut a, _) = Client::identify(node.gateway_addr(), &token).await;
    let send = json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": group, "content": "once", "nonce": "abc"}});
    a.send(send.clone()).await;
    let first = a.expect("ACK").await["d"]["message"]["id"].clone();
    a.expect("MESSAGE_RECEIVED").await;
    a.send(send).await;
    let second = a.expect("ACK").await["d"]["message"]["id"].clone();
    assert_eq!(
        first, second,
        "the ACK carries the message stored the first time"
    );
    a.expect_no_channel_events(300).await;
    let (_, body) = node
        .call(
            "GET",
            &format!("/api/chat/channels/{group}/messages"),
            &token,
            None,
        )
        .await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_changes_reach_connected_clients() {
    let node = Node::start().await;
    let (alice, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let (mut b, _) = Client::identify(node.gateway_addr(), &bob_token).await;

    // Created with Bob as a member: CHANNEL_CREATED reaches Bob.
    let group = node.group(&alice_token, "plans", false, &[bob]).await;
    let created = b.expect("CHANNEL_CREATED").await;
    assert_eq!(id(&created["d"]["channel"]["id"]), group);

    // Renamed: CHANNEL_UPDATED.
    let (status, _) = node
        .call(
            "PATCH",
            &format!("/api/chat/channels/{group}"),
            &alice_token,
            Some(json!({"name": "plans-2"})),
        )
        .await;
    assert_eq!(status, 200);
    let updated = b.expect("CHANNEL_UPDATED").await;
    assert_eq!(updated["d"]["channel"]["name"], "plans-2");

    // A third user added by the owner: USER_JOINED as a channel event.
    let (carol, carol_token) = node.register("carol").await;
    let (mut c, _) = Client::identify(node.gateway_addr(), &carol_token).await;
    let (status, body) = node
        .call(
            "POST",
            &format!("/api/chat/channels/{group}/members"),
            &alice_token,
            Some(json!({"user_ids": [carol.to_string()]})),
        )
        .await;
    assert_eq!((status, &body["added"]), (200, &json!(1)));
    let joined = b.expect("USER_JOINED").await;
    assert_eq!(id(&joined["d"]["user"]["id"]), carol);
    assert!(joined["s"].as_u64().unwrap() >= 1);
    // Carol's session is subscribed from then on.
    let (mut a, _) = Client::identify(node.gateway_addr(), &alice_token).await;
    a.send(json!({"t": "SEND_MESSAGE", "d": {"channel_id": group, "content": "welcome"}}))
        .await;
    assert_eq!(
        c.expect("MESSAGE_RECEIVED").await["d"]["message"]["content"],
        "welcome"
    );

    // Removed: USER_LEFT; deleted: CHANNEL_DELETED.
    let (status, _) = node
        .call(
            "DELETE",
            &format!("/api/chat/channels/{group}/members/{carol}"),
            &alice_token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(id(&b.expect("USER_LEFT").await["d"]["user_id"]), carol);
    let (status, _) = node
        .call(
            "DELETE",
            &format!("/api/chat/channels/{group}"),
            &alice_token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        id(&b.expect("CHANNEL_DELETED").await["d"]["channel_id"]),
        group
    );
    let _ = alice;
    node.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_a_public_group_over_the_gateway() {
    let node = Node::start().await;
    let (_, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let group = node.group(&alice_token, "lobby", true, &[]).await;
    let (mut a, _) = Client::identify(node.gateway_addr(), &alice_token).await;
    let (mut b, ready) = Client::identify(node.gateway_addr(), &bob_token).await;
    assert_eq!(ready["channels"], json!([]));
    b.send(json!({"t": "JOIN_CHANNEL", "id": 3, "d": {"channel_id": group}}))
        .await;
    let ack = b.expect("ACK").await;
    assert_eq!(id(&ack["d"]["channel"]["id"]), group);
    let joined = a.expect("USER_JOINED").await;
    assert_eq!(id(&joined["d"]["user"]["id"]), bob);
    b.send(json!({"t": "SEND_MESSAGE", "d": {"channel_id": group, "content": "hello lobby"}}))
        .await;
    assert_eq!(
        a.expect("MESSAGE_RECEIVED").await["d"]["message"]["content"],
        "hello lobby"
    );
    node.stack.shutdown().await;
}
