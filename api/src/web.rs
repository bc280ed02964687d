//! The browser client's files (`web/dist`, built by `scripts/web.sh`), served at `/`
//! by `layer4 dev` so that one command gives a person a working chat in the browser.
//!
//! It is the router's fallback, so it can never shadow a route: API routes, `/media/`,
//! `/healthz` and friends match first, and unknown paths under `/api/`, `/media/` and
//! `/gateway` still answer the JSON 404. Other GET paths are files of the build or,
//! for the client's own routes, `index.html` (single-page app). The client learns
//! where the gateway is from `/web-config.json`. Paths never leave the build folder:
//! a path with `..`, a backslash or a NUL is not looked up at all.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;

use crate::error::ApiError;
use crate::state::ApiState;

/// Where the client is and what it needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// The built client (`web/dist`); it may not exist (then `/` says how to build it).
    pub dist: PathBuf,
    /// The gateway's port, as seen by browsers on the same host.
    pub gateway_port: u16,
    /// The gateway serves `wss://`.
    pub gateway_tls: bool,
}

/// Path prefixes that belong to the API, the media routes and the gateway.
const RESERVED: [&str; 4] = ["/api/", "/media/", "/gateway", "/echo"];

/// Content Security Policy of the client's pages: everything from this origin, the
/// gateway over WebSocket on any host (it has its own port), inline styles (React
/// `style` attributes and the emoji picker's shadow DOM) and blob: image previews.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The fallback handler: the client's files, or the JSON 404 for everything else.
pub async fn fallback(
    State(state): State<ApiState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let Some(web) = state.config.web.as_ref() else {
        return not_found();
    };
    if (method != Method::GET && method != Method::HEAD)
        || path == "/api"
        || RESERVED.iter().any(|p| path.starts_with(p))
    {
        return not_found();
    }
    if path == "/web-config.json" {
        let body = serde_json::json!({
            "gateway_port": web.gateway_port,
            "gateway_tls": web.gateway_tls,
        });
        return ([(header::CACHE_CONTROL, "no-cache")], axum::Json(body)).into_response();
    }
    let index = web.dist.join("index.html");
    if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
        return not_built(&web.dist);
    }
    if let Some(file) = safe_join(&web.dist, path) {
        if let Ok((bytes, etag)) = read_file(&file).await {
            if not_modified(&headers, &etag) {
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
            }
            let immutable = path.starts_with("/assets/");
            let mut response = file_response(bytes, content_type(&file), immutable);
            if let Ok(value) = HeaderValue::from_str(&etag) {
                response.headers_mut().insert(header::ETAG, value);
            }
            return response;
        }
        if has_extension(path) {
            return (StatusCode::NOT_FOUND, "no such file\n").into_response();
        }
    }
    match tokio::fs::read(&index).await {
        Ok(bytes) => file_response(bytes, "text/html; charset=utf-8", false),
        Err(err) => {
            tracing::warn!(%err, "reading the web client's index.html");
            not_built(&web.dist)
        }
    }
}

fn not_found() -> Response {
    ApiError::new(ErrorCode::NotFound, "no such route").into_response()
}

/// `/` when the client was not built: how to build it.
fn not_built(dist: &Path) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Layer4 Chat</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5\">\
         <h1>Layer4 Chat</h1><p>The API and the gateway are running, but the web client is not built \
         (no <code>{}</code>).</p><p>Build it (Node.js 20+), then reload this page:</p>\
         <pre>scripts/web.sh</pre><p>or</p><pre>npm --prefix web ci &amp;&amp; npm --prefix web run build</pre>\
         <p><code>scripts/dev.sh</code> builds it and starts <code>layer4 dev</code> in one go.</p></body></html>",
        html_escape(&dist.join("index.html").display().to_string())
    );
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `dist` joined with the URL path, or `None` when the path could leave `dist` (or
/// names a folder).
fn safe_join(dist: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        return None;
    }
    let mut out = dist.to_path_buf();
    for segment in rel.split('/') {
        if segment.is_empty()
            || segment == "."
            || segment == ".."
            || segment.contains(['\\', '\0', ':'])
        {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

/// Reads a regular file (not a folder or a link to one), with a validator made of its
/// size and modification time (a rebuild changes it).
async fn read_file(path: &Path) -> std::io::Result<(Vec<u8>, String)> {
    let meta = tokio::fs::metadata(path).await?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not a file",
        ));
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let etag = format!("W/\"{:x}-{modified:x}\"", meta.len());
    Ok((tokio::fs::read(path).await?, etag))
}

/// The request already holds this version (`If-None-Match`).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*")
}

fn has_extension(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn file_response(bytes: Vec<u8>, content_type: &'static str, immutable: bool) -> Response {
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_build_folder() {
        let dist = Path::new("/srv/dist");
        assert_eq!(
            safe_join(dist, "/assets/app.js"),
            Some(PathBuf::from("/srv/dist/assets/app.js"))
        );
        for bad in [
            "/../etc/passwd",
            "/assets/../../x",
            "/a//b",
            "/./x",
            "/a\\b",
            "/c:x",
            "/",
            "/assets/",
        ] {
            assert_eq!(safe_join(dist, bad), None, "{bad}");
        }
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(
            content_type(Path::new("a/index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("x.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("data.json")), "application/json");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
        assert!(has_extension("/assets/x.js") && !has_extension("/channels/5"));
    }
}
