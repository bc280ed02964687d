//! `DELETE /api/chat/channels/{id}/members/{user_id}`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::{ChannelId, UserId};

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Removes a member (owner or admin, of a lower role), or leaves (oneself); a
/// `USER_LEFT` channel event.
#[utoipa::path(
    delete,
    path = "/api/chat/channels/{id}/members/{user_id}",
    tag = "channels",
    security(("bearer" = [])),
    params(
        ("id" = IdSchema, Path, description = "Channel id"),
        ("user_id" = IdSchema, Path, description = "The member to remove"),
    ),
    responses((status = 204, description = "Removed"), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn remove_member(
    State(state): State<ApiState>,
    auth: Auth,
    Path((id, user_id)): Path<(ChannelId, UserId)>,
) -> Result<StatusCode, ApiError> {
    state.chat.remove_member(auth.id(), id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
