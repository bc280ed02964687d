//! The caller's profile, tokens, user search and blocks.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use api::ApiConfig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{api_config, TestApp};
use serde_json::json;

#[tokio::test]
async fn no_bad_or_expired_token_is_401() {
    let app = TestApp::new();
    let (id, _) = app.register("ada").await;
    let none = app.call(Method::GET, "/api/users/me", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "UNAUTHORIZED");
    assert_eq!(none.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        app.get("/api/users/me", "garbage").await.status,
        StatusCode::UNAUTHORIZED
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let secret = &app.chat.config().jwt_secret;
    let expired = service::auth::jwt::issue(secret, id, now - 3600, 60).unwrap();
    let answer = app.get("/api/users/me", &expired).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let forged = service::auth::jwt::issue(b"another secret", id, now, 600).unwrap();
    assert_eq!(
        app.get("/api/users/me", &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
    let basic = Request::get("/api/users/me")
        .header(header::AUTHORIZATION, "Basic YWRhOnB3")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(basic).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn me_and_patch_me() {
    let app = TestApp::new();
    let (id, token) = app.register("ada").await;
    let me = app.get("/api/users/me", &token).await;
    assert_eq!(me.body["user"]["username"], "ada");
    assert_eq!(me.body["user"]["status"], "offline");
    let patched = app
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&token),
            Some(json!({"display_name": "Ada Lovelace"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["user"]["display_name"], "Ada Lovelace");
    assert_eq!(patched.body["user"]["id"], id.to_string());
    let blank = app
        .call(
            Method::PATCH,
            "/api/users/me",
            Some(&token),
            Some(json!({"display_name": " "})),
        )
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_users_by_prefix() {
    let app = TestApp::new();
    let (_, token) = app.register("ada").await;
    app.register("adam").await;
    app.register("bob").await;
    let found = app
        .get("/api/chat/users/search?q=AD&limit=10", &token)
        .await;
    assert_eq!(found.status, StatusCode::OK);
    let names: Vec<&str> = found.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ada", "adam"]);
    let limited = app.get("/api/chat/users/search?q=ad&limit=1", &token).await;
    assert_eq!(limited.body["users"].as_array().unwrap().len(), 1);
    for bad in ["limit=0", "limit=101", "limit=x"] {
        let answer = app
            .get(&format!("/api/chat/users/search?q=a&{bad}"), &token)
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn block_unblock_and_list() {
    let app = TestApp::new();
    let (_, token) = app.register("ada").await;
    let (bob, _) = app.register("bob").await;
    let path = format!("/api/chat/users/{bob}/block");
    let put = app.call(Method::PUT, &path, Some(&token), None).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::PUT, &path, Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let listed = app.get("/api/chat/users/blocked", &token).await;
    assert_eq!(listed.body["users"][0]["id"], bob.to_string());
    let del = app.call(Method::DELETE, &path, Some(&token), None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let listed = app.get("/api/chat/users/blocked", &token).await;
    assert!(listed.body["users"].as_array().unwrap().is_empty());
    let unknown = app
        .call(
            Method::PUT,
            "/api/chat/users/424242/block",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad = app
        .call(Method::PUT, "/api/chat/users/abc/block", Some(&token), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("id"));
}

#[tokio::test]
async fn authenticated_routes_are_rate_limited_per_user() {
    let app = TestApp::with_config(ApiConfig {
        per_user_per_sec: 3,
        ..api_config()
    });
    let (_, token) = app.register("ada").await;
    let (_, other) = app.register("bob").await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/users/me", &token).await.status,
            StatusCode::OK
        );
    }
    let limited = app.get("/api/users/me", &token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMITED");
    assert_eq!(limited.headers[header::RETRY_AFTER], "1");
    assert_eq!(
        app.get("/api/users/me", &other).await.status,
        StatusCode::OK
    );
}
