//! `POST /api/chat/media/upload`.

use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use protocol::{Attachment, ErrorCode};
use service::ServiceError;
use utoipa::ToSchema;

use crate::error::{ApiError, AuthedErrors, UploadErrors};
use crate::extract::{Auth, Json};
use crate::media::image::{probe, ProbeError};
use crate::media::names::{file_url, sanitize, thumbnail_url};
use crate::media::sniff::image_format;
use crate::media::spool::{spool, SpoolError, Spooled};
use crate::media::MediaStore;
use crate::routes::media::AttachmentBody;
use crate::state::ApiState;

/// Room for the multipart framing and small fields around the file.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;
/// How long a refused upload's remaining bytes are read (so the client, still
/// sending, reads our answer instead of a connection reset).
const DRAIN_FOR: Duration = Duration::from_secs(5);

/// The multipart form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (at most 50 MiB). Its type is read from its bytes: png, jpeg, gif,
    /// webp, mp4, webm, mp3, ogg, wav, pdf, zip or plain text.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads one file (the multipart part `file`), to attach to a message with
/// `SEND_MESSAGE`'s `attachment_ids`. The type is read from the bytes, never the
/// name; images get `width`, `height` and a thumbnail.
#[utoipa::path(
    post,
    path = "/api/chat/media/upload",
    tag = "media",
    security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored, not yet attached", body = AttachmentBody),
        UploadErrors,
        AuthedErrors,
    )
)]
pub async fn upload(
    State(state): State<ApiState>,
    auth: Auth,
    req: Request,
) -> Result<(StatusCode, Json<AttachmentBody>), ApiError> {
    let max = state.config.media.max_upload_bytes;
    let cap = max.saturating_add(MULTIPART_OVERHEAD);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(too_large(max));
    }
    let store = state
        .media
        .store()
        .map_err(|_| ServiceError::unavailable("media store unavailable"))?
        .clone();
    let limited = req.map(|body| {
        axum::body::Body::new(http_body_util::Limited::new(
            body,
            usize::try_from(cap).unwrap_or(usize::MAX),
        ))
    });
    let mut multipart = Multipart::from_request(limited, &state)
        .await
        .map_err(|_| {
            ApiError::bad_request("body", "expected multipart/form-data with a `file` part")
        })?;
    let spooled = receive(&mut multipart, &state, max).await?;
    let (spooled, filename) = spooled;
    let id = state.chat.new_attachment_id();
    let mut attachment = Attachment {
        id,
        url: file_url(id, &filename),
        filename,
        content_type: spooled.content_type.to_owned(),
        size: spooled.size,
        width: None,
        height: None,
        thumbnail_url: None,
    };
    let thumbnail = match image_format(spooled.content_type) {
        Some(format) => {
            let probed = decode(&state, &spooled, format).await?;
            attachment.width = Some(probed.width);
            attachment.height = Some(probed.height);
            attachment.thumbnail_url = Some(thumbnail_url(id));
            Some(probed.thumbnail)
        }
        None => None,
    };

    let file_key = MediaStore::file_key(id);
    let thumb_key = MediaStore::thumbnail_key(id);
    let stored = async {
        store.put_file(&file_key, &spooled.path).await?;
        if let Some(bytes) = thumbnail {
            store.put_bytes(&thumb_key, bytes).await?;
        }
        Ok::<_, crate::media::store::StoreFailure>(())
    }
    .await;
    if let Err(err) = stored {
        store.delete(&file_key).await;
        tracing::warn!(error = %err, "media store write failed");
        return Err(ServiceError::unavailable("media store unavailable").into());
    }
    match state.chat.record_upload(auth.id(), attachment).await {
        Ok(attachment) => Ok((StatusCode::CREATED, Json(AttachmentBody { attachment }))),
        Err(err) => {
            store.delete(&file_key).await;
            store.delete(&thumb_key).await;
            Err(err.into())
        }
    }
}

/// Finds the `file` part and spools it; drains what is left of a refused upload.
async fn receive(
    multipart: &mut Multipart,
    state: &ApiState,
    max: u64,
) -> Result<(Spooled, String), ApiError> {
    let spool_dir = state.config.media.spool_dir.as_deref();
    let mut found: Option<(Spooled, String)> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(body_error(&err, max)),
        };
        if field.name() != Some("file") {
            // Other parts are read and ignored (the body cap bounds them).
            loop {
                match field.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(err) => return Err(body_error(&err, max)),
                }
            }
            continue;
        }
        if found.is_some() {
            drop(field);
            drain(multipart).await;
            return Err(ApiError::bad_request("file", "send one `file` part"));
        }
        let filename = sanitize(field.file_name().unwrap_or_default());
        match spool(&mut field, spool_dir, max).await {
            Ok(spooled) => found = Some((spooled, filename)),
            Err(err) => {
                // Read what the client is still sending, so it reads our answer.
                let _ = tokio::time::timeout(DRAIN_FOR, async {
                    while let Ok(Some(_)) = field.chunk().await {}
                })
                .await;
                drop(field);
                drain(multipart).await;
                return Err(spool_error(err, max));
            }
        }
    }
    found
        .ok_or_else(|| ApiError::bad_request("file", "is required (a multipart part named `file`)"))
}

/// Reads and drops the rest of the body, for at most [`DRAIN_FOR`].
async fn drain(multipart: &mut Multipart) {
    let _ = tokio::time::timeout(DRAIN_FOR, async {
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    })
    .await;
}

/// Width, height and thumbnail, decoded off the runtime, a few at a time.
async fn decode(
    state: &ApiState,
    spooled: &Spooled,
    format: image::ImageFormat,
) -> Result<crate::media::image::Probe, ApiError> {
    let _permit = state
        .media
        .decodes
        .acquire()
        .await
        .map_err(|_| ServiceError::unavailable("shutting down"))?;
    let path = spooled.path.to_path_buf();
    let (max_pixels, size) = (
        state.config.media.max_image_pixels,
        state.config.media.thumbnail_size,
    );
    let probed = tokio::task::spawn_blocking(move || probe(&path, format, max_pixels, size))
        .await
        .map_err(ServiceError::internal)?;
    probed.map_err(|err| match err {
        ProbeError::TooManyPixels { .. } => ServiceError::too_large("file", &err).into(),
        ProbeError::Invalid(_) => ApiError::bad_request("file", &err),
        ProbeError::Io(_) => ServiceError::internal(&err).into(),
    })
}

fn too_large(max: u64) -> ApiError {
    ServiceError::too_large("file", format!("larger than {max} bytes")).into()
}

fn body_error(err: &axum::extract::multipart::MultipartError, max: u64) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        ApiError::bad_request("body", format!("malformed multipart: {}", err.body_text()))
    }
}

fn spool_error(err: SpoolError, max: u64) -> ApiError {
    match err {
        SpoolError::TooLarge => too_large(max),
        SpoolError::Unsupported(what) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("file: {what} is not an allowed type"),
        ),
        SpoolError::Empty => ApiError::bad_request("file", "is empty"),
        SpoolError::Body(err) => body_error(&err, max),
        SpoolError::Io(err) => ServiceError::internal(format!("spooling an upload: {err}")).into(),
    }
}
