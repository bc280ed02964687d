//! Attachments' metadata: recording an upload and looking one up for a download.
//!
//! The bytes are not here: the API streams them to the media store and only then
//! records the attachment, so a row always has its object. Attaching to a message
//! happens in [`Chat::send_message`], where storage checks that each attachment is the
//! sender's own and not yet attached.

use protocol::{Attachment, AttachmentId, UserId};
use storage::AttachmentRecord;

use crate::chat::{now_ms, Chat};
use crate::error::Result;

impl Chat {
    /// A fresh attachment id (the media store's key is derived from it).
    pub fn new_attachment_id(&self) -> AttachmentId {
        AttachmentId::new(self.next_id())
    }

    /// Records `attachment`, uploaded by `user` and not yet attached.
    pub async fn record_upload(&self, user: UserId, attachment: Attachment) -> Result<Attachment> {
        self.store()
            .create_attachment(AttachmentRecord {
                attachment: attachment.clone(),
                uploader_id: user,
                message_id: None,
                created_at: now_ms(),
            })
            .await?;
        Ok(attachment)
    }

    /// An attachment with its uploader and message, if it exists.
    pub async fn attachment(&self, id: AttachmentId) -> Result<Option<AttachmentRecord>> {
        Ok(self.store().attachment(id).await?)
    }
}
