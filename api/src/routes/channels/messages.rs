//! `GET /api/chat/channels/{id}/messages`.

use axum::extract::State;
use protocol::{ChannelId, Message};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Params, Path};
use crate::schema::IdSchema;
use crate::schema::MessageSchema;
use crate::state::ApiState;

/// `{messages: [Message]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagesBody {
    /// Newest first, deleted ones left out.
    #[schema(value_type = Vec<MessageSchema>)]
    pub messages: Vec<Message>,
}

/// A page of history (members only), as `FETCH_MESSAGES`: at most one cursor.
#[utoipa::path(
    get,
    path = "/api/chat/channels/{id}/messages",
    tag = "messages",
    security(("bearer" = [])),
    params(
        ("id" = IdSchema, Path, description = "Channel id"),
        ("before" = Option<IdSchema>, Query, description = "The messages just before this id"),
        ("after" = Option<IdSchema>, Query, description = "The messages just after this id"),
        ("around" = Option<IdSchema>, Query, description = "Messages centred on this id, itself included"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 50"),
    ),
    responses((status = 200, description = "Newest first", body = MessagesBody), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn messages(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
    params: Params,
) -> Result<Json<MessagesBody>, ApiError> {
    let limit = params.limit()?;
    let page = params.page()?;
    let messages = state
        .chat
        .fetch_messages(auth.id(), id, page, limit)
        .await?;
    Ok(Json(MessagesBody { messages }))
}
