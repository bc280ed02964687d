//! `GET /api/users/me`.

use axum::extract::State;

use crate::error::{ApiError, AuthedErrors};
use crate::extract::{Auth, Json};
use crate::routes::bodies::UserBody;
use crate::state::ApiState;

/// The caller, with their presence status.
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = UserBody), AuthedErrors)
)]
pub async fn me(State(state): State<ApiState>, auth: Auth) -> Result<Json<UserBody>, ApiError> {
    let user = state.chat.me(auth.id()).await?;
    Ok(Json(UserBody { user }))
}
