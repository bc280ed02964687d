//! What a file is, decided from its bytes alone (API.md "Uploads"), never from its
//! name or the part's `Content-Type`.
//!
//! Binary formats are recognised by their magic numbers (the `infer` crate) and must be
//! on the allowlist. A file `infer` does not recognise is plain text only if every byte
//! of it is UTF-8 without NUL or other control characters (tab, newline, carriage
//! return and form feed aside), and it does not start with `<`: markup (HTML, SVG, XML)
//! is refused, since a browser that ignored our headers could run it. Text is checked
//! as it streams ([`TextCheck`]), so a text head with a binary tail is refused too.

use image::ImageFormat;

/// Bytes of the head given to the magic-number matchers.
pub const HEAD_BYTES: usize = 8 * 1024;

/// An allowed type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// A binary format from the allowlist, with the content type we store.
    Binary(&'static str),
    /// Plain text so far (to be confirmed by [`TextCheck`] over the whole file).
    Text,
}

/// The content type stored and served for plain text.
pub const TEXT_PLAIN: &str = "text/plain";

/// The allowlist: what `infer` reports, and the type we store for it.
const ALLOWED: &[(&str, &str)] = &[
    ("image/png", "image/png"),
    ("image/jpeg", "image/jpeg"),
    ("image/gif", "image/gif"),
    ("image/webp", "image/webp"),
    ("video/mp4", "video/mp4"),
    ("video/webm", "video/webm"),
    ("audio/mpeg", "audio/mpeg"),
    ("audio/ogg", "audio/ogg"),
    // Opus is an Ogg stream; `infer` names the codec.
    ("audio/opus", "audio/ogg"),
    ("audio/x-wav", "audio/wav"),
    ("application/pdf", "application/pdf"),
    ("application/zip", "application/zip"),
];

/// The type of a file whose first bytes are `head` (all of it when shorter than
/// [`HEAD_BYTES`]); `Err` with what it looks like when it is not allowed.
pub fn classify(head: &[u8]) -> Result<Allowed, String> {
    if let Some(found) = infer::get(head) {
        let mime = found.mime_type();
        return ALLOWED
            .iter()
            .find(|(seen, _)| *seen == mime)
            .map(|(_, stored)| Allowed::Binary(stored))
            .ok_or_else(|| mime.to_owned());
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if text.trim_ascii_start().starts_with(b"<") {
        return Err("markup (HTML, SVG or XML)".into());
    }
    Ok(Allowed::Text)
}

/// The image format of a stored content type, for those we make thumbnails of.
pub fn image_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// Whether a file may be shown in the browser (`Content-Disposition: inline`).
pub fn is_inline(content_type: &str) -> bool {
    ["image/", "video/", "audio/"]
        .iter()
        .any(|prefix| content_type.starts_with(prefix))
}

/// Streaming check that a file is plain UTF-8 text.
#[derive(Debug, Default)]
pub struct TextCheck {
    /// The bytes of a character cut by the end of the previous chunk.
    carry: Vec<u8>,
    failed: bool,
}

impl TextCheck {
    /// Feeds the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let valid = match std::str::from_utf8(&bytes) {
            Ok(text) => text,
            // A character cut at the end of the chunk: keep its bytes for the next one.
            Err(err) if err.error_len().is_none() => {
                let (valid, rest) = bytes.split_at(err.valid_up_to());
                self.carry = rest.to_vec();
                // Cannot fail: `valid_up_to` is a char boundary of valid UTF-8.
                std::str::from_utf8(valid).unwrap_or_default()
            }
            Err(_) => {
                self.failed = true;
                return;
            }
        };
        if valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        {
            self.failed = true;
        }
    }

    /// Whether everything fed was text (and no character was left cut).
    pub fn finish(&self) -> bool {
        !self.failed && self.carry.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(chunks: &[&[u8]]) -> bool {
        let mut check = TextCheck::default();
        for chunk in chunks {
            check.feed(chunk);
        }
        check.finish()
    }

    #[test]
    fn magic_numbers_decide() {
        assert_eq!(
            classify(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(Allowed::Binary("image/png"))
        );
        assert_eq!(
            classify(b"%PDF-1.4\n"),
            Ok(Allowed::Binary("application/pdf"))
        );
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        assert!(classify(&elf).is_err());
        // Too short for the matcher, and so judged as text, which it is not.
        let mut check = TextCheck::default();
        check.feed(&elf[..16]);
        assert!(!check.finish());
        assert!(classify(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_err());
        assert!(classify(b"  \n<!doctype html><p>hi").is_err());
        assert!(classify(b"\xef\xbb\xbf<html>").is_err());
        assert_eq!(classify(b"hello, world\n"), Ok(Allowed::Text));
    }

    #[test]
    fn text_is_checked_across_chunks() {
        assert!(text(&[b"plain ", b"text\n"]));
        let e_acute = "é".as_bytes();
        assert!(text(&[b"caf", &e_acute[..1], &e_acute[1..]]));
        assert!(!text(&[b"caf", &e_acute[..1]]), "cut at the end");
        assert!(!text(&[b"text", b"\0binary"]));
        assert!(!text(&[b"\xff\xfe"]));
        assert!(!text(&[b"bell\x07"]));
        assert!(text(&[b"tab\tand\r\nform\x0cfeed"]));
    }

    #[test]
    fn inline_types() {
        assert!(is_inline("image/png") && is_inline("audio/wav") && is_inline("video/mp4"));
        assert!(!is_inline("application/pdf") && !is_inline(TEXT_PLAIN));
    }
}
