//! Message search end to end (`GET /api/chat/search`) over real sockets: words in any
//! case over the caller's channels only, the filters, `total`, relevance, deleted
//! messages never, and the authorization answers.

#![allow(clippy::unwrap_used)]

mod common;

use common::{id, Client, Node};
use serde_json::{json, Value};

async fn search(node: &Node, token: &str, query: &str) -> (u16, Value) {
    node.call("GET", &format!("/api/chat/search?{query}"), token, None)
        .await
}

/// Sends a message and returns its id once acknowledged.
async fn send(client: &mut Client, channel: u64, content: &str) -> u64 {
    client
        .send(
            json!({"t": "SEND_MESSAGE", "id": 1, "d": {"channel_id": channel, "content": content}}),
        )
        .await;
    id(&client.expect("ACK").await["d"]["message"]["id"])
}

fn contents(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_words_in_the_callers_channels_only() {
    let node = Node::start().await;
    let (alice, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let (_, carol_token) = node.register("carol").await;
    let private = node.group(&alice_token, "team", false, &[bob]).await;
    let public = node.group(&alice_token, "lobby", true, &[]).await;
    let carols = node.group(&carol_token, "carol's", false, &[]).await;

    let (mut a, _) = Client::identify(node.gateway_addr(), &alice_token).await;
    let (mut b, _) = Client::identify(node.gateway_addr(), &bob_token).await;
    let (mut c, _) = Client::identify(node.gateway_addr(), &carol_token).await;
    let first = send(&mut a, private, "Quarterly REPORT draft").await;
    send(&mut b, private, "the report report is late").await;
    let third = send(&mut a, public, "lobby report").await;
    send(&mut c, carols, "carol's secret report").await;
    let doomed = send(&mut a, private, "report to be deleted").await;
    a.send(json!({"t": "DELETE_MESSAGE", "id": 2, "d": {"message_id": doomed}}))
        .await;
    a.expect("ACK").await;

    // Any case, whole words, members' channels only, deleted never; most relevant
    // first ("report report"), then newest.
    let (status, body) = search(&node, &alice_token, "q=rePort").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 3);
    assert_eq!(
        contents(&body),
        vec![
            "the report report is late",
            "lobby report",
            "Quarterly REPORT draft"
        ]
    );
    let (_, body) = search(&node, &bob_token, "q=report").await;
    assert_eq!(body["total"], 2, "bob is not in the lobby: {body}");
    let (_, body) = search(&node, &carol_token, "q=report").await;
    assert_eq!(contents(&body), vec!["carol's secret report"]);
    let (_, body) = search(&node, &alice_token, "q=quarterly%20draft").await;
    assert_eq!(contents(&body), vec!["Quarterly REPORT draft"]);
    let (_, body) = search(&node, &alice_token, "q=repo").await;
    assert_eq!(body["total"], 0, "whole words");
    let (_, body) = search(&node, &alice_token, "q=deleted").await;
    assert_eq!(body["total"], 0);

    // Filters, limit and total.
    let (_, body) = search(
        &node,
        &alice_token,
        &format!("q=report&channel_id={private}"),
    )
    .await;
    assert_eq!(body["total"], 2);
    let (_, body) = search(&node, &alice_token, &format!("q=report&author_id={alice}")).await;
    assert_eq!(
        contents(&body),
        vec!["lobby report", "Quarterly REPORT draft"]
    );
    let (_, body) = search(&node, &alice_token, &format!("q=report&before={third}")).await;
    assert_eq!(body["total"], 2);
    let (_, body) = search(&node, &alice_token, &format!("q=report&after={first}")).await;
    assert_eq!(body["total"], 2);
    let (_, body) = search(&node, &alice_token, "q=report&limit=1").await;
    assert_eq!(
        (contents(&body).len(), body["total"].as_u64()),
        (1, Some(3))
    );
    let (_, body) = search(&node, &alice_token, "q=report&has=attachment").await;
    assert_eq!(body["total"], 0);

    // Authorization: a channel the caller cannot see is 404, a public channel they are
    // not in is 403, no token is 401.
    let (status, body) = search(
        &node,
        &carol_token,
        &format!("q=report&channel_id={private}"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let (status, _) = search(
        &node,
        &carol_token,
        &format!("q=report&channel_id={public}"),
    )
    .await;
    assert_eq!(status, 403);
    let res = node
        .http
        .get(node.api("/api/chat/search?q=report"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Bad input names the parameter.
    for (query, field) in [
        ("q=report&has=links", "has"),
        ("q=report&limit=0", "limit"),
        ("q=report&limit=101", "limit"),
        ("q=report&channel_id=abc", "channel_id"),
        ("q=report&before=", "before"),
    ] {
        let (status, body) = search(&node, &alice_token, query).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{query}: {body}"
        );
    }
    let long = "x".repeat(101);
    let (status, _) = search(&node, &alice_token, &format!("q={long}")).await;
    assert_eq!(status, 400);
    // FTS syntax is inert.
    for hostile in ["%22", "NEAR(report", "report%20OR", "*", "col%3Areport"] {
        let (status, _) = search(&node, &alice_token, &format!("q={hostile}")).await;
        assert_eq!(status, 200, "{hostile}");
    }
}
