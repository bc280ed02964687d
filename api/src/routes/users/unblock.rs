//! `DELETE /api/chat/users/{id}/block`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::UserId;

use crate::error::{ApiError, AuthedErrors, ErrorBody, ParamErrors};
use crate::extract::{Auth, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Removes a block (idempotent).
#[utoipa::path(
    delete,
    path = "/api/chat/users/{id}/block",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "The user to unblock")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 404, description = "NOT_FOUND: no such user", body = ErrorBody),
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn unblock(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    state.chat.unblock(auth.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
