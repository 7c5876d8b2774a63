//! Abuse of the upload endpoint (security issue 14): decompression bombs against a real `justus`
//! process whose memory is read from /proc, parallel uploads racing the storage quota, the
//! per-user upload rate, and property tests of file-name handling over HTTP.
//!
//! (Over 600 lines: each abuse needs its own hostile body builder; they share the RSS probe.)

use crate::helpers::*;
use justus_core::media::{MAX_NAME_CHARS, sanitize_file_name};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Cursor};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const MIB: u64 = 1024 * 1024;

// --- a real process ------------------------------------------------------------------------------

/// The `justus` binary on embedded defaults (SQLite, local media) plus `env`.
struct Process {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Process {
    fn start(env: &[(&str, &str)]) -> Process {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_justus"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JUSTUS_BIND", "127.0.0.1:0")
            .env("JUSTUS_DATA_DIR", dir.path())
            .env("JWT_SECRET", test_secret())
            .env("REGISTER_PER_IP_PER_HOUR", "100000")
            // Uploads are writes too (the per-user request quota); these tests are about the
            // media limits.
            .env("GATEWAY_REQUESTS_PER_SECOND", "100000")
            .env("JUSTUS_LOG", "warn")
            // Several of these run at once: no fixed metrics port.
            .env("METRICS_BIND", "off")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("justus starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut base = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout line");
            if let Some(rest) = line.strip_prefix("JustUs is serving on ") {
                base = Some(rest.trim().trim_end_matches('/').to_owned());
                break;
            }
        }
        Process {
            child,
            base: base.expect("prints the URL it serves"),
            _dir: dir,
        }
    }

    /// A `kB` field of /proc/<pid>/status (`VmRSS`, `VmHWM`), in bytes.
    fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_else(|| panic!("{field} in /proc status"));
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("a number of kB");
        kib * 1024
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn register(client: &reqwest::Client, base: &str, name: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": name, "email": format!("{name}@example.org"), "password": password_for(name)}))
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.expect("json");
    token(&body)
}

/// One upload through `client`: (status, error code, Retry-After present).
async fn post_file(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, String, bool) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = client
        .post(format!("{base}/api/v1/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = r.status();
    let retry_after = r.headers().contains_key("retry-after");
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code, retry_after)
}

/// A decompression bomb: a PNG of `side`² RGBA pixels, all zero, squeezed by zlib to ~1/1000.
fn bomb_png(side: u32) -> Vec<u8> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let pixels = vec![0u8; (side as usize) * (side as usize) * 4];
    let mut out = Vec::new();
    PngEncoder::new_with_quality(
        Cursor::new(&mut out),
        CompressionType::Best,
        FilterType::NoFilter,
    )
    .write_image(&pixels, side, side, image::ExtendedColorType::Rgba8)
    .expect("encode bomb");
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

