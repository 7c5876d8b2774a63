//! A full disk under the data directory (a 12 MiB tmpfs): writes fail with 503 and readiness
//! says so; once space returns both recover without a restart.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A small tmpfs mounted for the test (root only); unmounted on drop.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    /// `None` (skip) when mounting is impossible here; with CI=true that is a failure.
    fn mount(size: &str) -> Option<SmallFs> {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(SmallFs { dir });
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "cannot mount a tmpfs for the disk-full test (CI=true: it must run; run as root)"
            );
        }
        eprintln!(
            "SKIPPED disk_full_*: cannot mount a tmpfs here (not root?); the disk-full case did not run"
        );
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system with one file until the first write fails; returns its path.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0xA5u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // Byte by byte for the last partial chunk, so nothing is left.
    while f.write_all(&[0xA5]).is_ok() {}
    path
}

async fn send(app: &TestApp, token: &str, room: &str, i: usize) -> StatusCode {
    app.post(
        &format!("/api/v1/rooms/{room}/messages"),
        Some(token),
        json!({"client_id": format!("disk-{i}"), "body": "x".repeat(3000)}),
    )
    .await
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_is_not_ready_and_recovers() {
    let Some(fs) = SmallFs::mount("12m") else {
        return;
    };
    let data = fs.path().to_path_buf();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.data_dir = data)
        .await
        .unwrap();
    let (token, _) = app.user("dora").await;
    let room = app.group(&token, "full").await;
    assert_eq!(send(&app, &token, &room, 0).await, StatusCode::CREATED);
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);

    let filler = fill(fs.path());
    // Sends fail once SQLite needs new space (the WAL may still have some room at first).
    let mut i = 1;
    loop {
        let status = send(&app, &token, &room, i).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert_eq!(status, StatusCode::CREATED);
        i += 1;
        assert!(i < 2000, "sends never failed on a full disk");
    }
    let ready = app.get("/ready", None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(
        ready.body,
        json!({"status": "unavailable"}),
        "no details in public"
    );
    let detailed = app.ops("/ready").await;
    let db = detailed.body["checks"]["database"]
        .as_str()
        .unwrap_or_default();
    assert!(db.starts_with("error"), "{}", detailed.text);
    // Reads still work: only writing is impossible.
    assert_eq!(
        app.get(&format!("/api/v1/rooms/{room}/messages"), Some(&token))
            .await
            .status,
        StatusCode::OK
    );

    std::fs::remove_file(&filler).expect("free the space");
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/ready", None).await.status != StatusCode::OK {
        assert!(
            Instant::now() < deadline,
            "readiness returns with the space"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        send(&app, &token, &room, i).await,
        StatusCode::CREATED,
        "sends resume"
    );
    assert_eq!(app.get("/ready", None).await.status, StatusCode::OK);
}
