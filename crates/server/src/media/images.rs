//! Image uploads: dimensions from the header first (pixel floods never reach the decoder),
//! a decode under `image::Limits`, EXIF orientation applied, and a re-encode that writes pixels
//! only, so no metadata (EXIF, GPS, XMP, comments, trailing polyglot payloads) survives.
//! Also the WebP thumbnails and the blurhash placeholder.
//!
//! Memory: [`inspect`] reads the header only (its parsers may allocate [`HEADER_ALLOC`]);
//! [`Header::cost`] and [`Header::avatar_cost`] estimate the peak of [`process`] and [`avatar`]
//! from it, which the caller takes from the decode budget first (`MediaService::decode`); the
//! decoder itself may then allocate no more than it was granted.
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
/// What header parsers may allocate: metadata they buffer or inflate (PNG text chunks, ICC
/// profiles, EXIF). More is refused, so a tiny file cannot make the header read, which runs
/// before the image's cost is known, inflate a bomb (a PNG `iCCP` chunk would otherwise be
/// inflated up to the decoder's allocation limit).
pub const HEADER_ALLOC: u64 = 16 << 20;
/// The share of a decode's peak that does not grow with the image: decoder and encoder state,
/// the blurhash copy. `decode_costs_cover_the_measured_peak` (tests/decode_memory.rs) checks
/// these figures against the heap really used.
const FIXED_COST: u64 = 4 << 20;
/// Per thumbnail pixel (at most 1280² of them, fewer for smaller images): its copy at the
/// decoded depth (added), its RGBA copy (4) and the lossless WebP encoder's working set
/// (measured under 4; 12 reserved).
const THUMB_COST_PER_PIXEL: u64 = 4 + 12;
/// What making an avatar adds: the square shrunk to at most 1024² (at up to 8 bytes a pixel),
/// Lanczos' 1024 × 512 intermediate in 32-bit float RGBA, and the 512² result, its RGBA copy
/// and its encoder.
const AVATAR_COST: u64 = (1024 * 1024 * 8) + (1024 * 512 * 16) + (512 * 512 * 16);

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

/// What an image's header says, read before any pixel is decoded.
#[derive(Clone, Debug)]
pub struct Header {
    format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes of the decoded pixels (width × height × the decoder's bytes per pixel).
    pub pixel_bytes: u64,
    /// Size of the file (the JPEG decoder holds it in memory whole).
    pub file_bytes: u64,
}

impl Header {
    /// What decoding takes: the pixels twice (the decoded image and one working copy: an
    /// orientation's rotation, a colour conversion, the crop, the PNG encoder's output, or a
    /// GIF/WebP decoder's frame buffer), three times for JPEG (a progressive JPEG keeps 2-byte
    /// coefficients per sample beside its output while decoding), the file (JPEG's decoder
    /// reads it whole; other formats' metadata is at most that), and for PNG the metadata it
    /// inflates (deflate expands at most 1032:1, and the decoder stops at [`HEADER_ALLOC`]).
    fn decode_cost(&self) -> u64 {
        let copies = if self.format == ImageFormat::Jpeg {
            3
        } else {
            2
        };
        let inflated = match self.format {
            ImageFormat::Png => self.file_bytes.saturating_mul(1032).min(HEADER_ALLOC),
            _ => 0,
        };
        self.pixel_bytes
            .saturating_mul(copies)
            .saturating_add(self.file_bytes)
            .saturating_add(inflated)
            .saturating_add(FIXED_COST)
    }

    /// Estimated peak memory of [`process`] on this image: the decode, and the thumbnails.
    pub fn cost(&self) -> u64 {
        let pixels = u64::from(self.width) * u64::from(self.height);
        let depth = self.pixel_bytes / pixels.max(1);
        let largest = THUMB_SIZES.iter().max().copied().unwrap_or(0);
        let thumb_pixels = pixels.min(u64::from(largest) * u64::from(largest));
        self.decode_cost()
            .saturating_add(thumb_pixels.saturating_mul(depth + THUMB_COST_PER_PIXEL))
    }

    /// Estimated peak memory of [`avatar`] on this image: the decode (its crop copy is the
    /// working copy) and the avatar's own buffers, which do not grow with the image.
    pub fn avatar_cost(&self) -> u64 {
        self.decode_cost().saturating_add(AVATAR_COST)
    }

