//! `GET /api/chat/channels`.

use axum::extract::State;

use crate::error::{ApiError, AuthedErrors};
use crate::extract::{Auth, Json};
use crate::routes::bodies::ChannelsBody;
use crate::state::ApiState;

/// The caller's channels, with unread counts, newest activity first.
#[utoipa::path(
    get,
    path = "/api/chat/channels",
    tag = "channels",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's channels", body = ChannelsBody), AuthedErrors)
)]
pub async fn list(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<ChannelsBody>, ApiError> {
    let channels = state.chat.channels(auth.id()).await?;
    Ok(Json(ChannelsBody { channels }))
}
