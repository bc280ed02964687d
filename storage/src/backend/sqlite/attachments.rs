//! [`AttachmentStore`] for SQLite: uploaded files' metadata. Attaching happens in
//! [`super::messages`], inside the message's transaction.

use async_trait::async_trait;
use protocol::{AttachmentId, UserId};
use rusqlite::{params, OptionalExtension};

use super::codec::{id, int, new_id, to_id, to_u64};
use super::error::SqlResultExt;
use super::rows::attachment_from;
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::ops::attachments::{AttachmentRecord, AttachmentStore};

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn create_attachment(&self, record: AttachmentRecord) -> Result<()> {
        let attachment_id = new_id(record.attachment.id, "id")?;
        self.write(move |conn| {
            let a = &record.attachment;
            conn.prepare_cached(
                "INSERT INTO attachments (id, uploader_id, message_id, filename, content_type, \
                 size, url, width, height, thumbnail_url, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    attachment_id,
                    id(record.uploader_id),
                    record.message_id.map(id),
                    a.filename,
                    a.content_type,
                    int(a.size),
                    a.url,
                    a.width,
                    a.height,
                    a.thumbnail_url,
                    int(record.created_at),
                ])
            })
            .map_err(|err| match super::error::map_err(err) {
                StoreError::Conflict(_) => StoreError::Conflict("id: attachment exists".into()),
                other => other,
            })?;
            Ok(())
        })
        .await
    }

    async fn attachment(&self, attachment: AttachmentId) -> Result<Option<AttachmentRecord>> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT id, filename, content_type, size, url, width, height, thumbnail_url, \
                 uploader_id, message_id, created_at FROM attachments WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id(attachment)], |row| {
                    Ok(AttachmentRecord {
                        attachment: attachment_from(row, 0)?,
                        uploader_id: to_id(row.get(8)?),
                        message_id: row.get::<_, Option<i64>>(9)?.map(to_id),
                        created_at: to_u64(row.get(10)?),
                    })
                })
                .optional()
            })
            .store()
        })
        .await
    }

    async fn uploaded_bytes(&self, user: UserId) -> Result<u64> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT COALESCE(SUM(size), 0) FROM attachments WHERE uploader_id = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([id(user)], |row| row.get::<_, i64>(0)))
            .map(to_u64)
            .store()
        })
        .await
    }
}
