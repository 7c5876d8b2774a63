//! The real `justus` binary: embedded defaults, one-line config errors, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn justus() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_justus"));
    for var in [
        "DATABASE_URL",
        "JWT_SECRET",
        "JWT_PREVIOUS_SECRETS",
        "JUSTUS_BIND",
        "JUSTUS_DATA_DIR",
        "PUBLIC_URL",
    ] {
        c.env_remove(var);
    }
    // The private metrics listener's default port could be taken by another test or process.
    c.env("METRICS_BIND", "127.0.0.1:0");
    c
}

/// Starts the server `cmd` describes (stdout piped) and waits for its "serving on" line: the
/// child and the URL it serves.
fn serve(cmd: &mut Command) -> (std::process::Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("JustUs is serving on ")
                .map(|u| u.trim().to_owned())
        })
        .expect("prints the URL it serves");
    (child, url)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// With stdout on a full disk (`/dev/full`: every write fails with ENOSPC) the server starts
/// and serves anyway; the lost lines are counted, and it still stops cleanly.
#[test]
fn a_full_stdout_is_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut child = justus()
        .current_dir(dir.path())
        .env("JUSTUS_BIND", format!("127.0.0.1:{port}"))
        .env("METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
        .env("JUSTUS_LOG", "info")
        .stdout(Stdio::from(full))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server died with stdout on a full disk: {status:?}");
        }
        let up = rt.block_on(async {
            let health = get(format!("http://127.0.0.1:{port}/health")).await.ok()?;
            if !health.status().is_success() {
                return None;
            }
            get(format!("http://127.0.0.1:{metrics_port}/metrics"))
                .await
                .ok()?
                .text()
                .await
                .ok()
        });
        if let Some(m) = up {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "never served");
        std::thread::sleep(Duration::from_millis(100));
    };
    let dropped = metrics
        .lines()
        .find(|l| l.starts_with("log_write_failures_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(dropped >= 1.0, "lost lines are counted:\n{metrics}");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit 0 after SIGTERM, got {status:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_setting_stops_startup_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("JUSTUS_BIND", "not-an-address"),
        ("DATABASE_URL", "mysql://nope"),
        ("JWT_SECRET", "too-short"),
    ] {
        let out = justus()
            .current_dir(dir.path())
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(var), "names the setting: {err}");
    }
}

/// A signing secret that was ever published (the old compose fallback, a test constant) or that
/// a person made up would let anyone mint tokens: start-up refuses it, without echoing it.
#[test]
fn published_or_guessable_signing_secret_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, why) in [
        (
            "JWT_SECRET",
            "change-me-change-me-change-me-change-me-0123",
            "published",
        ),
        (
            "JWT_SECRET",
            "test-secret-test-secret-test-secret-0123456789",
            "published",
        ),
        (
            "JWT_SECRET",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop",
            "guessable",
        ),
        ("JWT_SECRET", "too-short", "32 bytes"),
        (
            "JWT_PREVIOUS_SECRETS",
            "change-me-change-me-change-me-change-me-0123",
            "published",
        ),
    ] {
        let mut cmd = justus();
        cmd.current_dir(dir.path()).env(var, value);
        if var != "JWT_SECRET" {
            cmd.env("JWT_SECRET", random_secret());
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(var) && err.contains(why), "{err}");
        assert!(!err.contains(value), "never echoes the secret: {err}");
    }
    // The same holds for a weak secret written into the data dir's file.
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("data/jwt-secret"),
        "change-me-change-me-change-me-change-me-0123\n",
    )
    .unwrap();
    let out = justus()
        .current_dir(dir.path())
        .env("JUSTUS_BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jwt-secret") && err.contains("published"),
        "{err}"
    );
}

/// Secrets from files (`NAME_FILE`, the Docker/Kubernetes secrets convention): the file's
/// value is used (no secret generated in the data dir) and checked like the variable's; a
/// setting given both ways, or a file that cannot be read, stops start-up with one line that
/// names the variable and never shows the content.
#[test]
fn secrets_can_be_read_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("jwt-good");
    std::fs::write(&good, format!("{}\n", random_secret())).unwrap();
    // Serves with the secret from the file.
    let (mut child, url) = serve(
        justus()
            .current_dir(dir.path())
            .env("JUSTUS_BIND", "127.0.0.1:0")
            .env("JWT_SECRET_FILE", &good),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async { get(format!("{url}/health")).await.unwrap().status() });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(status, 200);
    assert!(
        !dir.path().join("data/jwt-secret").exists(),
        "the file's secret is used, none is generated"
    );

    let published = dir.path().join("jwt-published");
    std::fs::write(&published, "change-me-change-me-change-me-change-me-0123\n").unwrap();
    type Vars<'a> = &'a [(&'a str, &'a std::ffi::OsStr)];
    let cases: [(Vars, &[&str]); 3] = [
        (
            &[("JWT_SECRET_FILE", published.as_os_str())],
            &["JWT_SECRET", "published"],
        ),
        (
            &[
                ("JWT_SECRET_FILE", good.as_os_str()),
                ("JWT_SECRET", std::ffi::OsStr::new("x")),
            ],
            &["set JWT_SECRET or JWT_SECRET_FILE, not both"],
        ),
        (
            &[(
                "S3_SECRET_ACCESS_KEY_FILE",
                std::ffi::OsStr::new("/nonexistent/s3-key"),
            )],
            &["S3_SECRET_ACCESS_KEY_FILE: cannot read /nonexistent/s3-key"],
        ),
    ];
    for (vars, needles) in cases {
        let out = justus()
            .current_dir(dir.path())
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{needles:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            needles.iter().all(|n| err.contains(n)),
            "{needles:?}: {err}"
        );
        assert!(!err.contains("change-me"), "never echoes the secret: {err}");
    }
}

