//! `POST /api/auth/register`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AuthBody;
use crate::error::{ApiError, AuthAttemptErrors, BodyErrors, ErrorBody, ServerErrors};
use crate::extract::{AuthAttempt, Json};
use crate::schema::{DisplayNameSchema, PasswordSchema, UsernameSchema};
use crate::state::ApiState;

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3-32 characters of `[a-z0-9_.]`.
    #[schema(value_type = UsernameSchema)]
    pub username: String,
    /// 8-256 characters.
    #[schema(value_type = PasswordSchema)]
    pub password: String,
    /// 1-32 characters; defaults to the username.
    #[serde(default)]
    #[schema(value_type = Option<DisplayNameSchema>)]
    pub display_name: Option<String>,
}

/// Creates an account and answers it with a token.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = AuthBody),
        (status = 409, description = "CONFLICT: the username is taken", body = ErrorBody),
        AuthAttemptErrors,
        BodyErrors,
        ServerErrors,
    )
)]
pub async fn register(
    State(state): State<ApiState>,
    _attempt: AuthAttempt,
    Json(req): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<AuthBody>), ApiError> {
    let session = state
        .chat
        .register(&req.username, &req.password, req.display_name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}
