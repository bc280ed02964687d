//! `GET /healthz`: the process answers.

use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::Json;

/// `{status}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusBody {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: 200 while the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses((status = 200, description = "Up", body = StatusBody))
)]
pub async fn healthz() -> Json<StatusBody> {
    Json(StatusBody { status: "ok" })
}
