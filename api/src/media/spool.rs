//! Receiving an upload: the `file` part is written to a temporary file as it arrives,
//! counted against the cap, and its type decided from its first bytes (then, for
//! text, from all of them). Nothing is kept in memory beyond the head.

use std::path::{Path, PathBuf};

use axum::extract::multipart::{Field, MultipartError};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::sniff::{classify, Allowed, TextCheck, HEAD_BYTES, TEXT_PLAIN};

/// A received file, deleted when dropped.
#[derive(Debug)]
pub struct Spooled {
    /// Where it is.
    pub path: TempPath,
    /// Bytes.
    pub size: u64,
    /// The type decided from the bytes (from the allowlist).
    pub content_type: &'static str,
}

/// Why a file was not received.
#[derive(Debug)]
pub enum SpoolError {
    /// Over the size cap (`413`).
    TooLarge,
    /// Not on the allowlist (`415`); what it looks like.
    Unsupported(String),
    /// No bytes at all (`400`).
    Empty,
    /// The request body broke off or is not valid multipart.
    Body(MultipartError),
    /// The temporary file failed (our fault).
    Io(std::io::Error),
}

/// Writes `field` to a new temporary file in `dir` (default: the system's), refusing
/// it past `max` bytes or as soon as its head shows a type off the allowlist.
pub async fn spool(
    field: &mut Field<'_>,
    dir: Option<&Path>,
    max: u64,
) -> Result<Spooled, SpoolError> {
    let dir: Option<PathBuf> = dir.map(Path::to_path_buf);
    let named = tokio::task::spawn_blocking(move || match dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            tempfile::NamedTempFile::new_in(dir)
        }
        None => tempfile::NamedTempFile::new(),
    })
    .await
    .map_err(|err| SpoolError::Io(std::io::Error::other(err)))?
    .map_err(SpoolError::Io)?;
    let (file, path) = named.into_parts();
    let mut file = tokio::fs::File::from_std(file);

    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::new();
    let mut decided: Option<Allowed> = None;
    let mut text = TextCheck::default();
    while let Some(chunk) = field.chunk().await.map_err(SpoolError::Body)? {
        size += chunk.len() as u64;
        if size > max {
            return Err(SpoolError::TooLarge);
        }
        file.write_all(&chunk).await.map_err(SpoolError::Io)?;
        match decided {
            Some(Allowed::Text) => text.feed(&chunk),
            Some(Allowed::Binary(_)) => {}
            None => {
                head.extend_from_slice(&chunk);
                if head.len() >= HEAD_BYTES {
                    let kind = classify(&head[..HEAD_BYTES]).map_err(SpoolError::Unsupported)?;
                    if kind == Allowed::Text {
                        text.feed(&head);
                    }
                    decided = Some(kind);
                    head = Vec::new();
                }
            }
        }
    }
    if size == 0 {
        return Err(SpoolError::Empty);
    }
    let kind = match decided {
        Some(kind) => kind,
        None => {
            let kind = classify(&head).map_err(SpoolError::Unsupported)?;
            if kind == Allowed::Text {
                text.feed(&head);
            }
            kind
        }
    };
    let content_type = match kind {
        Allowed::Binary(content_type) => content_type,
        Allowed::Text if text.finish() => TEXT_PLAIN,
        Allowed::Text => {
            return Err(SpoolError::Unsupported(
                "binary data of no allowed type".into(),
            ))
        }
    };
    file.flush().await.map_err(SpoolError::Io)?;
    file.sync_all().await.map_err(SpoolError::Io)?;
    Ok(Spooled {
        path,
        size,
        content_type,
    })
}
