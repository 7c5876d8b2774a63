//! Media: uploads (happy and hostile), metadata stripping, signed URLs, authorization,
//! attachments on messages, the sweeper and metrics. Fixtures are generated here.
//!
//! (Over 600 lines: the upload pipeline end to end, sharing one set of fixture files.)

use crate::helpers::*;
use image::{ImageDecoder, ImageReader};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

crate::both_backends!(
    image_upload_strips_metadata,
    hostile_files_rejected,
    cut_and_malformed_uploads_store_nothing,
    access_control_and_signed_urls,
    attachments_on_messages,
    files_archives_and_limits,
);

// --- fixtures ------------------------------------------------------------------------------------

/// A GPS latitude of 48°51'29.99" as three TIFF RATIONALs: the bytes a leak would show.
const GPS_RATIONALS: [u8; 24] = [
    48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0, 0xB7, 0x0B, 0, 0, 100, 0, 0, 0,
];

/// EXIF (little-endian TIFF) with Orientation = `orientation` and a GPS IFD holding
/// GPSLatitudeRef "N" and GPSLatitude [`GPS_RATIONALS`].
fn exif_payload(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II\x2a\x00");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    // Orientation (0x0112), SHORT, 1.
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&orientation.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    // GPSInfo IFD pointer (0x8825), LONG, 1 → 38.
    t.extend_from_slice(&0x8825u16.to_le_bytes());
    t.extend_from_slice(&4u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 38);
    // GPS IFD at 38: two entries; its data (the rationals) at 38 + 2 + 24 + 4 = 68.
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&0x0001u16.to_le_bytes());
    t.extend_from_slice(&2u16.to_le_bytes());
    t.extend_from_slice(&2u32.to_le_bytes());
    t.extend_from_slice(b"N\0\0\0");
    t.extend_from_slice(&0x0002u16.to_le_bytes());
    t.extend_from_slice(&5u16.to_le_bytes());
    t.extend_from_slice(&3u32.to_le_bytes());
    t.extend_from_slice(&68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    t.extend_from_slice(&GPS_RATIONALS);
    t
}

fn gradient(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 128])
    })
}

/// A JPEG `w`×`h` whose APP1 carries [`exif_payload`].
pub(crate) fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let mut plain = Vec::new();
    gradient(w, h)
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_payload(orientation));
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&plain[2..]);
    out
}

pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    gradient(w, h)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
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

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut c = kind.to_vec();
    c.extend_from_slice(data);
    out.extend_from_slice(&c);
    out.extend_from_slice(&crc32(&c).to_be_bytes());
}

/// A pixel flood: a tiny PNG whose header claims `w`×`h`.
fn flood_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    // An (incomplete) zlib stream: a decoder would have to allocate before noticing.
    png_chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00]);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn zip_of(entries: &[(&str, usize)]) -> Vec<u8> {
    let mut buf = Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, size) in entries {
            z.start_file(*name, opts).unwrap();
            let zeros = vec![0u8; 64 * 1024];
            let mut left = *size;
            while left > 0 {
                let n = left.min(zeros.len());
                z.write_all(&zeros[..n]).unwrap();
                left -= n;
            }
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

const BOUNDARY: &str = "justus-test-boundary-7d3f";

/// A `multipart/form-data` body with one `file` part (name given as raw bytes, so tests can
/// put NULs and slashes in it).
fn multipart_body(file_name: &[u8], content: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
    b.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"");
    b.extend_from_slice(file_name);
    b.extend_from_slice(b"\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    b.extend_from_slice(content);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn upload_raw(app: &TestApp, token: &str, body: Vec<u8>, boundary: &str) -> Resp {
    TestApp::finish(
        app.client
            .post(format!("{}/api/v1/media", app.base))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    )
    .await
}

pub(crate) async fn upload(app: &TestApp, token: &str, name: &str, content: &[u8]) -> Resp {
    upload_raw(
        app,
        token,
        multipart_body(name.as_bytes(), content),
        BOUNDARY,
    )
    .await
}

pub(crate) async fn upload_ok(app: &TestApp, token: &str, name: &str, content: &[u8]) -> Value {
    let r = upload(app, token, name, content).await;
    assert_eq!(r.status, StatusCode::CREATED, "upload {name}: {}", r.text);
    r.body
}

/// Follows `GET path` (302) to the signed URL; returns the signed URL.
async fn signed_url(app: &TestApp, token: &str, path: &str) -> String {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, StatusCode::FOUND, "{path}: {}", r.text);
    r.headers["location"].to_str().unwrap().to_owned()
}

