//! `GET /api/openapi.json`: the OpenAPI 3 document generated from the handlers.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

/// The OpenAPI document (built once).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "system",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json", body = Object))
)]
pub async fn openapi() -> impl IntoResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let json = DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|err| format!(r#"{{"error":"openapi: {err}"}}"#))
    });
    ([(header::CONTENT_TYPE, "application/json")], json.clone())
}
