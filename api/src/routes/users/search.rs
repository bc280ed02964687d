//! `GET /api/chat/users/search`.

use axum::extract::State;

use crate::error::{ApiError, AuthedErrors, ParamErrors};
use crate::extract::{Auth, Json, Params};
use crate::routes::bodies::UsersBody;
use crate::state::ApiState;

/// Users whose username, or a word of whose display name, starts with `q`
/// (case-insensitive), by username. An empty `q` finds nobody.
#[utoipa::path(
    get,
    path = "/api/chat/users/search",
    tag = "users",
    security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, max_length = 100, description = "Prefix, at most 100 characters"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 50"),
    ),
    responses((status = 200, description = "Matching users", body = UsersBody), ParamErrors, AuthedErrors)
)]
pub async fn search(
    State(state): State<ApiState>,
    _auth: Auth,
    params: Params,
) -> Result<Json<UsersBody>, ApiError> {
    let limit = params.limit()?;
    let users = state.chat.search_users(params.text("q"), limit).await?;
    Ok(Json(UsersBody { users }))
}
