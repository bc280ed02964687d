//! `GET /api/chat/channels/{id}/members`.

use axum::extract::State;
use protocol::{ChannelId, Member};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Params, Path};
use crate::schema::IdSchema;
use crate::schema::MemberSchema;
use crate::state::ApiState;

/// `{members: [{user, role}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersBody {
    /// Members by user id.
    #[schema(value_type = Vec<MemberSchema>)]
    pub members: Vec<Member>,
}

/// Members with ids after `after`, by id (members only).
#[utoipa::path(
    get,
    path = "/api/chat/channels/{id}/members",
    tag = "channels",
    security(("bearer" = [])),
    params(
        ("id" = IdSchema, Path, description = "Channel id"),
        ("after" = Option<IdSchema>, Query, description = "A user id: members after it"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 50"),
    ),
    responses((status = 200, description = "A page of members", body = MembersBody), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn members(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
    params: Params,
) -> Result<Json<MembersBody>, ApiError> {
    let limit = params.limit()?;
    let after = params.id("after")?;
    let members = state.chat.members(auth.id(), id, after, limit).await?;
    Ok(Json(MembersBody { members }))
}
