//! `GET /media/{id}/thumbnail`.

use axum::extract::State;
use axum::response::Response;
use protocol::AttachmentId;

use crate::error::{ApiError, DownloadErrors, ParamErrors, ServerErrors};
use crate::extract::Path;
use crate::media::MediaStore;
use crate::routes::media::serve;
use crate::schema::IdSchema;
use crate::state::ApiState;

/// An image attachment's thumbnail (PNG, longest side 256 pixels): the
/// `thumbnail_url` of the attachment, with the same headers as the file. Public: no
/// token, by the attachment's id.
#[utoipa::path(
    get,
    path = "/media/{id}/thumbnail",
    tag = "media",
    params(
        ("id" = IdSchema, Path, description = "Attachment id"),
    ),
    responses(
        (status = 200, description = "The thumbnail", content_type = "image/png", body = Vec<u8>),
        DownloadErrors,
        ParamErrors,
        ServerErrors,
    )
)]
pub async fn thumbnail(
    State(state): State<ApiState>,
    Path(id): Path<AttachmentId>,
) -> Result<Response, ApiError> {
    let record = serve::attachment(&state, id).await?;
    if record.attachment.thumbnail_url.is_none() {
        return Err(serve::not_found());
    }
    serve::object(
        &state,
        &MediaStore::thumbnail_key(id),
        "image/png",
        "thumbnail.png",
    )
    .await
}
