//! `POST /api/chat/channels/{id}/members`.

use axum::extract::State;
use protocol::{ChannelId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, LateJson, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// Users to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMembersRequest {
    /// 1-100 user ids.
    #[schema(value_type = Vec<IdSchema>, min_items = 1, max_items = 100)]
    pub user_ids: Vec<UserId>,
}

/// `{added: n}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedBody {
    /// How many were not members before.
    pub added: u32,
}

/// Adds members (owner or admin): each is a `USER_JOINED` channel event, and the new
/// member gets `CHANNEL_CREATED`. A channel the caller cannot see is `404` whatever
/// the body (visibility is answered before the body is judged).
#[utoipa::path(
    post,
    path = "/api/chat/channels/{id}/members",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    request_body = AddMembersRequest,
    responses(
        (status = 200, description = "Added", body = AddedBody),
        MemberErrors,
        BodyErrors,
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn add_members(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
    body: LateJson<AddMembersRequest>,
) -> Result<Json<AddedBody>, ApiError> {
    state.chat.check_member(auth.id(), id).await?;
    let req = body.into_inner()?;
    let added = state.chat.add_members(auth.id(), id, req.user_ids).await?;
    Ok(Json(AddedBody { added }))
}