pub(crate) struct Fetched {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> Fetched {
    let mut req = app.client.get(format!("{}{}", app.base, url));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let res = req.send().await.unwrap();
    Fetched {
        status: res.status(),
        headers: res.headers().clone(),
        bytes: res.bytes().await.unwrap().to_vec(),
    }
}

fn data_dir(app: &TestApp) -> PathBuf {
    app._server.state.config.data_dir.clone()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub(crate) fn stored_objects(app: &TestApp) -> Vec<PathBuf> {
    files_under(&data_dir(app).join("media/objects"))
}

fn temp_files(app: &TestApp) -> Vec<PathBuf> {
    files_under(&data_dir(app).join("media/tmp"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decodes a served image and asserts it carries no EXIF at all (and no trace of the GPS
/// values); returns its dimensions.
pub(crate) fn assert_clean_image(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    assert_eq!(decoder.exif_metadata().unwrap(), None, "EXIF survived");
    assert!(!contains(bytes, b"Exif\0\0"), "an EXIF header survived");
    assert!(!contains(bytes, &GPS_RATIONALS), "GPS values survived");
    decoder.dimensions()
}

pub(crate) fn assert_error(r: &Resp, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

// --- tests ---------------------------------------------------------------------------------------

async fn image_upload_strips_metadata(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    // 1600×900 photo, EXIF orientation 6 (rotate 90° clockwise) and GPS.
    let photo = jpeg_with_exif(1600, 900, 6);
    {
        // The fixture really carries the metadata we look for.
        let mut d = ImageReader::new(Cursor::new(&photo))
            .with_guessed_format()
            .unwrap()
            .into_decoder()
            .unwrap();
        assert!(d.exif_metadata().unwrap().is_some());
        assert!(contains(&photo, &GPS_RATIONALS));
    }
    let m = upload_ok(&app, &ada, "holiday.JPG", &photo).await;
    assert_eq!(m["kind"], "image");
    assert_eq!(m["mime"], "image/jpeg");
    assert_eq!(m["name"], "holiday.JPG");
    // Orientation applied: the stored image is upright (portrait).
    assert_eq!(
        (m["width"].as_i64(), m["height"].as_i64()),
        (Some(900), Some(1600))
    );
    assert!(m["blurhash"].as_str().is_some_and(|b| b.len() >= 6));
    let id = m["id"].as_str().unwrap().to_owned();

    let url = signed_url(&app, &ada, &format!("/api/v1/media/{id}")).await;
    assert!(url.starts_with("/api/v1/media/files/"), "{url}");
    let f = fetch(&app, &url, None).await;
    assert_eq!(f.status, StatusCode::OK);
    assert_eq!(f.headers["content-type"], "image/jpeg");
    assert_eq!(f.headers["x-content-type-options"], "nosniff");
    assert!(
        f.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(
        f.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(assert_clean_image(&f.bytes), (900, 1600));

    for (size, want) in [(320u32, (180, 320)), (1280, (720, 1280))] {
        let url = signed_url(&app, &ada, &format!("/api/v1/media/{id}/thumbnails/{size}")).await;
        let t = fetch(&app, &url, None).await;
        assert_eq!(t.status, StatusCode::OK);
        assert_eq!(t.headers["content-type"], "image/webp");
        assert_eq!(assert_clean_image(&t.bytes), want, "thumbnail {size}");
    }
    assert_eq!(
        app.get(&format!("/api/v1/media/{id}/thumbnails/999"), Some(&ada))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Range support on the served bytes.
    let part = fetch(&app, &url, Some("bytes=0-99")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes.len(), 100);
    assert_eq!(part.bytes[..], f.bytes[..100]);
    assert!(
        part.headers["content-range"]
            .to_str()
            .unwrap()
            .starts_with("bytes 0-99/")
    );

    // The JSON form of the redirect.
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/media/{id}"),
            Some(&ada),
            None,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["url"].as_str().unwrap().contains("signature="));
    assert!(r.body["expires_at"].is_string());

    // PNG (any size) and GIF (served as a still PNG) are re-encoded too.
    let p = upload_ok(&app, &ada, "shot.png", &png(40, 30)).await;
    assert_eq!(
        (p["mime"].as_str(), p["width"].as_i64()),
        (Some("image/png"), Some(40))
    );
    let mut gif = Vec::new();
    image::DynamicImage::ImageRgb8(gradient(16, 16))
        .write_to(&mut Cursor::new(&mut gif), image::ImageFormat::Gif)
        .unwrap();
    let g = upload_ok(&app, &ada, "anim.gif", &gif).await;
    assert_eq!(g["kind"], "image");
    let url = signed_url(
        &app,
        &ada,
        &format!("/api/v1/media/{}", g["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        assert_clean_image(&fetch(&app, &url, None).await.bytes),
        (16, 16)
    );

    // Metrics count uploads by kind.
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("media_uploads_total{kind=\"image\"}"),
        "{metrics}"
    );
}

async fn hostile_files_rejected(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    // Pixel flood: a 200-byte PNG claiming 100000×100000 pixels.
    let r = upload(&app, &ada, "flood.png", &flood_png(100_000, 100_000)).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large");
    // 20000×10 is under 50 MP but over 16384 px per side.
    let r = upload(&app, &ada, "wide.png", &flood_png(20_000, 10)).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "image_too_large");

    // HTML named .png.
    let html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";
    let r = upload(&app, &ada, "cat.png", html).await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // …or as .txt (HTML is never plain text).
    let r = upload(&app, &ada, "notes.txt", html).await;
    assert_error(
        &r,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    // SVG with a script, as .svg and as .png.
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    for name in ["logo.svg", "logo.png"] {
        let r = upload(&app, &ada, name, svg).await;
        assert_error(
            &r,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }

    // A real PNG with the wrong extension.
    let r = upload(&app, &ada, "report.pdf", &png(8, 8)).await;
    assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "extension_mismatch");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image/png")
    );

    // JPEG/HTML polyglot: a valid JPEG with HTML in a comment segment and after the image.
    let jpeg = jpeg_with_exif(64, 64, 1);
    let mut poly = jpeg[..2].to_vec();
    let payload = b"<html><script>alert('polyglot')</script></html>";
    poly.extend_from_slice(&[0xFF, 0xFE]);
    poly.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    poly.extend_from_slice(payload);
    poly.extend_from_slice(&jpeg[2..]);
    poly.extend_from_slice(payload);
    let m = upload_ok(&app, &ada, "poly.jpg", &poly).await;
    let url = signed_url(
        &app,
        &ada,
        &format!("/api/v1/media/{}", m["id"].as_str().unwrap()),
    )
    .await;
    let f = fetch(&app, &url, None).await;
    assert_eq!(f.headers["content-type"], "image/jpeg");
    assert!(
        !contains(&f.bytes, b"<script"),
        "the HTML payload was served"
    );
    assert_clean_image(&f.bytes);

    // Path traversal and NUL bytes in the name: display text only.
    let m = upload_ok(&app, &ada, "../../../etc/passwd.png", &png(4, 4)).await;
    assert_eq!(m["name"], "passwd.png");
    // A NUL (or other control byte) in the part headers is refused by the multipart parser
    // before any byte is stored (the name sanitiser strips them too: see core's unit tests).
    let objects_before = stored_objects(&app).len();
    for name in [&b"evil.php\0.png"[..], b"bell\x07.png"] {
        let r = upload_raw(&app, &ada, multipart_body(name, &png(4, 4)), BOUNDARY).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_multipart");
    }
    assert_eq!(stored_objects(&app).len(), objects_before);
    let r = upload_raw(
        &app,
        &ada,
        multipart_body(b"..\\..\\win.ini.png", &png(4, 4)),
        BOUNDARY,
    )
    .await;
    assert_eq!(r.body["name"], "win.ini.png", "{}", r.text);
    // Objects are stored under server-chosen keys only.
    for p in stored_objects(&app) {
        let rel = p
            .strip_prefix(data_dir(&app).join("media/objects"))
            .unwrap();
        let rel = rel.to_str().unwrap();
        assert!(
            !rel.contains("passwd") && !rel.contains("evil") && !rel.contains(".."),
            "{rel}"
        );
    }
    assert!(!data_dir(&app).join("etc").exists());

    // Rejections are counted by reason.
    let metrics = app.metrics().await;
    for reason in [
        "image_too_large",
        "unsupported_media_type",
        "extension_mismatch",
    ] {
        assert!(
            metrics.contains(&format!("media_rejections_total{{reason=\"{reason}\"}}")),
            "{reason}"
        );
    }
}

async fn cut_and_malformed_uploads_store_nothing(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    // Wrong boundary in the Content-Type.
    let r = upload_raw(
        &app,
        &ada,
        multipart_body(b"a.png", &png(4, 4)),
        "not-the-boundary",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(
        matches!(r.code(), "invalid_multipart" | "missing_file"),
        "{}",
        r.text
    );
    // Not multipart at all.
    let r = app
        .post("/api/v1/media", Some(&ada), json!({"file": "x"}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_multipart");
    // No `file` part.
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    );
    let r = upload_raw(&app, &ada, body.into_bytes(), BOUNDARY).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "missing_file");
    // Empty file.
    let r = upload(&app, &ada, "empty.txt", b"").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "empty_file");
    // Without a token.
    let r = upload_raw(&app, "", multipart_body(b"a.png", &png(4, 4)), BOUNDARY).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Cut off mid-stream: announce the whole body, send half, hang up.
    let body = multipart_body(b"big.png", &png(400, 400));
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ada}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&body[..body.len() / 2]).await.unwrap();
    sock.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(sock);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    assert!(
        stored_objects(&app).is_empty(),
        "{:?}",
        stored_objects(&app)
    );
    assert!(temp_files(&app).is_empty(), "{:?}", temp_files(&app));
    // And the quota counts nothing: a later upload still works.
    upload_ok(&app, &ada, "after.png", &png(4, 4)).await;
}

async fn access_control_and_signed_urls(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    let (bob, bob_id) = app.user("bob").await;
    let (eve, _) = app.user("eve").await;
    let room = app.group(&ada, "Photos").await;
    app.add(&ada, &room, &bob_id).await;
    let m = upload_ok(&app, &ada, "cat.png", &png(32, 32)).await;
    let id = m["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/media/{id}");

    // Not posted yet: only the uploader.
    assert_eq!(
        app.get(&path, Some(&bob)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&ada),
            json!({"client_id": "c1", "body": "cat", "attachments": [id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // A member of the room may read it; an outsider may not (and cannot tell it exists).
    signed_url(&app, &bob, &path).await;
    let outsider = app.get(&path, Some(&eve)).await;
    assert_error(&outsider, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(
            &format!("/api/v1/media/{}", uuid::Uuid::now_v7()),
            Some(&eve)
        )
        .await
        .code(),
        outsider.code()
    );
    assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/media/not-a-uuid", Some(&ada))
            .await
            .status
            .as_u16()
            / 100,
        4
    );

    // A former member loses access.
    let r = app
        .delete(
            &format!("/api/v1/rooms/{room}/members/{bob_id}"),
            Some(&bob),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.get(&path, Some(&bob)).await.status,
        StatusCode::NOT_FOUND
    );

    // Signed URLs: valid → 200; tampered or expired → 403.
    let url = signed_url(&app, &ada, &path).await;
    assert_eq!(fetch(&app, &url, None).await.status, StatusCode::OK);
    let (base, query) = url.split_once('?').unwrap();
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let expires: i64 = params
        .iter()
        .find(|(k, _)| *k == "expires")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let sig = params.iter().find(|(k, _)| *k == "signature").unwrap().1;
    let flipped: String = sig
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                if c == 'a' { 'b' } else { 'a' }
            } else {
                c
            }
        })
        .collect();
    let other = upload_ok(&app, &ada, "other.png", &png(8, 8)).await;
    let other_id = other["id"].as_str().unwrap();
    for (tampered, why) in [
        (
            format!("{base}?expires={expires}&signature={flipped}"),
            "signature",
        ),
        (
            format!("{base}?expires={}&signature={sig}", expires + 3600),
            "expiry",
        ),
        (
            format!(
                "{}?expires={expires}&signature={sig}",
                base.replace(&id, other_id)
            ),
            "object",
        ),
        (
            format!(
                "{}?expires={expires}&signature={sig}",
                base.replace("original", "w320")
            ),
            "variant",
        ),
        (format!("{base}?expires={expires}&signature=zz"), "garbage"),
    ] {
        let f = fetch(&app, &tampered, None).await;
        assert_eq!(f.status, StatusCode::FORBIDDEN, "tampered {why}");
        let body: Value = serde_json::from_slice(&f.bytes).unwrap();
        assert_eq!(body["error"]["code"], "invalid_signature", "{why}");
    }
    // Missing query → 400, not a file.
    assert_eq!(fetch(&app, base, None).await.status.as_u16() / 100, 4);
    // Expired: a correctly signed URL whose time has passed.
    let signer = justus_server::media::signing::UrlSigner::new(test_secret().as_bytes());
    let past = chrono::Utc::now().timestamp() - 10;
    let object = format!("{id}/original");
    let expired = format!(
        "/api/v1/media/files/{object}?expires={past}&signature={}",
        signer.sign(&object, past)
    );
    let f = fetch(&app, &expired, None).await;
    assert_eq!(f.status, StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_slice(&f.bytes).unwrap();
    assert_eq!(body["error"]["code"], "signature_expired");
    // The same signer with a future expiry works, proving the expired one failed on time only.
    let future = chrono::Utc::now().timestamp() + 60;
    let fresh = format!(
        "/api/v1/media/files/{object}?expires={future}&signature={}",
        signer.sign(&object, future)
    );
    assert_eq!(fetch(&app, &fresh, None).await.status, StatusCode::OK);
}

async fn attachments_on_messages(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&ada, "Files").await;
    app.add(&ada, &room, &bob_id).await;
    let a = upload_ok(&app, &ada, "a.png", &png(20, 10)).await;
    let b = upload_ok(&app, &ada, "b.txt", b"hello").await;
    let theirs = upload_ok(&app, &bob, "bob.png", &png(4, 4)).await;
    let send = |client_id: &str, attachments: Value, body: Option<&str>| {
        let mut v = json!({"client_id": client_id, "attachments": attachments});
        if let Some(b) = body {
            v["body"] = json!(b);
        }
        v
    };
    let url = format!("/api/v1/rooms/{room}/messages");
    // Someone else's upload → 403.
    let r = app
        .post(
            &url,
            Some(&ada),
            send("c0", json!([theirs["id"]]), Some("x")),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "attachment_forbidden");
    let r = app
        .post(
            &url,
            Some(&ada),
            send("c0", json!([uuid::Uuid::now_v7()]), Some("x")),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "attachment_forbidden");
    let r = app
        .post(
            &url,
            Some(&ada),
            send("c0", json!([a["id"], a["id"]]), Some("x")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Attachments only (no body), in order, as objects.
    let r = app
        .post(
            &url,
            Some(&ada),
            send("c1", json!([b["id"], a["id"]]), None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let atts = r.body["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["id"], b["id"]);
    assert_eq!(atts[0]["kind"], "file");
    assert_eq!(atts[0]["mime"], "text/plain");
    assert_eq!(atts[0]["name"], "b.txt");
    assert_eq!(atts[0]["size"], 5);
    assert_eq!(atts[1], a, "the upload answer and the attachment agree");
    for key in ["width", "height", "blurhash", "duration_ms"] {
        assert!(atts[1].get(key).is_some(), "{key}");
    }
    // History shows them too; plain messages have an empty list.
    app.say(&ada, &room, "plain").await;
    let page = app.get(&url, Some(&bob)).await;
    let msgs = page.body["messages"].as_array().unwrap();
    let with = msgs.iter().find(|m| m["client_id"] == "c1").unwrap();
    assert_eq!(with["attachments"], r.body["attachments"]);
    assert_eq!(msgs.last().unwrap()["attachments"], json!([]));
    // A retry with the same client_id returns the original (200).
    let again = app
        .post(
            &url,
            Some(&ada),
            send("c1", json!([b["id"], a["id"]]), None),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    // The reader can now download; a text file comes as an attachment download.
    let got = signed_url(
        &app,
        &bob,
        &format!("/api/v1/media/{}", b["id"].as_str().unwrap()),
    )
    .await;
    let f = fetch(&app, &got, None).await;
    assert_eq!(f.bytes, b"hello");
    assert_eq!(f.headers["content-type"], "text/plain");
    assert!(
        f.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    // Deleting the message withdraws access for the others.
    let mid = r.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("{url}/{mid}"), Some(&ada)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/media/{}", b["id"].as_str().unwrap()),
            Some(&bob)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

async fn files_archives_and_limits(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    // A small ZIP is fine, served as a download.
    let z = upload_ok(
        &app,
        &ada,
        "bundle.zip",
        &zip_of(&[("a.txt", 10), ("b.txt", 20)]),
    )
    .await;
    assert_eq!(
        (z["kind"].as_str(), z["mime"].as_str()),
        (Some("file"), Some("application/zip"))
    );
    let url = signed_url(
        &app,
        &ada,
        &format!("/api/v1/media/{}", z["id"].as_str().unwrap()),
    )
    .await;
    let f = fetch(&app, &url, None).await;
    assert_eq!(f.headers["content-type"], "application/zip");
    assert!(
        f.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    // A PDF.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    assert_eq!(
        upload_ok(&app, &ada, "doc.pdf", pdf).await["mime"],
        "application/pdf"
    );
    // Garbage with a .zip extension is not a ZIP.
    let r = upload(&app, &ada, "x.zip", b"PK\x03\x04 not really a zip at all").await;
    assert_eq!(r.status.as_u16() / 100, 4, "{}", r.text);
}

/// Uploads never attached are removed (record and bytes) once older than the TTL; attached
/// ones stay.
async fn unattached_uploads_swept(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.media.unattached_ttl_seconds = 1).await
    else {
        return;
    };
    let (ada, _) = app.user("ada").await;
    let room = app.group(&ada, "Keep").await;
    let kept = upload_ok(&app, &ada, "kept.png", &png(8, 8)).await;
    let lost = upload_ok(&app, &ada, "lost.txt", b"bye").await;
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&ada),
            json!({"client_id": "k", "attachments": [kept["id"]]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The background job runs every second here; run a pass ourselves as well.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let state = app._server.state.clone();
    justus_server::media::sweep::sweep_once(&state)
        .await
        .unwrap();
    let lost_path = format!("/api/v1/media/{}", lost["id"].as_str().unwrap());
    assert_eq!(
        app.get(&lost_path, Some(&ada)).await.status,
        StatusCode::NOT_FOUND
    );
    signed_url(
        &app,
        &ada,
        &format!("/api/v1/media/{}", kept["id"].as_str().unwrap()),
    )
    .await;
    let left = stored_objects(&app);
    assert_eq!(
        left.len(),
        3,
        "the kept image and its two thumbnails: {left:?}"
    );
    assert!(
        left.iter()
            .all(|p| p.to_str().unwrap().contains(kept["id"].as_str().unwrap()))
    );
    // A second pass finds nothing.
    assert_eq!(
        justus_server::media::sweep::sweep_once(&state)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattached_uploads_swept_sqlite() {
    unattached_uploads_swept(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattached_uploads_swept_postgres() {
    unattached_uploads_swept(Backend::Postgres).await;
}

// --- limits that need their own config -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_quota_sqlite() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.media.max_image_bytes = 64 * 1024;
        c.media.quota_bytes = 3 * 1024 * 1024;
        c.media.archive_max_entries = 10;
        c.media.archive_max_uncompressed_bytes = 1024 * 1024;
    })
    .await
    .expect("app");
    let (ada, _) = app.user("ada").await;
    // Over the image limit (a noisy PNG does not compress): 413 while streaming.
    let noisy = image::RgbImage::from_fn(300, 300, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).to_le_bytes();
        image::Rgb([v[0], v[1], v[2]])
    });
    let mut big = Vec::new();
    noisy
        .write_to(&mut Cursor::new(&mut big), image::ImageFormat::Png)
        .unwrap();
    assert!(big.len() > 64 * 1024);
    let r = upload(&app, &ada, "big.png", &big).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
    // The same size is fine as another kind's file? Not as .png; a text file of 100 KiB is.
    upload_ok(&app, &ada, "log.txt", &vec![b'a'; 100 * 1024]).await;

    // Zip bombs: too much data, or too many entries, by the central directory.
    let r = upload(
        &app,
        &ada,
        "bomb.zip",
        &zip_of(&[("zeros", 8 * 1024 * 1024)]),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "archive_too_large");
    let many: Vec<(String, usize)> = (0..11).map(|i| (format!("f{i}"), 1)).collect();
    let many: Vec<(&str, usize)> = many.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let r = upload(&app, &ada, "many.zip", &zip_of(&many)).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "archive_too_large");
    // Office documents are ZIP containers: same checks.
    let r = upload(
        &app,
        &ada,
        "bomb.docx",
        &zip_of(&[("word/document.xml", 8 * 1024 * 1024)]),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "archive_too_large");

    // Quota: 3 MiB in total.
    let chunk = vec![b'b'; 1024 * 1024];
    upload_ok(&app, &ada, "1.txt", &chunk).await;
    upload_ok(&app, &ada, "2.txt", &chunk).await;
    let r = upload(&app, &ada, "3.txt", &chunk).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
    assert!(temp_files(&app).is_empty());
}

// --- voice notes ---------------------------------------------------------------------------

/// A minimal audio-only WebM header (EBML, doc type `webm`): enough for type sniffing.
fn webm_audio() -> Vec<u8> {
    let mut v = vec![
        0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42, 0xF2,
        0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm', 0x42, 0x87,
        0x81, 0x04, 0x42, 0x85, 0x81, 0x02,
    ];
    v.resize(2048, 0);
    v
}

async fn upload_with_duration(app: &TestApp, token: &str, name: &str, duration: &str) -> Resp {
    let form = reqwest::multipart::Form::new()
        .text("duration_ms", duration.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(webm_audio()).file_name(name.to_owned()),
        );
    TestApp::finish(
        app.client
            .post(format!("{}/api/v1/media", app.base))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_notes_keep_their_declared_duration() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("app");
    let (ada, _) = app.user("ada").await;
    let r = upload_with_duration(&app, &ada, "voice-1.weba", "4200").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["kind"], "audio");
    assert_eq!(r.body["mime"], "audio/webm");
    assert_eq!(r.body["duration_ms"], 4200);
    // Without the part, no duration; a bad one is refused before anything is stored.
    let plain = upload_ok(&app, &ada, "voice-2.weba", &webm_audio()).await;
    assert!(plain["duration_ms"].is_null());
    for bad in ["-1", "abc", "86400001", "12345678901234567890"] {
        let r = upload_with_duration(&app, &ada, "voice-3.weba", bad).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert_eq!(r.code(), "invalid_duration");
    }
}
