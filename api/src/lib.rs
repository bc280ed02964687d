//! Layer4 HTTP API (axum): accounts, channels, DMs, history (API.md).
//!
//! [`app`] builds the router over an [`ApiState`]; [`serve`] runs it on a listener
//! with graceful shutdown. Handlers are thin: they parse the request with our
//! extractors ([`extract`]), call one [`service::Chat`] operation (which validates,
//! checks permissions, stores and publishes the events the gateway delivers), and
//! shape the answer. Every error, including unknown routes, wrong methods, bad JSON
//! and oversized bodies, is `{"error": {"code", "message"}}` ([`error`]).
//!
//! It is not the gateway and never imports it: changes reach connected clients
//! through the bus. Uploads and downloads have their mechanics in [`media`]; the
//! browser client's files are served by [`web`] (when configured).

pub mod config;
pub mod de;
pub mod error;
pub mod extract;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod routes;
mod schema;
pub mod state;
pub mod web;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::Router;

pub use config::ApiConfig;
pub use error::ApiError;
pub use state::ApiState;

/// The API's router, with its body limit, request metrics and (when configured) CORS.
pub fn app(state: ApiState) -> Router {
    let body_limit = state.config.body_limit;
    let cors = cors(&state.config.cors_origins);
    let router = routes::router()
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state);
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The CORS layer for `origins`; `None` (no CORS headers at all) when empty. Tokens
/// travel in the `Authorization` header, never in cookies, so credentials stay off.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim()).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets in-flight
/// requests finish. Client addresses come from the socket (for per-IP limits).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
