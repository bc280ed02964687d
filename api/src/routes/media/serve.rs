//! Answering a download: the attachment is looked up (it exists, and the message it is
//! on is not deleted), then the object is streamed with headers that keep a browser
//! from running it. No token and no membership: downloads are public by id and name
//! (API.md). The object is found by id alone ([`MediaStore::file_key`]), so nothing in
//! a request's path can name a file outside the media store.
//!
//! [`MediaStore::file_key`]: crate::media::MediaStore::file_key

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::{AttachmentId, ErrorCode};
use service::ServiceError;
use storage::AttachmentRecord;

use crate::error::ApiError;
use crate::media::names::disposition;
use crate::media::sniff::{is_inline, TEXT_PLAIN};
use crate::media::store::StoreFailure;
use crate::state::ApiState;

/// No script, no plugin, no navigation, not even for a PDF or an image opened
/// directly: the response is a sandboxed, resource-less document.
pub(crate) const CSP: &str = "default-src 'none'; sandbox";

/// `404` for anything a download cannot name: an unknown id, a name that is not the
/// file's, a deleted message's file.
pub(crate) fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "media not found")
}

/// The attachment `id` if it may be downloaded: it exists and is not on a deleted
/// message.
pub(crate) async fn attachment(
    state: &ApiState,
    id: AttachmentId,
) -> Result<AttachmentRecord, ApiError> {
    let record = state.chat.attachment(id).await?.ok_or_else(not_found)?;
    if let Some(message) = record.message_id {
        let live = state
            .chat
            .store()
            .message(message)
            .await
            .map_err(ServiceError::from)?
            .is_some_and(|m| m.deleted_at.is_none());
        if !live {
            return Err(not_found());
        }
    }
    Ok(record)
}

/// Streams the object at `key` as `content_type`.
pub(crate) async fn object(
    state: &ApiState,
    key: &object_store::path::Path,
    content_type: &str,
    filename: &str,
) -> Result<Response, ApiError> {
    let store = state
        .media
        .store()
        .map_err(|_| ServiceError::unavailable("media store unavailable"))?;
    let download = match store.get(key).await {
        Ok(download) => download,
        Err(StoreFailure::NotFound) => return Err(not_found()),
        Err(err) => {
            tracing::warn!(error = %err, "media store read failed");
            return Err(ServiceError::unavailable("media store unavailable").into());
        }
    };
    let served_type = if content_type == TEXT_PLAIN {
        "text/plain; charset=utf-8"
    } else {
        content_type
    };
    let mut response = (StatusCode::OK, Body::from_stream(download.stream)).into_response();
    let headers = response.headers_mut();
    let value = |text: &str| {
        HeaderValue::from_str(text)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
    };
    headers.insert(header::CONTENT_TYPE, value(served_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        value(&disposition(is_inline(content_type), filename)),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // Whoever knows the url can fetch the file: keep it out of Referer headers and
    // shared caches.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    Ok(response)
}
