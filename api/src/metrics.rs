//! Request metrics (counters and latency by route, method and status) and the
//! process's Prometheus recorder.
//!
//! The recorder is process-wide (the `metrics` facade has one global recorder), so it
//! is installed once, by the first [`prometheus`] call; the gateway's metrics recorded
//! through the same facade appear on the API's `/metrics` in `layer4 dev`. If some
//! other recorder was installed first, `/metrics` renders an empty registry (and a
//! warning is logged) rather than failing.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Requests answered, by `route`, `method` and `status`.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// Request latency in seconds, by `route`, `method` and `status`.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";

/// The process's Prometheus handle, installing the recorder on first call.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => handle,
            Err(err) => {
                tracing::warn!(error = %err, "metrics recorder not installed; /metrics will be empty");
                PrometheusBuilder::new().build_recorder().handle()
            }
        })
        .clone()
}

/// Middleware: counts the request and records its latency once it is answered.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    // Known methods only: a label per arbitrary method name would let clients grow
    // the registry without bound.
    let method = match *request.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => request.method().as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("route", route),
        ("method", method),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}
