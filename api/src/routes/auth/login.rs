//! `POST /api/auth/login`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AuthBody;
use crate::error::{ApiError, AuthAttemptErrors, BodyErrors, ErrorBody, ServerErrors};
use crate::extract::{AuthAttempt, Json};
use crate::state::ApiState;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Checks the credentials and answers a fresh token.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = AuthBody),
        (
            status = 401,
            description = "UNAUTHORIZED: unknown user or wrong password",
            body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "Always `Bearer`."))
        ),
        AuthAttemptErrors,
        BodyErrors,
        ServerErrors,
    )
)]
pub async fn login(
    State(state): State<ApiState>,
    _attempt: AuthAttempt,
    Json(req): Json<LoginRequest>,
) -> Result<Json<AuthBody>, ApiError> {
    let session = state.chat.login(&req.username, &req.password).await?;
    Ok(Json(session.into()))
}
