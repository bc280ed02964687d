//! Health, readiness, metrics, the OpenAPI document, and the answers for unknown
//! routes and wrong methods.

mod common;

use api::ApiConfig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{api_config, TestApp};

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new();
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_our_body() {
    let app = TestApp::new();
    let missing = app.call(Method::GET, "/api/nope", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "NOT_FOUND");
    let wrong = app
        .call(Method::DELETE, "/api/auth/login", None, None)
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong.body["error"]["message"].is_string());
}

#[tokio::test]
async fn openapi_document_is_served() {
    let app = TestApp::new();
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc.body["paths"]["/api/chat/channels/{id}/messages"]["get"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_and_honour_the_token() {
    let app = TestApp::with_config(ApiConfig {
        metrics_token: Some("scrape-secret".to_owned()),
        ..api_config()
    });
    app.call(Method::GET, "/healthz", None, None).await;
    let denied = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let (_, user_token) = app.register("ada").await;
    let with_user_token = app.get("/metrics", &user_token).await;
    assert_eq!(
        with_user_token.status,
        StatusCode::UNAUTHORIZED,
        "never a user token"
    );
    let request = Request::get("/metrics")
        .header(header::AUTHORIZATION, "Bearer scrape-secret")
        .body(Body::empty())
        .unwrap();
    let scraped = app.send(request).await;
    assert_eq!(scraped.status, StatusCode::OK);
    let text = scraped.body.as_str().unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
}

#[tokio::test]
async fn cors_is_off_by_default_and_follows_the_configured_origins() {
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/users/me")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let off = TestApp::new();
    let answer = off.send(preflight("https://evil.example")).await;
    assert!(answer
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());

    let on = TestApp::with_config(ApiConfig {
        cors_origins: vec!["https://chat.example".into()],
        ..api_config()
    });
    let allowed = on.send(preflight("https://chat.example")).await;
    assert_eq!(
        allowed
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        "https://chat.example"
    );
    let other = on.send(preflight("https://evil.example")).await;
    assert!(other
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}
