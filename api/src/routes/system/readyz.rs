//! `GET /readyz`: storage (each of its dependencies: the database, and ScyllaDB when
//! history lives there) and the bus answer.

use axum::extract::State;
use protocol::ErrorCode;

use super::healthz::StatusBody;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::state::ApiState;

/// Readiness: 200 when every storage dependency and the bus answer, else 503 naming
/// the first that does not (`storage unavailable`, `scylla unavailable`, `bus
/// unavailable`).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "system",
    responses(
        (status = 200, description = "Ready", body = StatusBody),
        (status = 503, description = "UNAVAILABLE: storage, scylla or bus down", body = ErrorBody),
    )
)]
pub async fn readyz(State(state): State<ApiState>) -> Result<Json<StatusBody>, ApiError> {
    for (dependency, answer) in state.chat.store().dependencies().await {
        if let Err(err) = answer {
            tracing::warn!(error = %err, dependency, "readiness: down");
            return Err(ApiError::new(
                ErrorCode::Unavailable,
                format!("{dependency} unavailable"),
            ));
        }
    }
    if !state.chat.bus().ping().await {
        tracing::warn!("readiness: bus down");
        return Err(ApiError::new(ErrorCode::Unavailable, "bus unavailable"));
    }
    Ok(Json(StatusBody { status: "ready" }))
}
