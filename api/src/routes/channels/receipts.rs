//! `GET /api/chat/channels/{id}/receipts`.

use axum::extract::State;
use protocol::{ChannelId, MessageId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Path};
use crate::schema::IdSchema;
use crate::state::ApiState;

/// One member's last read message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// The member.
    #[schema(value_type = IdSchema)]
    pub user_id: UserId,
    /// Their last read message.
    #[schema(value_type = IdSchema)]
    pub message_id: MessageId,
}

/// `{receipts: [{user_id, message_id}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptsBody {
    /// Members who read nothing are left out.
    pub receipts: Vec<Receipt>,
}

/// Every member's last read message (members only).
#[utoipa::path(
    get,
    path = "/api/chat/channels/{id}/receipts",
    tag = "channels",
    security(("bearer" = [])),
    params(("id" = IdSchema, Path, description = "Channel id")),
    responses((status = 200, description = "Receipts", body = ReceiptsBody), MemberErrors, ParamErrors, AuthedErrors)
)]
pub async fn receipts(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<ChannelId>,
) -> Result<Json<ReceiptsBody>, ApiError> {
    let receipts = state
        .chat
        .receipts(auth.id(), id)
        .await?
        .into_iter()
        .map(|(user_id, message_id)| Receipt {
            user_id,
            message_id,
        })
        .collect();
    Ok(Json(ReceiptsBody { receipts }))
}
