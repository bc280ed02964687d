//! Regressions found by `scripts/schemathesis.sh`: the server must accept what the
//! OpenAPI document calls valid and refuse what it calls invalid, with the statuses it
//! lists. One test per finding.

#![allow(clippy::unwrap_used)] // The request helper: a failure is a failed test.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::TestApp;
use serde_json::{json, Value};

/// A request with a raw body and content type.
fn raw(method: Method, path: &str, token: &str, body: &'static str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// The mute body is optional and nullable in the document; `null` was a 400.
#[tokio::test]
async fn mute_takes_a_null_body() {
    let mut app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let ch = app.group(&token, "private", &[]).await;
    let path = format!("/api/chat/channels/{ch}/mute");
    let answer = app.send(raw(Method::PUT, &path, &token, "null")).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{:?}", answer.body);
    let seen = app.get(&format!("/api/chat/channels/{ch}"), &token).await;
    assert_eq!(seen.body["channel"]["muted"], true);
    assert!(seen.body["channel"].get("muted_until").is_none());
}

/// `until` is an `int64`: JSON Schema counts `202.0` as an integer (it was a 400), and
/// nothing above 2^63-1 fits (it was taken and clamped).
#[tokio::test]
async fn mute_until_is_an_int64() {
    let mut app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let ch = app.group(&token, "private", &[]).await;
    let path = format!("/api/chat/channels/{ch}/mute");
    let answer = app
        .send(raw(
            Method::PUT,
            &path,
            &token,
            r#"{"until": 4102444800000.0}"#,
        ))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{:?}", answer.body);
    let seen = app.get(&format!("/api/chat/channels/{ch}"), &token).await;
    assert_eq!(seen.body["channel"]["muted_until"], 4_102_444_800_000u64);
    for bad in [
        r#"{"until": 9223372036854775808}"#,
        r#"{"until": 18446744073709551615}"#,
        r#"{"until": 1.5}"#,
        r#"{"until": -1}"#,
    ] {
        let answer = app.send(raw(Method::PUT, &path, &token, bad)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(message(&answer.body).starts_with("until: "), "{bad}");
    }
}

/// Ids and `limit` in the query follow the document's patterns exactly: `?after=` was
/// taken as absent and `+5` or ` 5` as 5.
#[tokio::test]
async fn typed_query_values_are_exact() {
    let mut app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let ch = app.group(&token, "private", &[]).await;
    for (query, field) in [
        ("after=", "after"),
        ("after=%2B5", "after"),
        ("after=%205", "after"),
        ("limit=", "limit"),
        ("limit=%2B5", "limit"),
        ("limit=5%20", "limit"),
    ] {
        let answer = app
            .get(&format!("/api/chat/channels/{ch}/members?{query}"), &token)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(message(&answer.body).starts_with(field), "{query}");
    }
    for query in ["before=", "around=%2B1"] {
        let answer = app
            .get(&format!("/api/chat/channels/{ch}/messages?{query}"), &token)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }
    let fine = app
        .get(
            &format!("/api/chat/channels/{ch}/members?after=1&limit=5"),
            &token,
        )
        .await;
    assert_eq!(fine.status, StatusCode::OK);
    let empty_q = app.get("/api/chat/users/search?q=&limit=5", &token).await;
    assert_eq!(empty_q.status, StatusCode::OK);
}

/// `maxLength` counts the string as sent: padding that trimming removes was not
/// counted, so a 33-character display name was taken.
#[tokio::test]
async fn lengths_count_the_text_as_sent() {
    let app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let padded_name = format!(" {}", "x".repeat(32));
    let answer = app
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&token),
            Some(json!({"display_name": padded_name})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(message(&answer.body).starts_with("display_name: "));
    let padded_channel = format!("{} ", "x".repeat(100));
    let answer = app
        .call(
            Method::POST,
            "/api/chat/channels",
            Some(&token),
            Some(json!({"name": padded_channel})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(message(&answer.body).starts_with("name: "));
    let padded_query = format!(" {}", "q".repeat(100));
    let answer = app
        .get(
            &format!(
                "/api/chat/users/search?q={}",
                padded_query.replace(' ', "%20")
            ),
            &token,
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(message(&answer.body).starts_with("q: "));
    // Surrounding whitespace within the limit is still trimmed, control whitespace too.
    let answer = app
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&token),
            Some(json!({"display_name": "\tAda\n"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["user"]["display_name"], "Ada");
}

/// `user_ids` has `maxItems: 100`: repeats counted once let 101 through.
#[tokio::test]
async fn add_members_counts_ids_as_sent() {
    let mut app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let (bob, _) = app.register("bob").await;
    let ch = app.group(&token, "private", &[]).await;
    let ids: Vec<String> = std::iter::repeat_n(bob.to_string(), 101).collect();
    let answer = app
        .call(
            Method::POST,
            &format!("/api/chat/channels/{ch}/members"),
            Some(&token),
            Some(json!({ "user_ids": ids })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(message(&answer.body).starts_with("user_ids: at most 100"));
    let ids: Vec<String> = std::iter::repeat_n(bob.to_string(), 100).collect();
    let answer = app
        .call(
            Method::POST,
            &format!("/api/chat/channels/{ch}/members"),
            Some(&token),
            Some(json!({ "user_ids": ids })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["added"], 1);
}
