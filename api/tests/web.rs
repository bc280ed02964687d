//! The web client's files at `/`: files of the build, the single-page fallback, the
//! gateway's whereabouts, and never in the way of an API route.

#![allow(clippy::unwrap_used)] // test setup fails loudly on purpose

mod common;

use api::web::WebConfig;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{api_config, TestApp};

fn app_with(dist: &std::path::Path) -> TestApp {
    let mut config = api_config();
    config.web = Some(WebConfig {
        dist: dist.to_path_buf(),
        gateway_port: 4001,
        gateway_tls: false,
    });
    TestApp::with_config(config)
}

async fn get(app: &TestApp, path: &str) -> common::Answer {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

fn built() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><p>client</p>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app-1.js"), "console.log(1)").unwrap();
    dir
}

#[tokio::test]
async fn serves_the_build_with_a_single_page_fallback() {
    let dist = built();
    let app = app_with(dist.path());
    let root = get(&app, "/").await;
    assert_eq!(root.status, StatusCode::OK);
    assert_eq!(root.body, "<!doctype html><p>client</p>");
    assert!(root.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(root.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let js = get(&app, "/assets/app-1.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.body, "console.log(1)");
    assert!(js.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));

    // A validator, and 304 when the browser has this version.
    let etag = js.headers[header::ETAG].clone();
    let again = Request::builder()
        .uri("/assets/app-1.js")
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(again).await.status, StatusCode::NOT_MODIFIED);
    let other = Request::builder()
        .uri("/assets/app-1.js")
        .header(header::IF_NONE_MATCH, "W/\"other\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(other).await.status, StatusCode::OK);

    // A client route is the app; a missing file is a 404, not the app.
    assert_eq!(get(&app, "/channels/5").await.body, root.body);
    assert_eq!(
        get(&app, "/assets/gone.js").await.status,
        StatusCode::NOT_FOUND
    );
    // Traversal is never looked up: it gets the app, not the file.
    let escape = get(&app, "/assets/../../etc/passwd").await;
    assert_ne!(escape.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!escape.body.as_str().unwrap_or("").contains("root:"));
}

#[tokio::test]
async fn tells_the_client_where_the_gateway_is() {
    let dist = built();
    let app = app_with(dist.path());
    let config = get(&app, "/web-config.json").await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.body["gateway_port"], 4001);
    assert_eq!(config.body["gateway_tls"], false);
}

#[tokio::test]
async fn never_shadows_the_api() {
    let dist = built();
    let app = app_with(dist.path());
    for path in ["/api/nope", "/api", "/media/1", "/gateway", "/gateway/x"] {
        let answer = get(&app, path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.code(), "NOT_FOUND", "{path}");
    }
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    let post = Request::builder()
        .method(Method::POST)
        .uri("/somewhere")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(post).await.code(), "NOT_FOUND");
}

#[tokio::test]
async fn says_how_to_build_when_not_built() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&dir.path().join("dist"));
    let root = get(&app, "/").await;
    assert_eq!(root.status, StatusCode::NOT_FOUND);
    let page = root.body.as_str().unwrap();
    assert!(page.contains("scripts/web.sh"), "{page}");
    assert!(page.contains("npm --prefix web ci"), "{page}");
}

#[tokio::test]
async fn without_a_client_root_is_the_json_404() {
    let app = TestApp::new();
    assert_eq!(get(&app, "/").await.code(), "NOT_FOUND");
}
