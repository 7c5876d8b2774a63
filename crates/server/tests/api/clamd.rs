//! Virus scanning against a real clamd that the test starts itself, with a one-line signature
//! database matching the EICAR test file: EICAR → 422 and nothing stored, a clean file → 201,
//! clamd gone → 503 (fail closed), clamd too slow → 503.
//!
//! clamd comes from Debian's `clamav-daemon` (`.ci/run` installs it); `CLAMD_BIN` overrides
//! the path. Without it the test is skipped outside CI and fails with `CI=true`.

use crate::helpers::*;
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The EICAR anti-virus test file (harmless by design).
const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// `md5:size:name` of [`EICAR`], as a ClamAV `.hdb` signature.
const EICAR_HDB: &str = "44d88612fea8a8f36de82e1278abb02f:68:JustUs-Test-EICAR\n";

fn clamd_bin() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("CLAMD_BIN").unwrap_or_else(|_| "/usr/sbin/clamd".into()));
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "clamd not found at {} (CI=true): install clamav-daemon",
            p.display()
        );
    }
    eprintln!(
        "clamd tests: SKIPPED — {} missing (apt-get install clamav-daemon)",
        p.display()
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

struct Clamd {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ping(port: u16) -> bool {
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if s.write_all(b"zPING\0").await.is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await,
        Ok(Ok(n)) if buf[..n].starts_with(b"PONG")
    )
}

async fn start_clamd(bin: &Path) -> Clamd {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    std::fs::create_dir(&db).unwrap();
    std::fs::write(db.join("justus-test.hdb"), EICAR_HDB).unwrap();
    let port = free_port();
    let conf = dir.path().join("clamd.conf");
    std::fs::write(
        &conf,
        format!(
            "Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\n\
             TemporaryDirectory {}\nPidFile {}\nLogFile {}\nLogVerbose no\n",
            db.display(),
            dir.path().display(),
            dir.path().join("clamd.pid").display(),
            dir.path().join("clamd.log").display(),
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg(format!("--config-file={}", conf.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start clamd");
    let mut clamd = Clamd {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ping(port).await {
        if let Ok(Some(status)) = clamd.child.try_wait() {
            let log =
                std::fs::read_to_string(clamd._dir.path().join("clamd.log")).unwrap_or_default();
            panic!("clamd exited ({status}): {log}");
        }
        assert!(Instant::now() < deadline, "clamd did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    clamd.port = port;
    clamd
}

async fn upload(app: &TestApp, token: &str, name: &str, content: &[u8]) -> Resp {
    let part = reqwest::multipart::Part::bytes(content.to_vec()).file_name(name.to_owned());
    TestApp::finish(
        app.client
            .post(format!("{}/api/v1/media", app.base))
            .bearer_auth(token)
            .multipart(reqwest::multipart::Form::new().part("file", part)),
    )
    .await
}

fn objects(app: &TestApp) -> usize {
    fn count(p: &Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&app._server.state.config.data_dir.join("media/objects"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clamd_scans_uploads_fail_closed() {
    let Some(bin) = clamd_bin() else { return };
    let clamd = start_clamd(&bin).await;
    let port = clamd.port;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.media.clamav_url = Some(format!("127.0.0.1:{port}"));
        c.media.clamav_timeout_seconds = 10;
    })
    .await
    .expect("app");
    let (ada, _) = app.user("ada").await;

    let r = upload(&app, &ada, "eicar.txt", EICAR).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "infected");
    assert_eq!(objects(&app), 0, "nothing stored for an infected file");

    let r = upload(&app, &ada, "clean.txt", b"just some notes").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(objects(&app), 1);

    let metrics = app.metrics().await;
    assert!(
        metrics.contains("media_scans_total{result=\"infected\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("media_scans_total{result=\"clean\"}"));

    // clamd stops: uploads fail closed.
    drop(clamd);
    let r = upload(&app, &ada, "clean2.txt", b"more notes").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.code(), "unavailable");
    assert_eq!(objects(&app), 1, "nothing stored while the scanner is down");
}

/// A scanner that accepts the connection but never answers: the timeout fails the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_scanner_times_out_with_503() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            // Read (and drop) whatever comes, never answer.
            let mut buf = vec![0u8; 65536];
            tokio::spawn(async move { while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {} });
        }
    });
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.media.clamav_url = Some(format!("127.0.0.1:{port}"));
        c.media.clamav_timeout_seconds = 1;
    })
    .await
    .expect("app");
    let (ada, _) = app.user("ada").await;
    let started = Instant::now();
    let r = upload(&app, &ada, "notes.txt", b"hello").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(objects(&app), 0);
    hold.abort();
}