/// The other bomb: a 1×1 PNG whose ICC profile chunk inflates to what `bomb` (a PNG of zeros)
/// holds: a header parser inflates it before any pixel limit applies.
fn iccp_bomb(bomb: &[u8]) -> Vec<u8> {
    // The zlib stream of the pixel bomb: its IDAT chunks, joined.
    let mut zlib = Vec::new();
    let mut at = 8;
    while at + 8 <= bomb.len() {
        let len = u32::from_be_bytes(bomb[at..at + 4].try_into().expect("4 bytes")) as usize;
        if &bomb[at + 4..at + 8] == b"IDAT" {
            zlib.extend_from_slice(&bomb[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    let mut one = Vec::new();
    image::RgbImage::from_pixel(1, 1, image::Rgb([1, 2, 3]))
        .write_to(&mut Cursor::new(&mut one), image::ImageFormat::Png)
        .expect("png");
    let mut chunk = b"iCCP".to_vec();
    chunk.extend_from_slice(b"icc\0\0");
    chunk.extend_from_slice(&zlib);
    let after_ihdr = 8 + 12 + 13;
    let mut out = one[..after_ihdr].to_vec();
    out.extend_from_slice(&((chunk.len() - 4) as u32).to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&one[after_ihdr..]);
    out
}

fn small_png() -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("png");
    out
}

// --- decompression bombs -------------------------------------------------------------------------

/// Side of the pixel bomb: 4096² RGBA = 64 MiB of pixels once decoded, from a ~65 KB upload.
/// (The ICC bomb made from it inflates to as much.)
const BOMB_SIDE: u32 = 4096;
/// Half of them pixel bombs, half ICC-profile bombs.
const BOMBS: usize = 50;
/// The decode budget the test server runs with (the default).
const DECODE_BUDGET: u64 = 256 * MIB;
/// What the process may hold beyond its idle peak and the decode budget: the runtime's and the
/// allocator's working set under 50 concurrent requests (measured: see docs/security.md, "Uploads").
const SLACK: u64 = 64 * MIB;

/// 50 concurrent uploads of PNGs that inflate to 64 MiB each (25 by their pixels, 25 by their
/// ICC profile): the process's peak RSS stays under its idle peak + the decode budget + slack,
/// and other requests are answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decompression_bombs_stay_within_the_decode_budget() {
    let budget = DECODE_BUDGET.to_string();
    let server = Process::start(&[
        ("MEDIA_DECODE_MEMORY_BYTES", budget.as_str()),
        // Short queue: the bombs beyond it are refused at once (503), keeping the test short.
        ("MEDIA_DECODE_QUEUE", "4"),
        ("MEDIA_UPLOADS_PER_MINUTE", "10000"),
    ]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let token = register(&client, &base, "bomber").await;
    // Warm up the image path once, so the baseline includes its threads and code.
    let (status, _, _) = post_file(&client, &base, &token, "ok.png", small_png()).await;
    assert_eq!(status, StatusCode::CREATED);
    let idle_peak = server.memory("VmHWM");

    let bomb = bomb_png(BOMB_SIDE);
    let icc = iccp_bomb(&bomb);
    assert!(bomb.len() < 150_000, "the bomb is small: {}", bomb.len());
    assert!(icc.len() < 150_000, "the bomb is small: {}", icc.len());
    let done = Arc::new(AtomicUsize::new(0));
    let mut uploads = Vec::new();
    for i in 0..BOMBS {
        let (client, base, token, done) =
            (client.clone(), base.clone(), token.clone(), done.clone());
        let bomb = if i % 2 == 0 {
            bomb.clone()
        } else {
            icc.clone()
        };
        uploads.push(tokio::spawn(async move {
            let out = post_file(&client, &base, &token, &format!("bomb{i}.png"), bomb).await;
            done.fetch_add(1, Ordering::SeqCst);
            out
        }));
    }
    // Once a decode is visibly under way, the server still answers other requests.
    while server.memory("VmRSS") < idle_peak + 32 * MIB && done.load(Ordering::SeqCst) < BOMBS {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let health = client
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
    let me = client
        .get(format!("{base}/api/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let in_flight = BOMBS - done.load(Ordering::SeqCst);
    assert!(
        in_flight > 0,
        "the other requests were answered during the bombs"
    );

    let mut created = 0;
    let mut busy = 0;
    for u in uploads {
        let (status, code, retry_after) = u.await.expect("upload task");
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(code, "media_busy");
                assert!(retry_after, "media_busy carries Retry-After");
                busy += 1;
            }
            other => panic!("unexpected answer to a bomb: {other} {code}"),
        }
    }
    let peak = server.memory("VmHWM");
    let ceiling = idle_peak + DECODE_BUDGET + SLACK;
    eprintln!(
        "bombs: {created} decoded, {busy} refused busy; idle peak {} MiB, peak {} MiB, ceiling {} MiB",
        idle_peak / MIB,
        peak / MIB,
        ceiling / MIB
    );
    assert!(created >= 1, "bombs within the limits are still decoded");
    assert!(
        peak <= ceiling,
        "peak RSS {} MiB exceeds the ceiling {} MiB",
        peak / MIB,
        ceiling / MIB
    );
}

// --- avatars -------------------------------------------------------------------------------------

/// A 1024×1 PNG, cropped whole: a strip 1024 times wider than high, which filling a 512² square
/// used to scale to 524288×512 pixels (1 GiB) before cutting the square out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thin_avatar_crop_does_not_blow_up() {
    let server = Process::start(&[]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let token = register(&client, &base, "stripper").await;
    let mut strip = Vec::new();
    image::RgbImage::from_pixel(1024, 1, image::Rgb([200, 30, 40]))
        .write_to(&mut Cursor::new(&mut strip), image::ImageFormat::Png)
        .expect("png");
    let part = reqwest::multipart::Part::bytes(strip).file_name("strip.png");
    let r = client
        .post(format!("{base}/api/v1/media"))
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED);
    let media: Value = r.json().await.expect("json");
    let before = server.memory("VmHWM");

    let r = client
        .patch(format!("{base}/api/v1/users/me"))
        .bearer_auth(&token)
        .json(&json!({"avatar": media["id"], "avatar_crop": {"x": 0, "y": 0, "width": 1024, "height": 1}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::OK);
    let user: Value = r.json().await.expect("json");
    assert!(user["avatar"].is_string(), "the avatar is set: {user}");
    let grown = server.memory("VmHWM").saturating_sub(before);
    eprintln!("thin avatar crop: peak RSS grew by {} MiB", grown / MIB);
    assert!(
        grown < 64 * MIB,
        "a 1024×1 avatar crop grew the peak RSS by {} MiB",
        grown / MIB
    );
}

// --- the quota under concurrency -------------------------------------------------------------------

const QUOTA: u64 = 10_000;
const FILE: usize = 3_000;

fn text_file(i: usize) -> Vec<u8> {
    let mut t = format!("file {i}\n").into_bytes();
    t.resize(FILE, b'x');
    t
}

/// Counts 201s and `413 quota_exceeded`s among `answers`; anything else fails the test.
fn tally(answers: &[Resp]) -> (usize, usize) {
    let mut created = 0;
    let mut over = 0;
    for r in answers {
        match (r.status, r.code()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded") => over += 1,
            (status, code) => panic!("unexpected answer {status} {code}: {}", r.text),
        }
    }
    (created, over)
}

/// Eight parallel uploads of 3000 bytes against a 10000-byte quota: exactly three are stored.
async fn parallel_uploads_stop_at_the_quota(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.media.quota_bytes = QUOTA).await else {
        return;
    };
    let (token, _) = app.user("hoarder").await;
    let files: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| (format!("n{i}.txt"), text_file(i)))
        .collect();
    let answers = futures::future::join_all(
        files
            .iter()
            .map(|(name, bytes)| crate::media::upload(&app, &token, name, bytes)),
    )
    .await;
    assert_eq!(tally(&answers), (3, 5), "exactly the uploads that fit");
    // What is left (1000 bytes) is still usable, to the byte.
    let r = crate::media::upload(&app, &token, "rest.txt", &vec![b'y'; 1000]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = crate::media::upload(&app, &token, "more.txt", b"z").await;
    crate::media::assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_uploads_stop_at_the_quota_sqlite() {
    parallel_uploads_stop_at_the_quota(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_uploads_stop_at_the_quota_postgres() {
    parallel_uploads_stop_at_the_quota(Backend::Postgres).await;
}

/// Two servers on one database (each counts only its own uploads in flight): the store's
/// atomic check still stores exactly the uploads that fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_uploads_on_two_instances_stop_at_the_quota() {
    let Some(url) = justus_store_postgres::testing::fresh_database_url().await else {
        return;
    };
    let on_db = |c: &mut justus_server::config::Config| {
        c.database.url = Some(justus_server::config::Secret::new(url.clone()));
        c.database.max_connections = 5;
        c.media.quota_bytes = QUOTA;
    };
    let a = TestApp::spawn_with(Backend::Sqlite, on_db)
        .await
        .expect("a");
    let b = TestApp::spawn_with(Backend::Sqlite, on_db)
        .await
        .expect("b");
    let (token, _) = a.user("spreader").await;
    let files: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| (format!("n{i}.txt"), text_file(i)))
        .collect();
    let answers = futures::future::join_all(files.iter().enumerate().map(|(i, (name, bytes))| {
        let app = if i % 2 == 0 { &a } else { &b };
        crate::media::upload(app, &token, name, bytes)
    }))
    .await;
    assert_eq!(tally(&answers), (3, 5), "exactly the uploads that fit");
}

// --- the per-user upload rate --------------------------------------------------------------------

const PER_MINUTE: u32 = 3;

fn assert_rate_limited(r: &Resp) {
    crate::media::assert_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_after_the_per_minute_allowance_is_refused() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.media.uploads_per_minute = PER_MINUTE)
        .await
        .expect("app");
    let (ada, _) = app.user("ada").await;
    let (bob, _) = app.user("bob").await;
    for i in 0..PER_MINUTE {
        crate::media::upload_ok(&app, &ada, &format!("{i}.txt"), b"hello").await;
    }
    let r = crate::media::upload(&app, &ada, "one-more.txt", b"hello").await;
    assert_rate_limited(&r);
    // Per user: someone else still uploads.
    crate::media::upload_ok(&app, &bob, "mine.txt", b"hello").await;
}

/// The Redis URL for tests, or `None` (skipped outside CI) when no Redis answers.
fn test_redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(2)).is_ok()
        });
    if reachable {
        return Some(url);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("Redis at {url} is required (CI=true)");
    }
    eprintln!("SKIPPED: no Redis at {url}; the cluster-wide upload rate was not tested");
    None
}

