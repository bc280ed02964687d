//! `DELETE /api/chat/channels/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::ChannelId;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Deletes a group or thread (owner only); its members get `CHANNEL_DELETED`.
#[utoipa::path(
    delete,
    path = "/api/chat/channels/{id}",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    responses((status = 204, description = "Deleted"), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
) -> Result<StatusCode, ApiError> {
    state.chat.delete_channel(auth.id(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
