//! `GET /api/chat/channels/public`.

use axum::extract::State;

use crate::error::{ApiError, AuthedErrors, ParamErrors};
use crate::extract::{Auth, Json, Params};
use crate::routes::bodies::ChannelsBody;
use crate::state::ApiState;

/// Public groups whose name contains `q` (all of them for an empty `q`), by name.
#[utoipa::path(
    get,
    path = "/api/chat/channels/public",
    tag = "channels",
    security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, max_length = 100, description = "Part of the name, at most 100 characters"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 50"),
    ),
    responses((status = 200, description = "Public groups", body = ChannelsBody), ParamErrors, AuthedErrors)
)]
pub async fn public(
    State(state): State<ApiState>,
    auth: Auth,
    params: Params,
) -> Result<Json<ChannelsBody>, ApiError> {
    let limit = params.limit()?;
    let channels = state
        .chat
        .public_channels(auth.id(), params.text("q"), limit)
        .await?;
    Ok(Json(ChannelsBody { channels }))
}
