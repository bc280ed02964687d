//! `PATCH /api/chat/channels/{id}`.

use axum::extract::State;
use protocol::{ChannelId, Visibility};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Path};
use crate::routes::bodies::ChannelBody;
use crate::schema::IdSchema;
use crate::schema::{ChannelNameSchema, VisibilitySchema};
use crate::state::ApiState;

/// Channel changes; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateChannelRequest {
    /// 1-100 characters.
    #[serde(default)]
    #[schema(value_type = Option<ChannelNameSchema>)]
    pub name: Option<String>,
    /// Groups only (a thread follows its parent).
    #[serde(default)]
    #[schema(value_type = Option<VisibilitySchema>)]
    pub visibility: Option<Visibility>,
}

/// Renames or changes visibility (owner or admin); members get `CHANNEL_UPDATED`.
#[utoipa::path(
    patch,
    path = "/api/chat/channels/{id}",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    request_body = UpdateChannelRequest,
    responses(
        (status = 200, description = "The updated channel", body = ChannelBody),
        MemberErrors,
        BodyErrors,
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
    Json(req): Json<UpdateChannelRequest>,
) -> Result<Json<ChannelBody>, ApiError> {
    let channel = state
        .chat
        .update_channel(auth.id(), id, req.name.as_deref(), req.visibility)
        .await?;
    Ok(Json(ChannelBody { channel }))
}
