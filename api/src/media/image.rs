//! Image size and thumbnail, decoded off the runtime with a pixel cap.
//!
//! The declared size is read from the header first; an image over the cap is refused
//! before any pixel is decoded, and the decoder itself is limited too (size and
//! allocation), so a file that lies in its header cannot allocate more either.

use std::io::{BufReader, Cursor};
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};

/// What an image upload gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A PNG thumbnail, its longest side at most the configured size.
    pub thumbnail: Vec<u8>,
}

/// Why an image was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// More pixels than the cap.
    #[error("image of {width}x{height} pixels is over the limit of {max} pixels")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The cap.
        max: u64,
    },
    /// The bytes have the format's magic number but do not decode.
    #[error("not a valid image: {0}")]
    Invalid(String),
    /// The spooled file could not be read (our fault).
    #[error("reading the upload: {0}")]
    Io(String),
}

/// Reads the size of the image at `path` and makes its thumbnail. Blocking: call it
/// from `spawn_blocking`.
pub fn probe(
    path: &Path,
    format: ImageFormat,
    max_pixels: u64,
    thumbnail_size: u32,
) -> Result<Probe, ProbeError> {
    let open = || {
        std::fs::File::open(path)
            .map(|file| ImageReader::with_format(BufReader::new(file), format))
            .map_err(|err| ProbeError::Io(err.to_string()))
    };
    let (width, height) = open()?
        .into_dimensions()
        .map_err(|err| ProbeError::Invalid(err.to_string()))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ProbeError::TooManyPixels {
            width,
            height,
            max: max_pixels,
        });
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // RGBA at 16 bits per channel, plus room for the decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|err| ProbeError::Invalid(err.to_string()))?;
    let small = decoded.thumbnail(thumbnail_size, thumbnail_size);
    let mut thumbnail = Cursor::new(Vec::new());
    small
        .write_to(&mut thumbnail, ImageFormat::Png)
        .map_err(|err| ProbeError::Invalid(err.to_string()))?;
    Ok(Probe {
        width,
        height,
        thumbnail: thumbnail.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 10, 10]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn sizes_thumbnails_and_the_pixel_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        std::fs::write(&path, png(640, 320)).unwrap();
        let probe = probe(&path, ImageFormat::Png, 1_000_000, 256).unwrap();
        assert_eq!((probe.width, probe.height), (640, 320));
        let thumb = image::load_from_memory(&probe.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (256, 128));

        let err = super::probe(&path, ImageFormat::Png, 100_000, 256).unwrap_err();
        assert!(matches!(err, ProbeError::TooManyPixels { .. }), "{err}");

        std::fs::write(&path, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let err = super::probe(&path, ImageFormat::Png, 1_000_000, 256).unwrap_err();
        assert!(matches!(err, ProbeError::Invalid(_)), "{err}");
    }
}
