//! Image uploads: dimensions from the header first (pixel floods never reach the decoder),
//! a decode under `image::Limits`, EXIF orientation applied, and a re-encode that writes pixels
//! only, so no metadata (EXIF, GPS, XMP, comments, trailing polyglot payloads) survives.
//! Also the WebP thumbnails and the blurhash placeholder.
//!
//! Blocking (CPU-bound): call from `spawn_blocking`.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use justus_core::avatar::{AVATAR_SIDE, Crop};
use justus_core::media::{MediaLimits, Rejection, THUMB_SIZES};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use tempfile::NamedTempFile;

/// JPEG quality of re-encoded photos.
const JPEG_QUALITY: u8 = 88;
/// The blurhash is computed from a copy at most this large.
const BLURHASH_SIDE: u32 = 32;

pub struct ProcessedImage {
    /// The re-encoded image (metadata-free) that replaces the upload.
    pub file: NamedTempFile,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub blurhash: Option<String>,
    /// `(longest side, WebP file)` per [`THUMB_SIZES`].
    pub thumbs: Vec<(u32, NamedTempFile)>,
}

fn format_of(mime: &str) -> Option<ImageFormat> {
    match mime {
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/png" => Some(ImageFormat::Png),
        "image/webp" => Some(ImageFormat::WebP),
        "image/gif" => Some(ImageFormat::Gif),
        _ => None,
    }
}

fn reader(
    path: &Path,
    format: ImageFormat,
) -> Result<ImageReader<BufReader<std::fs::File>>, Rejection> {
    let f = std::fs::File::open(path).map_err(|_| Rejection::InvalidImage)?;
    let mut r = ImageReader::new(BufReader::new(f));
    r.set_format(format);
    Ok(r)
}

/// Decodes `path` (of sniffed type `mime`) within `limits` and writes the clean copies into
/// `tmp_dir`.
pub fn process(
    path: &Path,
    mime: &str,
    limits: &MediaLimits,
    tmp_dir: &Path,
) -> Result<ProcessedImage, Rejection> {
    let format = format_of(mime).ok_or(Rejection::UnsupportedType {
        detected: Some(mime.to_owned()),
    })?;
    let img = decode(path, format, limits)?;

    // 3. Re-encode: pixels only. JPEG stays JPEG; everything else becomes PNG (lossless).
    let (out_mime, file) = match format {
        ImageFormat::Jpeg => (
            "image/jpeg",
            encode(tmp_dir, |w| {
                DynamicImage::ImageRgb8(img.to_rgb8())
                    .write_with_encoder(JpegEncoder::new_with_quality(w, JPEG_QUALITY))
            })?,
        ),
        _ => (
            "image/png",
            encode(tmp_dir, |w| img.write_with_encoder(PngEncoder::new(w)))?,
        ),
    };

    // 4. Thumbnails (never upscaled) and the placeholder.
    let mut thumbs = Vec::new();
    for size in THUMB_SIZES {
        let t = if img.width() > size || img.height() > size {
            img.thumbnail(size, size)
        } else {
            img.clone()
        };
        let rgba = DynamicImage::ImageRgba8(t.to_rgba8());
        let f = encode(tmp_dir, |w| {
            rgba.write_with_encoder(WebPEncoder::new_lossless(w))
        })?;
        thumbs.push((size, f));
    }
    let small = img.thumbnail(BLURHASH_SIDE, BLURHASH_SIDE).to_rgba8();
    let blurhash = blurhash::encode(4, 3, small.width(), small.height(), small.as_raw()).ok();

    Ok(ProcessedImage {
        file,
        mime: out_mime,
        width: img.width(),
        height: img.height(),
        blurhash,
        thumbs,
    })
}

/// An avatar: `crop` (pixels of the stored image, already checked to lie inside it) cut from
/// the image at `path`, filled (centre-cropped, never stretched) to [`AVATAR_SIDE`]² and
/// written as a lossless WebP of pixels only.
pub fn avatar(
    path: &Path,
    mime: &str,
    limits: &MediaLimits,
    crop: Crop,
    tmp_dir: &Path,
) -> Result<NamedTempFile, Rejection> {
    let format = format_of(mime).ok_or(Rejection::UnsupportedType {
        detected: Some(mime.to_owned()),
    })?;
    let img = decode(path, format, limits)?;
    let square = img
        .crop_imm(crop.x, crop.y, crop.width, crop.height)
        .resize_to_fill(AVATAR_SIDE, AVATAR_SIDE, FilterType::Lanczos3);
    let rgba = DynamicImage::ImageRgba8(square.to_rgba8());
    encode(tmp_dir, |w| {
        rgba.write_with_encoder(WebPEncoder::new_lossless(w))
    })
}

/// Header check, then a decode under limits, with the EXIF orientation applied.
fn decode(
    path: &Path,
    format: ImageFormat,
    limits: &MediaLimits,
) -> Result<DynamicImage, Rejection> {
    // 1. Header only: refuse floods before a single pixel buffer is allocated.
    let (w, h) = reader(path, format)?
        .into_dimensions()
        .map_err(|_| Rejection::InvalidImage)?;
    limits.check_dimensions(w, h)?;

    // 2. Decode under limits (a lying header cannot make the decoder allocate more).
    let mut lim = Limits::default();
    lim.max_image_width = Some(limits.max_side);
    lim.max_image_height = Some(limits.max_side);
    // RGBA16 of the largest allowed image, plus slack for the decoder's own buffers.
    lim.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    let mut r = reader(path, format)?;
    r.limits(lim);
    let mut decoder = r.into_decoder().map_err(|_| Rejection::InvalidImage)?;
    let orientation = decoder.orientation().ok();
    // GIFs: the first frame, as a still (animations are not re-encoded yet).
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| Rejection::InvalidImage)?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }

    Ok(img)
}

fn encode(
    tmp_dir: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> image::ImageResult<()>,
) -> Result<NamedTempFile, Rejection> {
    let file = NamedTempFile::new_in(tmp_dir).map_err(|e| {
        tracing::error!(error = %e, "cannot create a temp file for an image");
        Rejection::InvalidImage
    })?;
    {
        let mut w = BufWriter::new(file.as_file());
        write(&mut w).map_err(|e| {
            tracing::debug!(error = %e, "image re-encode failed");
            Rejection::InvalidImage
        })?;
        w.flush().map_err(|_| Rejection::InvalidImage)?;
    }
    Ok(file)
}
