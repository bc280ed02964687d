//! Uploaded files' metadata (the bytes live in the media store).

use async_trait::async_trait;
use protocol::{Attachment, AttachmentId, MessageId, UserId};

use crate::error::Result;

/// An attachment with who uploaded it and where it is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// The public object.
    pub attachment: Attachment,
    /// The uploader.
    pub uploader_id: UserId,
    /// The message it is attached to, once attached.
    pub message_id: Option<MessageId>,
    /// ms since the epoch.
    pub created_at: u64,
}

/// Attachments, in CRUD order.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Records an uploaded file (not yet attached).
    async fn create_attachment(&self, record: AttachmentRecord) -> Result<()>;
    /// One attachment.
    async fn attachment(&self, id: AttachmentId) -> Result<Option<AttachmentRecord>>;
    /// Total bytes `user` uploaded (quota).
    async fn uploaded_bytes(&self, user: UserId) -> Result<u64>;
}
