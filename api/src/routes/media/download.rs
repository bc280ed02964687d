//! `GET /media/{id}/{filename}`.

use axum::extract::State;
use axum::response::Response;
use protocol::AttachmentId;

use crate::error::{ApiError, DownloadErrors, ParamErrors, ServerErrors};
use crate::extract::Path;
use crate::media::MediaStore;
use crate::routes::media::serve;
use crate::schema::IdSchema;
use crate::state::ApiState;

/// The file, with its stored content type, `X-Content-Type-Options: nosniff`, a
/// sandboxing `Content-Security-Policy`, and `Content-Disposition` inline for images,
/// video and audio (attachment otherwise). Public: no token, by the attachment's id and
/// its stored (sanitized) filename, as in the attachment's `url`; any other name is
/// `404`.
#[utoipa::path(
    get,
    path = "/media/{id}/{filename}",
    tag = "media",
    params(
        ("id" = IdSchema, Path, description = "Attachment id"),
        ("filename" = String, Path, description = "The attachment's filename"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>,
         headers(
            ("X-Content-Type-Options" = String, description = "Always `nosniff`"),
            ("Content-Disposition" = String, description = "`inline` for images, video and audio, else `attachment`"),
            ("Content-Security-Policy" = String, description = "`default-src 'none'; sandbox`"),
         )),
        DownloadErrors,
        ParamErrors,
        ServerErrors,
    )
)]
pub async fn download(
    State(state): State<ApiState>,
    Path((id, filename)): Path<(AttachmentId, String)>,
) -> Result<Response, ApiError> {
    let record = serve::attachment(&state, id).await?;
    let attachment = &record.attachment;
    if attachment.filename != filename {
        return Err(serve::not_found());
    }
    serve::object(
        &state,
        &MediaStore::file_key(id),
        &attachment.content_type,
        &attachment.filename,
    )
    .await
}
