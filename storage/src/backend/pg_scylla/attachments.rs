//! [`AttachmentStore`]: attachments' metadata lives in PostgreSQL (a message's row in
//! ScyllaDB keeps a copy of its attachments, written once when it is created).

use async_trait::async_trait;
use protocol::{AttachmentId, UserId};

use super::PgScyllaStore;
use crate::error::Result;
use crate::ops::attachments::{AttachmentRecord, AttachmentStore};

#[async_trait]
impl AttachmentStore for PgScyllaStore {
    async fn create_attachment(&self, record: AttachmentRecord) -> Result<()> {
        self.pg.create_attachment(record).await
    }
    async fn attachment(&self, id: AttachmentId) -> Result<Option<AttachmentRecord>> {
        self.pg.attachment(id).await
    }
    async fn uploaded_bytes(&self, user: UserId) -> Result<u64> {
        self.pg.uploaded_bytes(user).await
    }
}
