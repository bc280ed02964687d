//! `GET /api/chat/channels/{id}`.

use axum::extract::State;
use protocol::ChannelId;

use crate::error::{ApiError, AuthedErrors, ErrorBody, ParamErrors};
use crate::extract::{Auth, Json, Path};
use crate::routes::bodies::ChannelBody;
use crate::schema::IdSchema;
use crate::state::ApiState;

/// One channel as the caller sees it: members, and anyone for public groups.
#[utoipa::path(
    get,
    path = "/api/chat/channels/{id}",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel", body = ChannelBody),
        (status = 404, description = "NOT_FOUND: no such channel, or a private one of others", body = ErrorBody),
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
) -> Result<Json<ChannelBody>, ApiError> {
    let channel = state.chat.channel(auth.id(), id).await?;
    Ok(Json(ChannelBody { channel }))
}
