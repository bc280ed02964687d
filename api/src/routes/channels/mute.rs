//! `PUT /api/chat/channels/{id}/mute`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::ChannelId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, OptionalJson, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// How long to mute; the body may be absent.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MuteRequest {
    /// End of the mute, ms since the epoch; absent = until unmuted.
    #[serde(default, deserialize_with = "crate::de::opt_int64")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub until: Option<u64>,
}

/// Mutes the channel for the caller (members only).
#[utoipa::path(
    put,
    path = "/api/chat/channels/{id}/mute",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    request_body(content = Option<MuteRequest>, description = "Optional"),
    responses((status = 204, description = "Muted"), MemberErrors, BodyErrors, ParamErrors, AuthedErrors)
)]
pub async fn mute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
    OptionalJson(req): OptionalJson<MuteRequest>,
) -> Result<StatusCode, ApiError> {
    state.chat.mute(auth.id(), id, req.until).await?;
    Ok(StatusCode::NO_CONTENT)
}
