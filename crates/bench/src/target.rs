//! The server under test: either attached (`--url`, optionally `--server-pid`) or spawned
//! (`--spawn`): a child process serving a fresh temp data dir with limits raised for load,
//! which can also be restarted (SIGTERM + respawn on the same port) for the reconnect storm.

use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to start a server child.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    /// `justus` or `justus-bench` (then run with `serve`).
    pub bin: PathBuf,
    /// CPU to pin the server to (`JUSTUS_BENCH_SERVER_CPU`, or `taskset` for `justus`).
    pub cpu: Option<usize>,
    /// Extra environment (e.g. SQLITE_SYNCHRONOUS, DATABASE_URL).
    pub env: Vec<(String, String)>,
    pub sockets_per_user: u32,
}

pub struct Spawned {
    spec: SpawnSpec,
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

pub enum Target {
    Attached { urls: Vec<String>, pid: Option<u32> },
    Spawned(Box<Spawned>),
}

impl Target {
    pub fn url(&self) -> String {
        match self {
            Target::Attached { urls, .. } => urls.first().cloned().unwrap_or_default(),
            Target::Spawned(s) => format!("http://127.0.0.1:{}", s.port),
        }
    }

    pub fn urls(&self) -> Vec<String> {
        match self {
            Target::Attached { urls, .. } => urls.clone(),
            Target::Spawned(_) => vec![self.url()],
        }
    }

    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::Attached { pid, .. } => *pid,
            Target::Spawned(s) => s.child.id(),
        }
    }

    pub fn can_restart(&self) -> bool {
        matches!(self, Target::Spawned(_))
    }

    /// SIGTERM, wait for exit, start again on the same port and data dir.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.while_stopped(|| ()).await
    }

    /// Stops the spawned server (SIGTERM, wait for exit), runs `f`, then starts the server
    /// again on the same port and data dir.
    pub async fn while_stopped<T>(&mut self, f: impl FnOnce() -> T) -> anyhow::Result<T> {
        let Target::Spawned(s) = self else {
            bail!("restart needs --spawn");
        };
        s.stop().await?;
        let out = f();
        let (child, port) = start_child(&s.spec, s.dir.path(), s.port).await?;
        s.child = child;
        s.port = port;
        Ok(out)
    }

    /// The spawned server's database file when it runs on the embedded SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Target::Spawned(s) if !s.spec.env.iter().any(|(k, _)| k == "DATABASE_URL") => {
                Some(s.dir.path().join("justus.db"))
            }
            _ => None,
        }
    }

    pub async fn stop(self) {
        if let Target::Spawned(mut s) = self {
            let _ = s.stop().await;
        }
    }
}

impl Spawned {
    pub async fn start(spec: SpawnSpec) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("justus-bench-")
            .tempdir()
            .context("cannot create a temp data dir")?;
        let (child, port) = start_child(&spec, dir.path(), 0).await?;
        Ok(Self {
            spec,
            dir,
            child,
            port,
        })
    }

    async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            // SIGTERM: the server's graceful path, like an operator's restart.
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await {
            Ok(r) => {
                r?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

async fn start_child(
    spec: &SpawnSpec,
    dir: &std::path::Path,
    port: u16,
) -> anyhow::Result<(Child, u16)> {
    let is_bench = spec
        .bin
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("justus-bench"));
    let mut cmd = if is_bench {
        let mut c = Command::new(&spec.bin);
        c.arg("serve");
        if let Some(cpu) = spec.cpu {
            c.env("JUSTUS_BENCH_SERVER_CPU", cpu.to_string());
        }
        c
    } else if let Some(cpu) = spec.cpu {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(cpu.to_string()).arg(&spec.bin);
        c
    } else {
        Command::new(&spec.bin)
    };
    cmd.env("JUSTUS_BIND", format!("127.0.0.1:{port}"))
        .env("JUSTUS_DATA_DIR", dir)
        // The server generates its secret into the data dir, which a restart reuses, so
        // tokens stay valid across it.
        .env_remove("JWT_SECRET")
        .env_remove("JWT_PREVIOUS_SECRETS")
        .env("REGISTER_PER_IP_PER_HOUR", "100000000")
        .env(
            "GATEWAY_MAX_SOCKETS_PER_USER",
            spec.sockets_per_user.clamp(1, 1000).to_string(),
        )
        .env("GATEWAY_REQUESTS_PER_SECOND", "100000")
        .env("ROOM_MAX_MEMBERS", "100000")
        .env("SHUTDOWN_GRACE_SECONDS", "1")
        // Connection caps are sized for real clients; the bench opens up to 25,000 sockets per
        // source address and connects them in bursts (issue 14).
        .env("MAX_CONNECTIONS", "0")
        .env("MAX_CONNECTIONS_PER_IP", "0")
        .env("GATEWAY_MAX_UNAUTHENTICATED", "0")
        .env("GATEWAY_MAX_UNAUTHENTICATED_PER_IP", "0")
        .env("HTTP_MAX_IN_FLIGHT", "0")
        // A restarted server must not collide with itself or another run on the metrics port.
        .env("METRICS_BIND", "off")
        .env("JUSTUS_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("PUBLIC_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        // Run from the data dir so no stray `.env` of the caller's directory is read.
        .current_dir(dir);
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", spec.bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .context("server did not start within 60 s")??
        .context("server exited before serving")?;
    // "JustUs is serving on http://127.0.0.1:PORT"
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse::<u16>().ok())
        .with_context(|| format!("unexpected start line: {line}"))?;
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, port))
}
