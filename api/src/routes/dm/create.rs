//! `POST /api/chat/dm/create`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::UserId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, ErrorBody};
use crate::extract::{Auth, Json};
use crate::routes::bodies::ChannelBody;
use crate::schema::IdSchema;
use crate::state::ApiState;

/// The other user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDmRequest {
    /// Their id.
    #[schema(value_type = IdSchema)]
    pub user_id: UserId,
}

/// The DM with a user: `201` when it was created now (both get `CHANNEL_CREATED`),
/// `200` with the same channel every later time.
#[utoipa::path(
    post,
    path = "/api/chat/dm/create",
    tag = "channels",
    security(("bearer" = [])),
    request_body = CreateDmRequest,
    responses(
        (status = 200, description = "The existing DM", body = ChannelBody),
        (status = 201, description = "Created", body = ChannelBody),
        (status = 403, description = "BLOCKED: one of the two blocked the other", body = ErrorBody),
        (status = 404, description = "NOT_FOUND: no such user", body = ErrorBody),
        BodyErrors,
        AuthedErrors,
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Json(req): Json<CreateDmRequest>,
) -> Result<(StatusCode, Json<ChannelBody>), ApiError> {
    let (channel, created) = state.chat.create_dm(auth.id(), req.user_id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ChannelBody { channel })))
}
