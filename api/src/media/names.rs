//! File names: what a client sent, made safe to show, to put in a url path and in a
//! `Content-Disposition` header.
//!
//! Only the last path component is kept (`../../etc/passwd` is `passwd`), and every
//! character outside `[A-Za-z0-9._-]` becomes `_`, so the name needs no escaping
//! anywhere. The name is never a storage path: objects are keyed by id.

use protocol::AttachmentId;

/// Longest stored file name, in bytes.
pub const MAX_FILENAME_BYTES: usize = 128;

/// The name used when nothing of the client's is left.
const FALLBACK: &str = "file";

/// A display- and url-safe version of the client's file name.
pub fn sanitize(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut out: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files, no `.` or `..`.
    let trimmed = out.trim_start_matches('.').len();
    out.drain(..out.len() - trimmed);
    out.truncate(MAX_FILENAME_BYTES);
    if out.is_empty() || out.chars().all(|c| c == '_') {
        return FALLBACK.to_owned();
    }
    // `/media/{id}/thumbnail` is the thumbnail's url.
    if out == "thumbnail" {
        out.push('_');
    }
    out
}

/// The attachment's `url`: `/media/{id}/{filename}`, `filename` as [`sanitize`] made
/// it (so it needs no escaping). Public by design: see API.md and docs/security.md.
pub fn file_url(id: AttachmentId, filename: &str) -> String {
    format!("/media/{id}/{filename}")
}

/// An image attachment's `thumbnail_url`: `/media/{id}/thumbnail` (no stored name is
/// `thumbnail`, see [`sanitize`]).
pub fn thumbnail_url(id: AttachmentId) -> String {
    format!("/media/{id}/thumbnail")
}

/// The `Content-Disposition` of a download.
pub fn disposition(inline: bool, filename: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{}\"", sanitize(filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_climb_or_inject() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitize(".."), "file");
        assert_eq!(sanitize(".bashrc"), "bashrc");
        assert_eq!(sanitize(""), "file");
        assert_eq!(sanitize("a\"b;c\r\nd.png"), "a_b_c__d.png");
        assert_eq!(sanitize("été 2024.jpg"), "_t__2024.jpg");
        assert_eq!(sanitize("thumbnail"), "thumbnail_");
        assert_eq!(sanitize(&"x".repeat(500)).len(), MAX_FILENAME_BYTES);
        assert_eq!(
            disposition(false, "../a\".pdf"),
            "attachment; filename=\"a_.pdf\""
        );
    }

    #[test]
    fn urls_are_the_contract_paths() {
        let id = AttachmentId::new(42);
        assert_eq!(file_url(id, &sanitize("../a b.png")), "/media/42/a_b.png");
        assert_eq!(thumbnail_url(id), "/media/42/thumbnail");
    }
}
