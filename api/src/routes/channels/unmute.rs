//! `DELETE /api/chat/channels/{id}/mute`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::ChannelId;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Unmutes the channel for the caller (idempotent; members only).
#[utoipa::path(
    delete,
    path = "/api/chat/channels/{id}/mute",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    responses((status = 204, description = "Unmuted"), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn unmute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
) -> Result<StatusCode, ApiError> {
    state.chat.unmute(auth.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
