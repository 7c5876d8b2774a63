//! The decode budget's estimates hold: for each kind of image the server decodes, the heap the
//! decode really uses at its peak (counted by this test binary's allocator) stays within what
//! `images::Header::cost` reserves for it, and header reads within `images::header_cost`.
//! One test in its own binary, so no other test's allocations are counted.

use image::ImageEncoder;
use justus_core::avatar::Crop;
use justus_core::media::{MediaLimits, Rejection};
use justus_server::media::images;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting bytes in use and their peak.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is to the system allocator.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grown = new_size - layout.size();
                let now = CURRENT.fetch_add(grown, Ordering::SeqCst) + grown;
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f`; returns its result and the most heap it had in use beyond what was in use before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, (PEAK.load(Ordering::SeqCst) - base) as u64)
}

const MIB: u64 = 1 << 20;
const BUDGET: u64 = 256 * MIB;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn noise(x: u32, y: u32) -> u8 {
    (x.wrapping_mul(31) ^ y.wrapping_mul(17)).wrapping_add(x * y) as u8
}

fn encoded(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format)
        .expect("encode fixture");
    out
}

/// A JPEG whose EXIF says "rotate 90°" (orientation 6), so decoding makes a rotated copy.
fn rotated_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([noise(x, y), 90, noise(y, x)]));
    let plain = encoded(img.into(), image::ImageFormat::Jpeg);
    // APP1 "Exif\0\0", little-endian TIFF, IFD0 with one entry: Orientation (0x0112) = 6.
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00".to_vec();
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// The zlib stream of a PNG of zeros: it inflates to about `side`² × 4 bytes.
fn zlib_bomb(side: u32) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let pixels = vec![0u8; (side * side * 4) as usize];
    let mut png = Vec::new();
    PngEncoder::new_with_quality(
        Cursor::new(&mut png),
        CompressionType::Best,
        FilterType::NoFilter,
    )
    .write_image(&pixels, side, side, image::ExtendedColorType::Rgba8)
    .expect("encode");
    let mut zlib = Vec::new();
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        if &png[at + 4..at + 8] == b"IDAT" {
            zlib.extend_from_slice(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    zlib
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A 1×1 PNG with an ICC profile chunk that inflates to 64 MiB.
fn iccp_bomb() -> Vec<u8> {
    let small = encoded(
        image::RgbImage::from_pixel(1, 1, image::Rgb([1, 2, 3])).into(),
        image::ImageFormat::Png,
    );
    let mut data = b"icc\0\0".to_vec();
    data.extend(zlib_bomb(4096));
    let mut chunk = b"iCCP".to_vec();
    chunk.extend_from_slice(&data);
    let ihdr_end = 8 + 12 + 13; // signature, then IHDR (13 bytes of data)
    let mut out = small[..ihdr_end].to_vec();
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&small[ihdr_end..]);
    out
}

/// Reads the header and decodes as the server does, checking both phases' peaks.
fn check(path: &Path, mime: &str, job: &str, crop: Option<Crop>, tmp: &Path) -> (u64, u64) {
    let limits = MediaLimits::default();
    let file_bytes = std::fs::metadata(path).unwrap().len();
    let (header, header_peak) = peak_of(|| images::inspect(path, mime, &limits, BUDGET));
    let header = header.unwrap_or_else(|e| panic!("{job}: header refused: {e:?}"));
    assert!(
        header_peak <= images::header_cost(file_bytes),
        "{job}: the header read used {header_peak} bytes, more than its share {}",
        images::header_cost(file_bytes)
    );
    let cost = match crop {
        None => header.cost(),
        Some(_) => header.avatar_cost(),
    };
    let granted = cost.min(BUDGET);
    let (out, peak) = peak_of(|| match crop {
        None => images::process(path, &header, granted, tmp).map(drop),
        Some(c) => images::avatar(path, &header, granted, c, tmp).map(drop),
    });
    out.unwrap_or_else(|e| panic!("{job}: decode refused: {e:?}"));
    eprintln!(
        "{job}: pixels {} MiB, peak {} MiB, reserved {} MiB",
        header.pixel_bytes / MIB,
        peak / MIB,
        cost / MIB
    );
    assert!(
        peak <= cost,
        "{job}: the decode used {peak} bytes at its peak, more than the {cost} it reserves"
    );
    (peak, cost)
}

#[test]
fn decode_costs_cover_the_measured_peak() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path();

    let rgba8 = image::RgbaImage::from_fn(2000, 1400, |x, y| {
        image::Rgba([noise(x, y), (x / 10) as u8, (y / 7) as u8, 200])
    });
    let png8 = write(
        tmp,
        "rgba8.png",
        &encoded(rgba8.clone().into(), image::ImageFormat::Png),
    );
    check(&png8, "image/png", "PNG RGBA8", None, tmp);

    let rgba16: image::ImageBuffer<image::Rgba<u16>, Vec<u16>> =
        image::ImageBuffer::from_fn(1200, 900, |x, y| {
            image::Rgba([
                (x * 50) as u16,
                (y * 70) as u16,
                u16::from(noise(x, y)) << 8,
                60000,
            ])
        });
    let png16 = write(
        tmp,
        "rgba16.png",
        &encoded(rgba16.into(), image::ImageFormat::Png),
    );
    check(&png16, "image/png", "PNG RGBA16", None, tmp);

    let jpeg = write(tmp, "rotated.jpg", &rotated_jpeg(2400, 1600));
    check(&jpeg, "image/jpeg", "JPEG rotated", None, tmp);

    let gif = write(
        tmp,
        "still.gif",
        &encoded(
            image::RgbaImage::from_fn(1000, 700, |x, y| image::Rgba([noise(x, y), 0, 0, 255]))
                .into(),
            image::ImageFormat::Gif,
        ),
    );
    check(&gif, "image/gif", "GIF", None, tmp);

    let webp = write(
        tmp,
        "lossless.webp",
        &encoded(rgba8.into(), image::ImageFormat::WebP),
    );
    check(&webp, "image/webp", "WebP lossless", None, tmp);

    // Avatars: the default crop (a 1400² square), and a thin strip (2000×1).
    check(
        &png8,
        "image/png",
        "avatar, square",
        Some(Crop::resolve(None, 2000, 1400).unwrap()),
        tmp,
    );
    let strip = Crop {
        x: 0,
        y: 0,
        width: 2000,
        height: 1,
    };
    check(&png8, "image/png", "avatar, strip", Some(strip), tmp);

    // Small images: the fixed shares alone.
    let small = write(
        tmp,
        "small.png",
        &encoded(
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([noise(x, y), 1, 2])).into(),
            image::ImageFormat::Png,
        ),
    );
    check(&small, "image/png", "small PNG", None, tmp);
    check(
        &small,
        "image/png",
        "avatar, small",
        Some(Crop::resolve(None, 64, 48).unwrap()),
        tmp,
    );

    // 16 bits a channel and large enough for full-size thumbnails.
    let big16: image::ImageBuffer<image::Rgba<u16>, Vec<u16>> =
        image::ImageBuffer::from_fn(1600, 1300, |x, y| {
            image::Rgba([
                (x * 30) as u16,
                (y * 40) as u16,
                u16::from(noise(x, y)) << 8,
                65535,
            ])
        });
    let big16 = write(
        tmp,
        "big16.png",
        &encoded(big16.into(), image::ImageFormat::Png),
    );
    check(&big16, "image/png", "PNG RGBA16, large", None, tmp);
    check(
        &big16,
        "image/png",
        "avatar, RGBA16",
        Some(Crop::resolve(None, 1600, 1300).unwrap()),
        tmp,
    );

    // An ICC-profile bomb: neither phase inflates more than it reserved.
    let bomb = write(tmp, "iccp.png", &iccp_bomb());
    check(&bomb, "image/png", "PNG iCCP bomb", None, tmp);

    // Pixels beyond the budget are refused from the header, before any decode.
    let limits = MediaLimits::default();
    let (refused, peak) = peak_of(|| images::inspect(&png8, "image/png", &limits, 10 * MIB));
    assert_eq!(
        refused.unwrap_err(),
        Rejection::ImageTooLarge {
            width: 2000,
            height: 1400
        }
    );
    assert!(peak < 2 * MIB, "refused from the header: {peak} bytes");
}
