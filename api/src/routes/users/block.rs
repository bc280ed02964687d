//! `PUT /api/chat/users/{id}/block`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::UserId;

use crate::error::{ApiError, AuthedErrors, ErrorBody, ParamErrors};
use crate::extract::{Auth, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Blocks a user (idempotent): they cannot DM the caller, and their typing is not
/// shown to the caller.
#[utoipa::path(
    put,
    path = "/api/chat/users/{id}/block",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "The user to block")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 404, description = "NOT_FOUND: no such user", body = ErrorBody),
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn block(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    state.chat.block(auth.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
