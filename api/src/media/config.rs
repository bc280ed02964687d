//! [`MediaConfig`]: where uploads go and how big they may be. Every default is here.

use std::fmt;
use std::path::PathBuf;

/// Largest upload, in bytes (API.md: 50 MiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
/// Largest image, in pixels (width x height), that is decoded for a thumbnail; larger
/// images are refused (`413`), so a small file that declares a huge canvas (a
/// decompression bomb) never allocates it.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// The longest side of a thumbnail, in pixels.
pub const DEFAULT_THUMBNAIL_SIZE: u32 = 256;
/// Images decoded at the same time (each may take `4 x max_image_pixels` bytes).
pub const DEFAULT_CONCURRENT_DECODES: usize = 2;

/// Settings of uploads and downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Where the bytes are stored. Default: the local folder `./data/media`
    /// (`layer4` passes `MEDIA_DIR`, default `DATA_DIR/media`).
    pub backend: MediaBackend,
    /// Largest upload in bytes; larger is `413`. Default 50 MiB.
    pub max_upload_bytes: u64,
    /// Largest image decoded, in pixels; larger is `413`. Default 40 000 000.
    pub max_image_pixels: u64,
    /// Longest thumbnail side in pixels. Default 256.
    pub thumbnail_size: u32,
    /// Images decoded at once. Default 2.
    pub concurrent_decodes: usize,
    /// Folder for uploads in progress. Default: the system's temporary folder.
    pub spool_dir: Option<PathBuf>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            backend: MediaBackend::Local {
                dir: PathBuf::from("data/media"),
            },
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_image_pixels: DEFAULT_MAX_IMAGE_PIXELS,
            thumbnail_size: DEFAULT_THUMBNAIL_SIZE,
            concurrent_decodes: DEFAULT_CONCURRENT_DECODES,
            spool_dir: None,
        }
    }
}

impl MediaConfig {
    /// The defaults, stored in the local folder `dir`.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        Self {
            backend: MediaBackend::Local { dir: dir.into() },
            ..Self::default()
        }
    }
}

/// The object store behind the media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaBackend {
    /// A local folder (created if missing).
    Local {
        /// The folder (`MEDIA_DIR`).
        dir: PathBuf,
    },
    /// An S3-compatible bucket (AWS S3, MinIO, Ceph, R2...).
    S3(S3Config),
}

/// An S3-compatible bucket. Credentials left out are taken from the usual places
/// (instance metadata, web identity) by `object_store`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct S3Config {
    /// The bucket (`MEDIA_S3_BUCKET`).
    pub bucket: String,
    /// The region (`MEDIA_S3_REGION`; default `us-east-1`).
    pub region: Option<String>,
    /// The endpoint of a non-AWS service, e.g. `http://minio:9000` (`MEDIA_S3_ENDPOINT`).
    pub endpoint: Option<String>,
    /// Access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// Secret access key (`AWS_SECRET_ACCESS_KEY`); never printed.
    pub secret_access_key: Option<String>,
    /// Allow plain `http://` endpoints (`MEDIA_S3_ALLOW_HTTP`). Default off.
    pub allow_http: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract_and_secrets_stay_hidden() {
        let c = MediaConfig::default();
        assert_eq!(c.max_upload_bytes, 50 << 20);
        let s3 = S3Config {
            bucket: "b".into(),
            secret_access_key: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{s3:?}").contains("hunter2"));
    }
}
