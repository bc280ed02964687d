//! Uploads (`POST /api/chat/media/upload`) and downloads (`GET /media/...`).
//!
//! The mechanics (type sniffing, spooling, thumbnails, the object store, file names)
//! are in [`crate::media`]; these handlers put them in order and shape the answers.
//! Downloads are public by the attachment id and filename (API.md: "as on Discord's
//! CDN"): they take no `Authorization` and no membership check.

pub mod download;
mod serve;
pub mod thumbnail;
pub mod upload;

use protocol::Attachment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::AttachmentSchema;

/// `{attachment}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentBody {
    /// The uploaded file, not yet attached to a message.
    #[schema(value_type = AttachmentSchema)]
    pub attachment: Attachment,
}
