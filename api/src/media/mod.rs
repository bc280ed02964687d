//! Uploaded files: what an upload may be, where its bytes go, and what its urls are.
//! The HTTP handlers are in [`crate::routes::media`].
//!
//! ```text
//! multipart `file` ──► spool (temp file, counted, sniffed) ──► sniff: allowlist or 415
//!                                  │                              │ image?
//!                                  │                              ▼
//!                                  │                probe (spawn_blocking, pixel cap):
//!                                  │                width, height, PNG thumbnail
//!                                  ▼                              │
//!                       object store `attachments/{id}` ◄─────────┘ `thumbnails/{id}`
//!                                  │
//!                                  ▼
//!                       attachment row (storage), urls `/media/{id}/{filename}`
//!                       and `/media/{id}/thumbnail`
//! ```
//!
//! The object key is derived from the attachment id alone; the client's filename is
//! sanitized for display and compared on download, never used as a path. A file is
//! never held whole in memory: it is spooled to a temporary file and streamed from it
//! (only an image's decoded pixels, bounded by the pixel cap, are). It is not the
//! attachment's metadata: storage keeps that ([`storage::AttachmentStore`]).

pub mod config;
pub mod image;
pub mod names;
pub mod sniff;
pub mod spool;
pub mod store;

pub use config::{MediaBackend, MediaConfig, S3Config};
pub use store::MediaStore;