    /// A refusal for a decoder error: limits (the grant, the header's size) → too large.
    fn refusal(&self, e: image::ImageError) -> Rejection {
        match e {
            image::ImageError::Limits(_) => Rejection::ImageTooLarge {
                width: self.width,
                height: self.height,
            },
            _ => Rejection::InvalidImage,
        }
    }
}

/// Estimated peak memory of [`inspect`] on a file of `file_bytes`: the file (JPEG's header
/// reader takes it whole), what the parsers may allocate, and their own state.
pub fn header_cost(file_bytes: u64) -> u64 {
    file_bytes
        .saturating_add(HEADER_ALLOC)
        .saturating_add(FIXED_COST)
}

/// Reads the header of `path` (of sniffed type `mime`): the pixel-flood limits are checked,
/// and images whose decoded pixels alone exceed `max_pixel_bytes` (the decode budget) are
/// refused, since no grant could hold them.
pub fn inspect(
    path: &Path,
    mime: &str,
    limits: &MediaLimits,
    max_pixel_bytes: u64,
) -> Result<Header, Rejection> {
    let format = format_of(mime).ok_or(Rejection::UnsupportedType {
        detected: Some(mime.to_owned()),
    })?;
    let file_bytes = std::fs::metadata(path)
        .map_err(|_| Rejection::InvalidImage)?
        .len();
    let mut lim = Limits::default();
    lim.max_alloc = Some(HEADER_ALLOC);
    let mut r = reader(path, format)?;
    r.limits(lim);
    let decoder = r.into_decoder().map_err(|_| Rejection::InvalidImage)?;
    let (width, height) = decoder.dimensions();
    limits.check_dimensions(width, height)?;
    let pixel_bytes = decoder.total_bytes();
    if pixel_bytes > max_pixel_bytes {
        return Err(Rejection::ImageTooLarge { width, height });
    }
    Ok(Header {
        format,
        width,
        height,
        pixel_bytes,
        file_bytes,
    })
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

/// Decodes `path` (its [`inspect`]ed `header`), allocating at most `granted` bytes in the
/// decoder, and writes the clean copies into `tmp_dir`.
pub fn process(
    path: &Path,
    header: &Header,
    granted: u64,
    tmp_dir: &Path,
) -> Result<ProcessedImage, Rejection> {
    let img = decode(path, header, granted)?;

    // 3. Re-encode: pixels only. JPEG stays JPEG; everything else becomes PNG (lossless).
    let (out_mime, file) = match header.format {
        // Already RGB: encoded as it is, without a copy of the pixels.
        ImageFormat::Jpeg if matches!(img, DynamicImage::ImageRgb8(_)) => (
            "image/jpeg",
            encode(tmp_dir, |w| {
                img.write_with_encoder(JpegEncoder::new_with_quality(w, JPEG_QUALITY))
            })?,
        ),
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
/// the image at `path` (its [`inspect`]ed `header`; the decoder allocates at most `granted`),
/// filled (centre-cropped, never stretched) to [`AVATAR_SIDE`]² and written as a lossless WebP
/// of pixels only.
pub fn avatar(
    path: &Path,
    header: &Header,
    granted: u64,
    crop: Crop,
    tmp_dir: &Path,
) -> Result<NamedTempFile, Rejection> {
    let img = decode(path, header, granted)?;
    // Filling = the crop's centred square, scaled. The square is cut first: scaling a thin
    // strip up to cover 512² first (`resize_to_fill`) would build an image of its length
    // × 512 (a 16384×1 crop: 8388608 × 512 = 4.3 G pixels).
    let (x, y, side) = centred_square(crop);
    let mut square = img.crop_imm(x, y, side, side);
    drop(img);
    // A large square is shrunk by area averaging first: Lanczos over all of it would keep a
    // side × 512 copy in 32-bit floats.
    if side > 2 * AVATAR_SIDE {
        square = square.thumbnail_exact(2 * AVATAR_SIDE, 2 * AVATAR_SIDE);
    }
    let square = square.resize_exact(AVATAR_SIDE, AVATAR_SIDE, FilterType::Lanczos3);
    let rgba = DynamicImage::ImageRgba8(square.to_rgba8());
    encode(tmp_dir, |w| {
        rgba.write_with_encoder(WebPEncoder::new_lossless(w))
    })
}

/// The centred square of `crop` (x, y, side).
fn centred_square(crop: Crop) -> (u32, u32, u32) {
    let side = crop.width.min(crop.height);
    (
        crop.x + (crop.width - side) / 2,
        crop.y + (crop.height - side) / 2,
        side,
    )
}

/// A decode under limits (1., the header, was [`inspect`]), with the EXIF orientation applied.
fn decode(path: &Path, header: &Header, granted: u64) -> Result<DynamicImage, Rejection> {
    // 2. Decode under limits: the file must still say what its header said, and the decoder
    // may allocate no more than the grant (a lying header cannot make it allocate more).
    let mut lim = Limits::default();
    lim.max_image_width = Some(header.width);
    lim.max_image_height = Some(header.height);
    // While the header is parsed (again), metadata gets what it got the first time: a PNG's
    // own allocation limit is set here, once, so it must not be the whole grant.
    lim.max_alloc = Some(HEADER_ALLOC);
    let mut r = reader(path, header.format)?;
    r.limits(lim.clone());
    let mut decoder = r.into_decoder().map_err(|e| header.refusal(e))?;
    // The pixels: `into_decoder` leaves the output buffer out of `max_alloc` (only
    // `ImageReader::decode` counts it), so it is reserved here, and the decoder's own buffers
    // (a GIF frame, …) get what is left of the grant.
    lim.max_alloc = Some(granted);
    lim.reserve(decoder.total_bytes())
        .map_err(|e| header.refusal(e))?;
    decoder.set_limits(lim).map_err(|e| header.refusal(e))?;
    let orientation = decoder.orientation().ok();
    // GIFs: the first frame, as a still (animations are not re-encoded yet).
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| header.refusal(e))?;
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
