//! `GET /metrics`: Prometheus text format, optionally guarded by `METRICS_TOKEN`
//! (never by a user token).

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use protocol::ErrorCode;

use crate::error::{ApiError, ErrorBody};
use crate::extract::auth::bearer;
use crate::state::ApiState;

/// The Prometheus exposition of this process's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4", body = String),
        (
            status = 401,
            description = "UNAUTHORIZED: METRICS_TOKEN is set and not given",
            body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`."))
        ),
    )
)]
pub async fn metrics(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(expected) = &state.config.metrics_token {
        let given = bearer(&headers).unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "metrics token required",
            ));
        }
    }
    state.metrics.run_upkeep();
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    ))
}

/// Compares without an early exit, so timing does not reveal a prefix of the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