/// Two servers sharing Redis (and a database) share each user's allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_allowance_holds_across_instances() {
    let Some(redis) = test_redis_url() else {
        return;
    };
    let Some(url) = justus_store_postgres::testing::fresh_database_url().await else {
        return;
    };
    // A prefix of our own: keys of other runs never count.
    let prefix = format!("justus-test-{}", uuid::Uuid::now_v7().simple());
    let shared = |c: &mut justus_server::config::Config| {
        c.database.url = Some(justus_server::config::Secret::new(url.clone()));
        c.database.max_connections = 5;
        c.redis.url = Some(justus_server::config::Secret::new(redis.clone()));
        c.redis.prefix = prefix.clone();
        c.media.uploads_per_minute = PER_MINUTE;
    };
    let a = TestApp::spawn_with(Backend::Sqlite, shared)
        .await
        .expect("a");
    let b = TestApp::spawn_with(Backend::Sqlite, shared)
        .await
        .expect("b");
    let (ada, _) = a.user("ada").await;
    crate::media::upload_ok(&a, &ada, "1.txt", b"hello").await;
    crate::media::upload_ok(&b, &ada, "2.txt", b"hello").await;
    crate::media::upload_ok(&a, &ada, "3.txt", b"hello").await;
    assert_rate_limited(&crate::media::upload(&b, &ada, "4.txt", b"hello").await);
    assert_rate_limited(&crate::media::upload(&a, &ada, "5.txt", b"hello").await);
}

