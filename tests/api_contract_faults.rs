//! Contract faults an independent client found (issue 13, item 5), each as the
//! request that showed it, over real sockets.

#![allow(clippy::unwrap_used)]

mod common;

use common::Node;
use serde_json::{json, Value};

/// A register body nested 50 000 levels deep inside a key the route does not know was
/// accepted with 201: serde skips unknown values without counting their depth. Now
/// nesting deeper than the limit is 400 wherever it is, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_in_an_unknown_key_is_400() {
    let node = Node::start().await;
    for levels in [33, 50_000] {
        let body = format!(
            r#"{{"username":"deep{levels}","password":"correct horse","x":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        );
        let res = node
            .http
            .post(node.api("/api/auth/register"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{levels} levels");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "BAD_REQUEST");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nested deeper"));
        let (status, _) = node
            .call(
                "POST",
                "/api/auth/login",
                "",
                Some(json!({"username": format!("deep{levels}"), "password": "correct horse"})),
            )
            .await;
        assert_eq!(status, 401, "no user was created");
    }
    // Shallow unknown keys are still ignored.
    let (status, _) = node
        .call(
            "POST",
            "/api/auth/register",
            "",
            Some(json!({"username": "shallow", "password": "correct horse", "x": [[[1]]]})),
        )
        .await;
    assert_eq!(status, 201);
}

/// `POST /api/chat/channels/{id}/members` on a private channel the caller cannot see
/// answered 400 from body validation, telling them the channel exists. Visibility
/// comes first: 404 whatever the body, as for every other route of that channel; a
/// public channel the caller is not in is 403.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_members_on_an_invisible_channel_is_404_before_the_body() {
    let node = Node::start().await;
    let (_, alice_token) = node.register("alice").await;
    let (bob, bob_token) = node.register("bob").await;
    let private = node.group(&alice_token, "hidden", false, &[]).await;
    let public = node.group(&alice_token, "open", true, &[]).await;
    let path = |channel: u64| format!("/api/chat/channels/{channel}/members");
    for body in [
        json!({}),
        json!({"user_ids": "nope"}),
        json!({"user_ids": []}),
        json!({"user_ids": [bob.to_string()]}),
    ] {
        let (status, answer) = node
            .call("POST", &path(private), &bob_token, Some(body.clone()))
            .await;
        assert_eq!(status, 404, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], "NOT_FOUND");
        let (status, _) = node
            .call("POST", &path(public), &bob_token, Some(body.clone()))
            .await;
        assert_eq!(status, 403, "{body}");
    }
    // Not JSON at all: still 404 first.
    let res = node
        .http
        .post(node.api(&path(private)))
        .bearer_auth(&bob_token)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // The owner still gets body validation.
    let (status, _) = node
        .call("POST", &path(private), &alice_token, Some(json!({})))
        .await;
    assert_eq!(status, 400);
    let (status, answer) = node
        .call(
            "POST",
            &path(private),
            &alice_token,
            Some(json!({"user_ids": [bob.to_string()]})),
        )
        .await;
    assert_eq!((status, answer["added"].as_u64()), (200, Some(1)));
}
