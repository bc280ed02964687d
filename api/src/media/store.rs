//! [`MediaStore`]: the bytes of uploads and thumbnails, in an `object_store` (a local
//! folder by default, an S3-compatible bucket when configured).
//!
//! Keys are derived from the attachment id only (`attachments/{id}`,
//! `thumbnails/{id}`), never from anything the client sent. Files are written as
//! multipart uploads from the spooled file, a few MiB at a time.

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use protocol::AttachmentId;
use tokio::io::AsyncReadExt;

use super::config::{MediaBackend, S3Config};

/// Bytes read from the spooled file per write (S3 parts are at least 5 MiB; the
/// multipart writer gathers them).
const READ_CHUNK: usize = 1024 * 1024;
/// Part uploads in flight at once, which bounds the memory of one upload.
const PARTS_IN_FLIGHT: usize = 2;

/// A failure of the object store.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    /// No such object.
    #[error("no such object")]
    NotFound,
    /// Anything else (unreachable bucket, disk full...).
    #[error("media store: {0}")]
    Other(String),
}

impl From<object_store::Error> for StoreFailure {
    fn from(err: object_store::Error) -> Self {
        match err {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Other(other.to_string()),
        }
    }
}

/// The media bytes.
#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.inner)
    }
}

/// A download: the object's length and its bytes as a stream.
pub struct Download {
    /// Bytes.
    pub size: u64,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, object_store::Error>>,
}

impl MediaStore {
    /// Opens the configured backend (creating a local folder if needed).
    pub fn open(backend: &MediaBackend) -> Result<Self, String> {
        let inner: Arc<dyn ObjectStore> = match backend {
            MediaBackend::Local { dir } => {
                std::fs::create_dir_all(dir)
                    .map_err(|err| format!("creating {}: {err}", dir.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(dir)
                        .map_err(|err| format!("media folder {}: {err}", dir.display()))?,
                )
            }
            MediaBackend::S3(s3) => Arc::new(s3_store(s3)?),
        };
        Ok(Self { inner })
    }

    /// A store over any `object_store` (tests).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// The key of an attachment's file.
    pub fn file_key(id: AttachmentId) -> Path {
        Path::from(format!("attachments/{id}"))
    }

    /// The key of an attachment's thumbnail.
    pub fn thumbnail_key(id: AttachmentId) -> Path {
        Path::from(format!("thumbnails/{id}"))
    }

    /// Streams the file at `source` into `key`.
    pub async fn put_file(&self, key: &Path, source: &FsPath) -> Result<(), StoreFailure> {
        let mut file = tokio::fs::File::open(source)
            .await
            .map_err(|err| StoreFailure::Other(format!("reading the upload: {err}")))?;
        let upload = self.inner.put_multipart(key).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let read = match file.read(&mut buf).await {
                Ok(read) => read,
                Err(err) => {
                    let _ = writer.abort().await;
                    return Err(StoreFailure::Other(format!("reading the upload: {err}")));
                }
            };
            if read == 0 {
                break;
            }
            if let Err(err) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(err.into());
            }
            writer.write(&buf[..read]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// Stores small `bytes` (a thumbnail) at `key`.
    pub async fn put_bytes(&self, key: &Path, bytes: Vec<u8>) -> Result<(), StoreFailure> {
        self.inner.put(key, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// The object at `key`, streamed.
    pub async fn get(&self, key: &Path) -> Result<Download, StoreFailure> {
        let found = self.inner.get(key).await?;
        let size = found.meta.size;
        Ok(Download {
            size,
            stream: found.into_stream().boxed(),
        })
    }

    /// Removes `key` (best effort: a missing object is fine).
    pub async fn delete(&self, key: &Path) {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => tracing::warn!(%key, error = %err, "could not delete a media object"),
        }
    }
}

fn s3_store(s3: &S3Config) -> Result<object_store::aws::AmazonS3, String> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(s3.region.as_deref().unwrap_or("us-east-1"))
        .with_allow_http(s3.allow_http);
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(key) = &s3.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &s3.secret_access_key {
        builder = builder.with_secret_access_key(secret);
    }
    builder
        .build()
        .map_err(|err| format!("S3 bucket {}: {err}", s3.bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_under_id_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::open(&MediaBackend::Local {
            dir: dir.path().join("media"),
        })
        .unwrap();
        let source = dir.path().join("upload");
        let data: Vec<u8> = (0..3 * READ_CHUNK + 7).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &data).unwrap();
        let id = AttachmentId::new(77);
        store
            .put_file(&MediaStore::file_key(id), &source)
            .await
            .unwrap();
        assert!(dir.path().join("media/attachments/77").is_file());
        let download = store.get(&MediaStore::file_key(id)).await.unwrap();
        assert_eq!(download.size, data.len() as u64);
        let chunks: Vec<Bytes> = download
            .stream
            .map(|c| c.unwrap())
            .collect::<Vec<_>>()
            .await;
        assert_eq!(chunks.concat(), data);
        assert!(matches!(
            store.get(&MediaStore::thumbnail_key(id)).await,
            Err(StoreFailure::NotFound)
        ));
        store.delete(&MediaStore::file_key(id)).await;
        store.delete(&MediaStore::file_key(id)).await;
    }

    #[test]
    fn s3_config_builds_without_network() {
        let backend = MediaBackend::S3(S3Config {
            bucket: "media".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: Some("k".into()),
            secret_access_key: Some("s".into()),
            allow_http: true,
            ..Default::default()
        });
        assert!(MediaStore::open(&backend).is_ok());
    }
}