// --- property tests: names and bodies over HTTP --------------------------------------------------

const BOUNDARY: &str = "pr0p-b0undary";

/// A multipart body with one `file` part whose file name is `name` (raw bytes: quotes, CR/LF,
/// NUL, invalid UTF-8 and all).
fn body_with_name(name: &[u8], content: &[u8]) -> Vec<u8> {
    let mut b =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
            .into_bytes();
    b.extend_from_slice(name);
    b.extend_from_slice(b"\"\r\nContent-Type: text/plain\r\n\r\n");
    b.extend_from_slice(content);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn post_body(app: &TestApp, token: &str, body: Vec<u8>) -> Resp {
    TestApp::finish(
        app.client
            .post(format!("{}/api/v1/media", app.base))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body),
    )
    .await
}

/// Bytes that make names hostile, mixed with anything.
fn hostile_name_bytes() -> impl Strategy<Value = Vec<u8>> {
    let special: Vec<Vec<u8>> = [
        "/", "\\", ".", "..", " ", "\"", "\r", "\n", "\0", "\t", ";", "=", "%", "*", "'",
        "\u{202E}", "\u{061C}", "\u{2028}", "\u{feff}", "é", "😀",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([vec![0xff], vec![0xc3]])
    .collect();
    let piece = prop_oneof![
        3 => prop::sample::select(special),
        3 => "[a-z]{1,8}".prop_map(String::into_bytes),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    // Opening with dots and spaces in any mix (hidden-file tricks), then anything.
    let opening = prop::collection::vec(prop::sample::select(vec![".", " ", ".."]), 0..6);
    (opening, prop::collection::vec(piece, 0..80))
        .prop_map(|(open, rest)| [open.concat().into_bytes(), rest.concat()].concat())
}

/// A multipart-looking body, cut or corrupted anywhere.
fn hostile_body() -> impl Strategy<Value = Vec<u8>> {
    let structured = (
        hostile_name_bytes(),
        prop::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(name, content, cut, at)| {
            let mut name = name;
            name.extend_from_slice(b".txt");
            let body = body_with_name(&name, &content);
            if cut {
                let n = at.index(body.len() + 1);
                body[..n].to_vec()
            } else {
                body
            }
        });
    prop_oneof![structured, prop::collection::vec(any::<u8>(), 0..600),]
}

fn property_app() -> (tokio::runtime::Runtime, TestApp, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = rt
        .block_on(TestApp::spawn_with(Backend::Sqlite, |c| {
            c.media.uploads_per_minute = 100_000;
        }))
        .expect("app");
    let (token, _) = rt.block_on(app.user("prop"));
    (rt, app, token)
}

fn runner() -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Whatever file name a client sends, the upload is stored under display text (the sanitiser's
/// fixed point: no separator, control character, leading dot, or more than 200 characters), or
/// refused as a client error; never a server error.
#[test]
fn any_uploaded_name_is_stored_as_display_text() {
    let (rt, app, token) = property_app();
    runner()
        .run(&hostile_name_bytes(), |raw| {
            let mut name = raw;
            name.extend_from_slice(b".txt");
            let r = rt.block_on(post_body(&app, &token, body_with_name(&name, b"hello\n")));
            match r.status {
                StatusCode::CREATED => {
                    let stored = r.body["name"].as_str().expect("name").to_owned();
                    prop_assert_eq!(sanitize_file_name(&stored), stored.clone());
                    prop_assert!(!stored.contains(['/', '\\']), "{stored:?}");
                    prop_assert!(!stored.chars().any(char::is_control), "{stored:?}");
                    prop_assert!(!stored.starts_with('.'), "{stored:?}");
                    prop_assert!(stored.chars().count() <= MAX_NAME_CHARS, "{stored:?}");
                }
                StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => {}
                other => prop_assert!(false, "{other}: {}", r.text),
            }
            Ok(())
        })
        .expect("property");
}

/// Cut, corrupted or random multipart bodies are client errors, never server errors, and the
/// server keeps answering.
#[test]
fn hostile_multipart_bodies_are_client_errors() {
    let (rt, app, token) = property_app();
    runner()
        .run(&hostile_body(), |body| {
            let r = rt.block_on(post_body(&app, &token, body));
            prop_assert!(!r.status.is_server_error(), "{}: {}", r.status, r.text);
            Ok(())
        })
        .expect("property");
    assert_eq!(rt.block_on(app.get("/health", None)).status, StatusCode::OK);
}
