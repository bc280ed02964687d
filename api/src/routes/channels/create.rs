//! `POST /api/chat/channels`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::{UserId, Visibility};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, ErrorBody};
use crate::extract::{Auth, Json};
use crate::routes::bodies::ChannelBody;
use crate::schema::{ChannelNameSchema, IdSchema, VisibilitySchema};
use crate::state::ApiState;

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateChannelRequest {
    /// 1-100 characters.
    #[schema(value_type = ChannelNameSchema)]
    pub name: String,
    /// Default `private`.
    #[serde(default)]
    #[schema(value_type = Option<VisibilitySchema>)]
    pub visibility: Option<Visibility>,
    /// Other initial members (the caller is the owner).
    #[serde(default)]
    #[schema(value_type = Option<Vec<IdSchema>>)]
    pub member_ids: Option<Vec<UserId>>,
}

/// Creates a group owned by the caller; every member gets `CHANNEL_CREATED`.
#[utoipa::path(
    post,
    path = "/api/chat/channels",
    tag = "channels",
    security(("bearer" = [])),
    request_body = CreateChannelRequest,
    responses(
        (status = 201, description = "Created", body = ChannelBody),
        (status = 403, description = "FORBIDDEN: over the member limit", body = ErrorBody),
        BodyErrors,
        AuthedErrors,
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Json(req): Json<CreateChannelRequest>,
) -> Result<(StatusCode, Json<ChannelBody>), ApiError> {
    let channel = state
        .chat
        .create_channel(
            auth.id(),
            &req.name,
            req.visibility,
            req.member_ids.unwrap_or_default(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ChannelBody { channel })))
}
