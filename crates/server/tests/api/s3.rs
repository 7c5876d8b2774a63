//! Media in S3, against a real S3-compatible server that the test starts itself (`s3s-fs`,
//! which keeps each bucket as a directory under its root): uploads land in the bucket, GET
//! answers 302 to a presigned URL that serves the bytes with the sniffed type and the right
//! disposition, tampered and expired URLs get 403 from S3, thumbnails come from S3, the sweeper
//! deletes the objects, and `/ready` checks the bucket.
//!
//! `s3s-fs` comes from `cargo install s3s-fs` (`.ci/run` does it); `S3S_FS_BIN` overrides the
//! path. Without it the test is skipped outside CI and fails with `CI=true`.

use crate::helpers::*;
use futures::StreamExt;
use justus_server::config::{Config, Secret};
use object_store::aws::AmazonS3Builder;
use object_store::{ClientOptions, ObjectStore};
use reqwest::StatusCode;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "justus-media";
const ACCESS_KEY: &str = "justus-test-access";
const SECRET_KEY: &str = "justus-test-secret-0123456789";

fn s3s_bin() -> Option<PathBuf> {
    let candidates = [
        std::env::var("S3S_FS_BIN").ok().map(PathBuf::from),
        std::env::var("HOME")
            .ok()
            .map(|h| PathBuf::from(h).join(".cargo/bin/s3s-fs")),
        Some(PathBuf::from("/usr/local/bin/s3s-fs")),
    ];
    if let Some(p) = candidates.into_iter().flatten().find(|p| p.exists()) {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("s3s-fs not found (CI=true): cargo install s3s-fs --features binary");
    }
    eprintln!(
        "s3 tests: SKIPPED — s3s-fs missing (cargo install s3s-fs --version 0.14.1 --features binary)"
    );
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct S3s {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl Drop for S3s {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3s {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A client of our own, to look into the bucket.
    fn bucket(&self) -> impl ObjectStore {
        let _ = rustls::crypto::ring::default_provider().install_default();
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(self.endpoint())
            .with_virtual_hosted_style_request(false)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_client_options(ClientOptions::new().with_allow_http(true))
            .build()
            .unwrap()
    }

    async fn keys(&self) -> Vec<String> {
        let store = self.bucket();
        let mut keys: Vec<String> = store
            .list(None)
            .map(|m| m.unwrap().location.to_string())
            .collect()
            .await;
        keys.sort();
        keys
    }
}

async fn start_s3s(bin: &std::path::Path) -> S3s {
    let root = tempfile::tempdir().unwrap();
    // s3s-fs serves every directory under its root as a bucket.
    std::fs::create_dir(root.path().join(BUCKET)).unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(root.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    let mut s3s = S3s {
        child,
        port,
        _root: root,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if let Ok(Some(status)) = s3s.child.try_wait() {
            panic!("s3s-fs exited ({status})");
        }
        assert!(Instant::now() < deadline, "s3s-fs did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s3s
}

async fn spawn_app(s3s: &S3s, bucket: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let endpoint = s3s.endpoint();
    TestApp::spawn_with(Backend::Sqlite, |c| {
        c.s3.bucket = Some(bucket.to_owned());
        c.s3.endpoint = Some(endpoint.parse().unwrap());
        c.s3.access_key_id = Some(Secret::new(ACCESS_KEY));
        c.s3.secret_access_key = Some(Secret::new(SECRET_KEY));
        tweak(c);
    })
    .await
    .expect("app")
}

async fn upload_ok(app: &TestApp, token: &str, name: &str, content: &[u8]) -> serde_json::Value {
    let part = reqwest::multipart::Part::bytes(content.to_vec()).file_name(name.to_owned());
    let r = TestApp::finish(
        app.client
            .post(format!("{}/api/v1/media", app.base))
            .bearer_auth(token)
            .multipart(reqwest::multipart::Form::new().part("file", part)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "upload {name}: {}", r.text);
    r.body
}

/// `GET path` → 302; the Location must point into the bucket.
async fn presigned(app: &TestApp, s3s: &S3s, token: &str, path: &str) -> String {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, StatusCode::FOUND, "{path}: {}", r.text);
    let url = r.headers["location"].to_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/{BUCKET}/", s3s.endpoint())),
        "{url}"
    );
    assert!(url.contains("X-Amz-Signature="), "{url}");
    url
}

async fn fetch(
    url: &str,
    range: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.unwrap().to_vec())
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 90]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_in_s3_with_presigned_urls() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, BUCKET, |_| {}).await;
    let (ada, _) = app.user("ada").await;

    let r = app.ops("/ready").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["checks"]["storage"], "ok");

    let img = upload_ok(&app, &ada, "photo.png", &png(64, 48)).await;
    let img_id = img["id"].as_str().unwrap().to_owned();
    let pdf = upload_ok(&app, &ada, "report \"final\".pdf", PDF).await;
    let pdf_id = pdf["id"].as_str().unwrap().to_owned();
    assert_eq!(pdf["mime"], "application/pdf");

    // The objects are in the bucket (and nothing in the local directory).
    let keys = s3s.keys().await;
    let mut want = vec![
        format!("{img_id}/original"),
        format!("{img_id}/w1280.webp"),
        format!("{img_id}/w320.webp"),
        format!("{pdf_id}/original"),
    ];
    want.sort();
    assert_eq!(keys, want);
    assert!(
        !app._server
            .state
            .config
            .data_dir
            .join("media/objects")
            .exists(),
        "no local objects with S3"
    );

    // Image: 302 → presigned URL → the bytes, shown inline with the sniffed type.
    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/media/{img_id}")).await;
    let (status, headers, bytes) = fetch(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], img["mime"].as_str().unwrap());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));

    // PDF: a download, whatever the browser thinks; Range works.
    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/media/{pdf_id}")).await;
    let (status, headers, bytes) = fetch(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF);
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''report%20%22final%22.pdf"));
    let (status, headers, bytes) = fetch(&url, Some("bytes=0-3")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(bytes, b"%PDF");
    assert_eq!(headers["content-range"], format!("bytes 0-3/{}", PDF.len()));

    // Tampering: another signature, another object, or an inline disposition → 403.
    let sig_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut bad = url.clone();
    let flipped = if &bad[sig_at..sig_at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    bad.replace_range(sig_at..sig_at + 1, flipped);
    assert_eq!(fetch(&bad, None).await.0, StatusCode::FORBIDDEN);
    let other = url.replace(&pdf_id, &img_id);
    assert_eq!(fetch(&other, None).await.0, StatusCode::FORBIDDEN);
    let inline = url.replace(
        "response-content-disposition=attachment",
        "response-content-disposition=inline",
    );
    assert_ne!(inline, url);
    assert_eq!(fetch(&inline, None).await.0, StatusCode::FORBIDDEN);
    let unsigned = url[..url.find('?').unwrap()].to_owned();
    assert_eq!(fetch(&unsigned, None).await.0, StatusCode::FORBIDDEN);

    // Thumbnails come from the bucket too.
    for size in [320, 1280] {
        let url = presigned(
            &app,
            &s3s,
            &ada,
            &format!("/api/v1/media/{img_id}/thumbnails/{size}"),
        )
        .await;
        assert!(url.contains(&format!("/{img_id}/w{size}.webp?")), "{url}");
        let (status, headers, bytes) = fetch(&url, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "image/webp");
        assert!(bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP");
    }

    // Someone else still gets 404 from us, before any URL is made.
    let (bob, _) = app.user("bob").await;
    let r = app
        .get(&format!("/api/v1/media/{pdf_id}"), Some(&bob))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_urls_expire_and_sweep_deletes_objects() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, BUCKET, |c| {
        // 2 s, not 1: X-Amz-Date has whole seconds, so a 1 s URL signed late in a second may
        // already be expired when fetched a moment later (this flaked under load).
        c.media.url_ttl_seconds = 2;
        c.media.unattached_ttl_seconds = 1;
    })
    .await;
    let (ada, _) = app.user("ada").await;
    let room = app.group(&ada, "Keep").await;
    let kept = upload_ok(&app, &ada, "kept.png", &png(8, 8)).await;
    let kept_id = kept["id"].as_str().unwrap().to_owned();
    let lost = upload_ok(&app, &ada, "lost.txt", b"bye").await;
    let lost_id = lost["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&ada),
            serde_json::json!({"client_id": "k", "attachments": [kept_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/media/{kept_id}")).await;
    assert!(
        url.contains("X-Amz-Expires=2&") || url.ends_with("X-Amz-Expires=2"),
        "{url}"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(fetch(&url, None).await.0, StatusCode::FORBIDDEN, "expired");
    // A fresh one works.
    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/media/{kept_id}")).await;
    assert_eq!(fetch(&url, None).await.0, StatusCode::OK);

    // The unattached upload is swept: gone from the bucket; the kept one stays.
    let state = app._server.state.clone();
    justus_server::media::sweep::sweep_once(&state)
        .await
        .unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/media/{lost_id}"), Some(&ada))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let keys = s3s.keys().await;
    assert!(keys.iter().all(|k| k.starts_with(&kept_id)), "{keys:?}");
    assert_eq!(
        keys.len(),
        3,
        "the kept image and its two thumbnails: {keys:?}"
    );
}

/// A retention purge removes the objects (original and thumbnails) of the uploads it orphans
/// from the bucket, and only those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_purge_deletes_its_objects_from_the_bucket() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, BUCKET, |c| c.retention.days = 30).await;
    let (ada, _) = app.user("ada").await;
    let room = app.group(&ada, "Fleeting").await;
    let old = upload_ok(&app, &ada, "old.png", &png(8, 8)).await;
    let old_id = old["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&ada),
            serde_json::json!({"client_id": "old", "attachments": [old_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        s3s.keys().await.len(),
        3,
        "the image and its two thumbnails"
    );
    let state = app._server.state.clone();
    let later = chrono::Utc::now() + chrono::Duration::days(31);
    // Posted after the purge's cutoff moment: stays.
    let fresh = upload_ok(&app, &ada, "fresh.png", &png(8, 8)).await;
    let fresh_id = fresh["id"].as_str().unwrap().to_owned();
    let report = justus_server::retention::purge_once(&state, later, false)
        .await
        .unwrap();
    assert_eq!((report.messages, report.files), (1, 1));
    let keys = s3s.keys().await;
    assert!(
        keys.iter().all(|k| !k.starts_with(&old_id)),
        "the purged upload's objects are gone: {keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with(&fresh_id)),
        "an upload the purge did not orphan stays: {keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_fails_without_the_bucket() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, "no-such-bucket", |_| {}).await;
    let r = app.ops("/ready").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    let storage = r.body["checks"]["storage"].as_str().unwrap();
    assert!(storage.starts_with("error"), "{storage}");
    assert!(!storage.contains(SECRET_KEY));

    // Wrong credentials are not ready either.
    let app = spawn_app(&s3s, BUCKET, |c| {
        c.s3.secret_access_key = Some(Secret::new("wrong-secret-key-000000"))
    })
    .await;
    assert_eq!(
        app.get("/ready", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// Above `object_store`'s 10 MB buffer the upload goes up as a multipart upload; the object
/// arrives whole and keeps its stored headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_goes_up_in_parts() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, BUCKET, |_| {}).await;
    let (ada, _) = app.user("ada").await;
    let content: Vec<u8> = (0..11 * 1024 * 1024u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz \n"[(i % 28) as usize])
        .collect();
    let up = upload_ok(&app, &ada, "big.txt", &content).await;
    let id = up["id"].as_str().unwrap().to_owned();
    assert_eq!(s3s.keys().await, vec![format!("{id}/original")]);
    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/media/{id}")).await;
    let (status, headers, bytes) = fetch(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes.len(), content.len());
    assert!(bytes == content, "same bytes");
    assert_eq!(headers["content-type"], up["mime"].as_str().unwrap());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
}

/// Avatars are cut from uploads kept in S3 too: the source is fetched from the bucket, the
/// 512×512 WebP goes back into it, and the avatar URL is a presigned one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatars_from_uploads_in_s3() {
    let Some(bin) = s3s_bin() else { return };
    let s3s = start_s3s(&bin).await;
    let app = spawn_app(&s3s, BUCKET, |_| {}).await;
    let (ada, ada_id) = app.user("ada").await;
    let img = upload_ok(&app, &ada, "face.png", &png(120, 80)).await;
    let r = app
        .patch(
            "/api/v1/users/me",
            Some(&ada),
            serde_json::json!({"avatar": img["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let avatar = r.body["avatar"].as_str().expect("avatar id").to_owned();
    assert!(
        s3s.keys().await.contains(&format!("{avatar}/original")),
        "the avatar object is in the bucket"
    );
    let url = presigned(&app, &s3s, &ada, &format!("/api/v1/users/{ada_id}/avatar")).await;
    let (status, _, bytes) = fetch(&url, None).await;
    assert_eq!(status, StatusCode::OK);
    let decoded = image::load_from_memory(&bytes).expect("a decodable image");
    assert_eq!((decoded.width(), decoded.height()), (512, 512));
}
