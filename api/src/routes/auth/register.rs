//! `POST /api/auth/register`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AuthBody;
use crate::error::{ApiError, BodyErrors, ErrorBody, ServerErrors};
use crate::extract::{AuthAttempt, Json};
use crate::state::ApiState;

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    /// 3-32 characters of `[a-z0-9_.]`.
    pub username: String,
    /// 8-256 characters.
    pub password: String,
    /// 1-32 characters; defaults to the username.
    #[serde(default)]
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
        (status = 429, description = "RATE_LIMITED: too many attempts from this IP (Retry-After)", body = ErrorBody),
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
