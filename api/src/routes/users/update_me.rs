//! `PATCH /api/users/me`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors};
use crate::extract::{Auth, Json};
use crate::routes::bodies::UserBody;
use crate::schema::DisplayNameSchema;
use crate::state::ApiState;

/// Profile changes; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateMeRequest {
    /// 1-32 characters.
    #[serde(default)]
    #[schema(value_type = Option<DisplayNameSchema>)]
    pub display_name: Option<String>,
}

/// Changes the caller's display name.
#[utoipa::path(
    patch,
    path = "/api/users/me",
    tag = "users",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, description = "The updated caller", body = UserBody), BodyErrors, AuthedErrors)
)]
pub async fn update_me(
    State(state): State<ApiState>,
    auth: Auth,
    Json(req): Json<UpdateMeRequest>,
) -> Result<Json<UserBody>, ApiError> {
    let user = state
        .chat
        .update_me(auth.id(), req.display_name.as_deref())
        .await?;
    Ok(Json(UserBody { user }))
}
