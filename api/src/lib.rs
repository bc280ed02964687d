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
//! through the bus. Uploads, media and search join later under `routes/`.

pub mod config;
pub mod de;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod routes;
mod schema;
pub mod state;

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::Router;

pub use config::ApiConfig;
pub use error::ApiError;
pub use state::ApiState;

/// The API's router, with its body limit and request metrics.
pub fn app(state: ApiState) -> Router {
    let body_limit = state.config.body_limit;
    routes::router()
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
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
