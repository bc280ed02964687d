//! `POST /api/chat/messages/{id}/thread`.

use axum::extract::State;
use axum::http::StatusCode;
use protocol::MessageId;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, BodyErrors, ErrorBody, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Path};
use crate::routes::bodies::ChannelBody;
use crate::schema::ChannelNameSchema;
use crate::schema::IdSchema;
use crate::state::ApiState;

/// A new thread.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ThreadRequest {
    /// 1-100 characters.
    #[schema(value_type = ChannelNameSchema)]
    pub name: String,
}

/// Starts a thread from a message (members of its channel only); the caller owns it.
#[utoipa::path(
    post,
    path = "/api/chat/messages/{id}/thread",
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "The root message")),
    request_body = ThreadRequest,
    responses(
        (status = 201, description = "The thread (kind thread, parent_id set)", body = ChannelBody),
        (status = 409, description = "CONFLICT: the message already has a thread", body = ErrorBody),
        MemberErrors,
        BodyErrors,
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn thread(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<MessageId>,
    Json(req): Json<ThreadRequest>,
) -> Result<(StatusCode, Json<ChannelBody>), ApiError> {
    let channel = state.chat.create_thread(auth.id(), id, &req.name).await?;
    Ok((StatusCode::CREATED, Json(ChannelBody { channel })))
}
