//! `GET /api/chat/messages/{id}/edits`.

use axum::extract::State;
use protocol::MessageId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// A previous version of a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditEntry {
    /// The text of that version.
    pub content: String,
    /// When it was replaced, ms since the epoch.
    pub edited_at: u64,
}

/// `{edits: [{content, edited_at}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditsBody {
    /// Previous versions only, oldest first.
    pub edits: Vec<EditEntry>,
}

/// The audit trail of a message (members of its channel only).
#[utoipa::path(
    get,
    path = "/api/chat/messages/{id}/edits",
    tag = "messages",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Message id")),
    responses((status = 200, description = "Previous versions", body = EditsBody), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn edits(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<MessageId>,
) -> Result<Json<EditsBody>, ApiError> {
    let edits = state
        .chat
        .message_edits(auth.id(), id)
        .await?
        .into_iter()
        .map(|edit| EditEntry {
            content: edit.content,
            edited_at: edit.edited_at,
        })
        .collect();
    Ok(Json(EditsBody { edits }))
}
