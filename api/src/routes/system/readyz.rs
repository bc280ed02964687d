//! `GET /readyz`: storage and bus answer.

use axum::extract::State;
use protocol::ErrorCode;

use super::healthz::StatusBody;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::state::ApiState;

/// Readiness: 200 when storage and the bus answer, else 503.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "system",
    responses(
        (status = 200, description = "Ready", body = StatusBody),
        (status = 503, description = "UNAVAILABLE: storage or bus down", body = ErrorBody),
    )
)]
pub async fn readyz(State(state): State<ApiState>) -> Result<Json<StatusBody>, ApiError> {
    if let Err(err) = state.chat.store().ping().await {
        tracing::warn!(error = %err, "readiness: storage down");
        return Err(ApiError::new(ErrorCode::Unavailable, "storage unavailable"));
    }
    if !state.chat.bus().ping().await {
        tracing::warn!("readiness: bus down");
        return Err(ApiError::new(ErrorCode::Unavailable, "bus unavailable"));
    }
    Ok(Json(StatusBody { status: "ready" }))
}
