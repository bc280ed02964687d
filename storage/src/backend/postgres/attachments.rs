//! [`AttachmentStore`] for PostgreSQL: uploaded files' metadata. Attaching happens in
//! [`super::messages`], inside the message's transaction.

use async_trait::async_trait;
use protocol::{AttachmentId, UserId};

use super::codec::{get, id, int, new_id, to_id, to_u64};
use super::rows::{attachment_from, execute, query_one, query_opt};
use super::PostgresStore;
use crate::error::{Result, StoreError};
use crate::ops::attachments::{AttachmentRecord, AttachmentStore};

#[async_trait]
impl AttachmentStore for PostgresStore {
    async fn create_attachment(&self, record: AttachmentRecord) -> Result<()> {
        let attachment_id = new_id(record.attachment.id, "id")?;
        let a = &record.attachment;
        let client = self.client().await?;
        execute(
            &client,
            "INSERT INTO attachments (id, uploader_id, message_id, filename, content_type, \
             size, url, width, height, thumbnail_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &attachment_id,
                &id(record.uploader_id),
                &record.message_id.map(id),
                &a.filename,
                &a.content_type,
                &int(a.size),
                &a.url,
                &a.width.map(i64::from),
                &a.height.map(i64::from),
                &a.thumbnail_url,
                &int(record.created_at),
            ],
        )
        .await
        .map_err(|err| match err {
            StoreError::Conflict(_) => StoreError::Conflict("id: attachment exists".into()),
            other => other,
        })?;
        Ok(())
    }

    async fn attachment(&self, attachment: AttachmentId) -> Result<Option<AttachmentRecord>> {
        let client = self.client().await?;
        query_opt(
            &client,
            "SELECT id, filename, content_type, size, url, width, height, thumbnail_url, \
             uploader_id, message_id, created_at FROM attachments WHERE id = $1",
            &[&id(attachment)],
        )
        .await?
        .map(|row| {
            Ok(AttachmentRecord {
                attachment: attachment_from(&row, 0)?,
                uploader_id: to_id(get(&row, 8)?),
                message_id: get::<Option<i64>>(&row, 9)?.map(to_id),
                created_at: to_u64(get(&row, 10)?),
            })
        })
        .transpose()
    }

    async fn uploaded_bytes(&self, user: UserId) -> Result<u64> {
        let client = self.client().await?;
        let row = query_one(
            &client,
            "SELECT COALESCE(SUM(size), 0)::bigint FROM attachments WHERE uploader_id = $1",
            &[&id(user)],
        )
        .await?;
        Ok(to_u64(get(&row, 0)?))
    }
}
