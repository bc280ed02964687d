//! `GET /api/chat/search`.

use std::time::Duration;

use axum::extract::State;
use protocol::Message;
use serde::Serialize;
use service::ops::search::SearchRequest;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, MemberErrors, ParamErrors};
use crate::extract::{Auth, Json, Params};
use crate::schema::{IdSchema, MessageSchema};
use crate::state::ApiState;

/// `{messages: [Message], total}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchBody {
    /// Most relevant first, then newest first (newest first without words).
    #[schema(value_type = Vec<MessageSchema>)]
    pub messages: Vec<Message>,
    /// How many messages match in all, whatever the limit.
    pub total: u64,
}

/// Searches the undeleted messages of the channels the caller is a member of: every
/// word of `q` must match (whole words, any case); the filters narrow it. A
/// `channel_id` the caller cannot see is 404; a public channel they are not a member
/// of is 403. A search that runs over its time budget answers 503.
#[utoipa::path(
    get,
    path = "/api/chat/search",
    tag = "messages",
    security(("bearer" = [])),
    params(
        ("q" = Option<String>, Query, max_length = 100, description = "Words, all of which must match; empty: the filters alone"),
        ("channel_id" = Option<IdSchema>, Query, description = "Only this channel"),
        ("author_id" = Option<IdSchema>, Query, description = "Only this author"),
        ("before" = Option<IdSchema>, Query, description = "Only messages before this id"),
        ("after" = Option<IdSchema>, Query, description = "Only messages after this id"),
        ("has" = Option<HasFilter>, Query, description = "`attachment`: only messages with attachments"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "1-100, default 50"),
    ),
    responses(
        (status = 200, description = "The matches", body = SearchBody),
        MemberErrors,
        ParamErrors,
        AuthedErrors,
    )
)]
pub async fn search(
    State(state): State<ApiState>,
    auth: Auth,
    params: Params,
) -> Result<Json<SearchBody>, ApiError> {
    let has_attachment = match params.0.get("has").map(String::as_str) {
        None => false,
        Some("attachment") => true,
        Some(_) => return Err(ApiError::bad_request("has", "must be `attachment`")),
    };
    let req = SearchRequest {
        text: params.text("q").to_owned(),
        channel_id: params.id("channel_id")?,
        author_id: params.id("author_id")?,
        before: params.id("before")?,
        after: params.id("after")?,
        has_attachment,
        limit: params.limit()?,
        time_budget: Duration::from_millis(state.config.search_time_budget_ms),
    };
    let found = state.chat.search_messages(auth.id(), req).await?;
    Ok(Json(SearchBody {
        messages: found.messages,
        total: found.total,
    }))
}

/// The values of `has`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum HasFilter {
    /// Only messages with attachments.
    Attachment,
}