/// `--version` names the commit the binary was built from (the build script asks git, or takes
/// `JUSTUS_COMMIT`), so a bug report can say exactly what ran.
#[test]
fn version_names_the_commit() {
    let out = justus().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("justus {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    let commit = text
        .trim_end()
        .trim_end_matches(')')
        .rsplit('(')
        .next()
        .unwrap_or("");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // Built in this checkout: the commit is HEAD's (the build re-runs when HEAD moves).
        Some(head) => assert_eq!(commit, head, "{text}"),
        None => assert!(!commit.is_empty(), "{text}"),
    }
}

/// `justus backup FILE` next to a running server, then `justus restore FILE` into an empty
/// data dir: both exit 0 with one line, the restored dir has the database and the generated
/// signing secret (mode kept), and a second restore over it is refused.
#[test]
fn backup_and_restore_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = serve(
        justus()
            .current_dir(dir.path())
            .env("JUSTUS_BIND", "127.0.0.1:0"),
    );
    let archive = dir.path().join("nightly.tar");
    let out = justus()
        .current_dir(dir.path())
        .args(["backup", archive.to_str().unwrap()])
        .output()
        .unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("backed up ") && said.contains("signing secret: yes"),
        "{said}"
    );

    let target = dir.path().join("restored");
    let restore = |target: &std::path::Path| {
        justus()
            .current_dir(dir.path())
            .env("JUSTUS_DATA_DIR", target)
            .args(["restore", archive.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = restore(&target);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("restored "));
    assert!(target.join("justus.db").is_file());
    assert_eq!(
        std::fs::read(target.join("jwt-secret")).unwrap(),
        std::fs::read(dir.path().join("data/jwt-secret")).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(target.join("jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = restore(&target);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already has a database"), "{err}");
}

fn random_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[test]
fn starts_on_embedded_defaults_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(
        justus()
            .current_dir(dir.path())
            .env("JUSTUS_BIND", "127.0.0.1:0"),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async { get(format!("{url}/health")).await.unwrap().status() });
    assert_eq!(status, 200);
    // Secrets are generated in ./data with mode 0600, next to the SQLite database.
    let secret = dir.path().join("data/jwt-secret");
    assert!(dir.path().join("data/justus.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit 0 after SIGTERM, got {status:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server's own logs, at DEBUG for every target, through a session that touches every
/// kind of secret and personal text: none of it appears in any log line (issue 20, item 8).
#[test]
fn logs_never_hold_bodies_tokens_passwords_or_emails() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = justus()
        .env("JUSTUS_DATA_DIR", dir.path())
        .env("JUSTUS_BIND", "127.0.0.1:0")
        .env("JUSTUS_LOG", "debug")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let out = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("JustUs is serving on ") {
                let _ = tx.send(u.trim().to_owned());
            }
            out.lock().unwrap().push(line);
        }
    });
    let err = lines.clone();
    let err_reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            err.lock().unwrap().push(line);
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).expect("serving");
    let email = "lilac.hush@example.org";
    let password = "quietly watering the fern 41";
    let new_password = "the fern grew two leaves 77";
    let body = "zygomorphic marmalade confession";
    let edited = "zygomorphic marmalade, revised";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (secrets, user_id) = rt.block_on(async {
        justus_server::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let post = |path: &str, token: Option<&str>, json: serde_json::Value| {
            let mut req = http.post(format!("{url}/api/v1{path}")).json(&json);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send()
        };
        let json = |r: reqwest::Response| async move {
            let status = r.status();
            let v: serde_json::Value = r.json().await.unwrap_or_default();
            assert!(status.is_success(), "{status}: {v}");
            v
        };
        let reg = json(
            post(
                "/auth/register",
                None,
                serde_json::json!({"username": "lilac", "email": email, "password": password}),
            )
            .await
            .unwrap(),
        )
        .await;
        let access = reg["access_token"].as_str().unwrap().to_owned();
        let refresh = reg["refresh_token"].as_str().unwrap().to_owned();
        let user_id = reg["user"]["id"].as_str().unwrap().to_owned();
        // A wrong password and a login by e-mail.
        let wrong = post(
            "/auth/login",
            None,
            serde_json::json!({"login": email, "password": "not the fern at all 12"}),
        )
        .await
        .unwrap();
        assert_eq!(wrong.status(), 401);
        let login = json(
            post(
                "/auth/login",
                None,
                serde_json::json!({"login": email, "password": password}),
            )
            .await
            .unwrap(),
        )
        .await;
        let access2 = login["access_token"].as_str().unwrap().to_owned();
        let refreshed = json(
            post(
                "/auth/refresh",
                None,
                serde_json::json!({"refresh_token": refresh}),
            )
            .await
            .unwrap(),
        )
        .await;
        let refresh2 = refreshed["refresh_token"].as_str().unwrap().to_owned();
        let room = json(
            post(
                "/rooms",
                Some(&access2),
                serde_json::json!({"name": "Greenhouse"}),
            )
            .await
            .unwrap(),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let msg = json(
            post(
                &format!("/rooms/{room}/messages"),
                Some(&access2),
                serde_json::json!({"client_id": "c1", "body": body}),
            )
            .await
            .unwrap(),
        )
        .await;
        let id = msg["id"].as_str().unwrap().to_owned();
        let r = http
            .patch(format!("{url}/api/v1/rooms/{room}/messages/{id}"))
            .bearer_auth(&access2)
            .json(&serde_json::json!({"body": edited}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let r = http
            .get(format!("{url}/api/v1/search?q=zygomorphic"))
            .bearer_auth(&access2)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        // A forged token is refused (and the refusal logged without the token).
        let forged = format!("{access2}x");
        let r = http
            .get(format!("{url}/api/v1/users/me"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // A report's reason is the reporter's words about someone: never logged either.
        let moss = json(
            post(
                "/auth/register",
                None,
                serde_json::json!({"username": "moss", "password": "moss grows on the north side"}),
            )
            .await
            .unwrap(),
        )
        .await;
        let moss_id = moss["user"]["id"].as_str().unwrap().to_owned();
        let moss_token = moss["access_token"].as_str().unwrap().to_owned();
        json(
            post(
                &format!("/rooms/{room}/members"),
                Some(&access2),
                serde_json::json!({"user_id": moss_id}),
            )
            .await
            .unwrap(),
        )
        .await;
        let theirs = json(
            post(
                &format!("/rooms/{room}/messages"),
                Some(&moss_token),
                serde_json::json!({"client_id": "m1", "body": "perfectly ordinary remark"}),
            )
            .await
            .unwrap(),
        )
        .await;
        json(
            post(
                "/reports",
                Some(&access2),
                serde_json::json!({"room_id": room, "message_id": theirs["id"], "reason": "quixotic xylophone grievance"}),
            )
            .await
            .unwrap(),
        )
        .await;
        let r = post(
            "/users/me/password",
            Some(&access2),
            serde_json::json!({"current_password": password, "new_password": new_password}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let secrets = vec![
            email.to_owned(),
            "lilac.hush".to_owned(),
            password.to_owned(),
            new_password.to_owned(),
            "not the fern at all".to_owned(),
            body.to_owned(),
            edited.to_owned(),
            "zygomorphic".to_owned(),
            "perfectly ordinary remark".to_owned(),
            "quixotic xylophone".to_owned(),
            access,
            access2,
            refresh,
            refresh2,
        ];
        (secrets, user_id)
    });
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    err_reader.join().unwrap();
    let lines = lines.lock().unwrap();
    assert!(
        lines.len() > 20,
        "DEBUG logging wrote lines to check: {}",
        lines.len()
    );
    assert!(lines.iter().any(|l| l.contains("request finished")));
    // The lines do carry the request context: the user's id, which is not a secret.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("\"user_id\":\"{user_id}\""))),
        "request lines name the user"
    );
    for secret in &secrets {
        // An access token's signature (its third part) is what must never appear; anything
        // else, whole.
        let parts: Vec<&str> = secret.split('.').collect();
        let needle = if parts.len() == 3 && secret.len() > 100 {
            parts[2]
        } else {
            secret.as_str()
        };
        if let Some(l) = lines.iter().find(|l| l.contains(needle)) {
            panic!("a log line holds {secret:?}: {l}");
        }
    }
}

/// `reqwest::get` after installing the TLS provider (reqwest is built without a bundled one;
/// see `justus_server::tls`).
async fn get(url: String) -> reqwest::Result<reqwest::Response> {
    justus_server::tls::install_crypto_provider();
    reqwest::get(url).await
}
