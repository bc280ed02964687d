//! `GET /api/chat/users/blocked`.

use axum::extract::State;

use crate::error::{ApiError, AuthedErrors};
use crate::extract::{Auth, Json};
use crate::routes::bodies::UsersBody;
use crate::state::ApiState;

/// The users the caller blocked.
#[utoipa::path(
    get,
    path = "/api/chat/users/blocked",
    tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "Blocked users", body = UsersBody), AuthedErrors)
)]
pub async fn blocked(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<UsersBody>, ApiError> {
    let users = state.chat.blocked_users(auth.id()).await?;
    Ok(Json(UsersBody { users }))
}
