//! Register and login: happy paths and every error status.

mod common;

use api::ApiConfig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{api_config, TestApp};
use serde_json::json;

#[tokio::test]
async fn register_answers_201_with_user_and_token() {
    let app = TestApp::new();
    let answer = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"username": "ada", "password": "password123", "display_name": "Ada"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let user = &answer.body["user"];
    assert!(user["id"].is_string(), "ids are decimal strings");
    assert_eq!(user["username"], "ada");
    assert_eq!(user["display_name"], "Ada");
    let token = answer.body["token"].as_str().unwrap();
    let me = app.get("/api/users/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["id"], user["id"]);
}

#[tokio::test]
async fn duplicate_username_is_409() {
    let app = TestApp::new();
    app.register("ada").await;
    let answer = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"username": "ada", "password": "password456"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "CONFLICT");
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let app = TestApp::new();
    for (body, field) in [
        (json!({"password": "password123"}), "username"),
        (
            json!({"username": 5, "password": "password123"}),
            "username",
        ),
        (json!({"username": "ada", "password": ["x"]}), "password"),
        (
            json!({"username": "Ada!", "password": "password123"}),
            "username",
        ),
        (json!({"username": "ada", "password": "short"}), "password"),
        (
            json!({"username": "ada", "password": "password123", "display_name": 7}),
            "display_name",
        ),
    ] {
        let answer = app
            .call(Method::POST, "/api/auth/register", None, Some(body.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "BAD_REQUEST");
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let request = Request::post("/api/auth/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "BAD_REQUEST");
}

#[tokio::test]
async fn missing_content_type_is_415_and_huge_bodies_413() {
    let app = TestApp::with_config(ApiConfig {
        body_limit: 1024,
        ..api_config()
    });
    let request = Request::post("/api/auth/register")
        .body(Body::from(r#"{"username":"ada","password":"password123"}"#))
        .unwrap();
    let answer = app.send(request).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.code(), "UNSUPPORTED_MEDIA_TYPE");
    let huge = json!({"username": "ada", "password": "x".repeat(4096)});
    let answer = app
        .call(Method::POST, "/api/auth/register", None, Some(huge))
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.code(), "TOO_LARGE");
}

#[tokio::test]
async fn login_answers_a_token_and_401_on_bad_credentials() {
    let app = TestApp::new();
    let (id, _) = app.register("ada").await;
    let ok = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "ada", "password": "password123"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["user"]["id"], id.to_string());
    assert!(ok.body["token"].is_string());
    for body in [
        json!({"username": "ada", "password": "wrong-password"}),
        json!({"username": "nobody", "password": "password123"}),
    ] {
        let answer = app
            .call(Method::POST, "/api/auth/login", None, Some(body))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "UNAUTHORIZED");
    }
    let missing = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": "ada"})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn auth_routes_are_rate_limited_per_ip() {
    let app = TestApp::with_config(ApiConfig {
        register_per_min: 3,
        ..api_config()
    });
    let attempt = || {
        Request::post("/api/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", "9.9.9.9")
            .body(Body::from(r#"{"username":"ada","password":"password123"}"#))
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(app.send(attempt()).await.status, StatusCode::UNAUTHORIZED);
    }
    let limited = app.send(attempt()).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "RATE_LIMITED");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn forwarded_for_counts_only_when_trusted() {
    let app = TestApp::with_config(ApiConfig {
        register_per_min: 1,
        trust_forwarded_for: true,
        ..api_config()
    });
    let from = |ip: &str| {
        Request::post("/api/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", ip)
            .body(Body::from(r#"{"username":"ada","password":"password123"}"#))
            .unwrap()
    };
    assert_eq!(
        app.send(from("1.1.1.1")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.send(from("2.2.2.2")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.send(from("1.1.1.1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Deep nesting stops at serde_json's recursion limit (400); a huge array stops at the
/// 1 MiB body cap (413). (A big array in an unknown key under the cap is ignored.)
#[tokio::test]
async fn deeply_nested_or_huge_array_bodies_are_400_never_a_crash() {
    let app = TestApp::new();
    for body in [
        format!(
            r#"{{"username":"ada","password":"password123","display_name":{}1{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!(
            r#"{{"username":"ada","password":"password123","x":[{}0]}}"#,
            "0,".repeat(700_000)
        ),
    ] {
        let request = Request::post("/api/auth/register")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap();
        let answer = app.send(request).await;
        assert!(
            answer.status == StatusCode::BAD_REQUEST
                || answer.status == StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.status
        );
        assert!(answer.body["error"]["code"].is_string());
    }
}
