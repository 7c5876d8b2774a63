//! `justus`: parse config, start, print where we serve, stop cleanly on SIGINT/SIGTERM.

use clap::Parser;
use clap::error::ErrorKind;
use justus_server::config::{Command, Config};
use std::process::ExitCode;

/// `eprintln!` without its panic when stderr cannot be written: the exit code still tells.
macro_rules! complain {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

fn main() -> ExitCode {
    return_large_blocks_to_os();
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        complain!("error: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    // `NAME_FILE` for each secret setting: read now, parsed below under `NAME` like any value.
    match justus_server::secret_files::read(|name| std::env::var_os(name)) {
        Ok(values) => {
            for (name, value) in values {
                // SAFETY: no other thread exists yet (the runtime starts below).
                unsafe { std::env::set_var(name, value) };
            }
        }
        Err(e) => {
            complain!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let config = match Config::try_parse() {
        Ok(c) => c,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line that names the setting, not clap's multi-line usage.
            let text = e.render().to_string();
            complain!(
                "{}",
                text.lines()
                    .next()
                    .unwrap_or("error: invalid configuration")
            );
            return ExitCode::from(2);
        }
    };
    // The value is never echoed: a refused secret may still be a real one.
    if let Err(e) = justus_server::secrets::check_configured(&config) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Some(command) = &config.command {
        return maintenance(command, &config);
    }
    // Before the trace exporter builds its HTTPS client.
    justus_server::tls::install_crypto_provider();
    // Held to the end: dropping it flushes the spans not yet exported.
    let _traces = match justus_server::telemetry::init_logging(&config.log, &config.log_format) {
        Ok(guard) => guard,
        Err(e) => {
            complain!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            complain!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            complain!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `justus backup` / `justus restore`: one line on success, one on failure.
fn maintenance(command: &Command, config: &Config) -> ExitCode {
    use justus_server::backup;
    let (done, verb) = match command {
        Command::Backup { file } => (backup::create(&config.data_dir, file), "backed up"),
        Command::Restore { file } => (backup::restore(file, &config.data_dir), "restored"),
        Command::Retention => return retention_report(config),
    };
    match done {
        Ok(s) => {
            justus_server::telemetry::say(&format!(
                "{verb} {} (database {} bytes, {} media files, {} bytes, signing secret: {})",
                config.data_dir.display(),
                s.database_bytes,
                s.media_files,
                s.media_bytes,
                if s.secret { "yes" } else { "no" }
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            complain!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `justus retention`: the dry run of the next purge, one line per room and a total.
fn retention_report(config: &Config) -> ExitCode {
    let report = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                let app = justus_server::build_state(config.clone()).await?;
                justus_server::retention::purge_once(&app, app.now(), true).await
            })
        });
    match report {
        Ok(r) => {
            for (room, n) in &r.by_room {
                justus_server::telemetry::say(&format!("room {room}: {n} messages"));
            }
            justus_server::telemetry::say(&format!(
                "the next purge removes {} messages in {} rooms (RETENTION_DAYS={}; rooms may keep less)",
                r.messages,
                r.rooms(),
                config.retention.days
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            complain!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Every password hash allocates 19 MiB (Argon2, `auth::password`). glibc raises its mmap
/// threshold to the size of the first such block freed, so later ones come from per-thread
/// arenas and stay resident: 100 sign-ups left ~860 MB RSS on an idle server. A fixed threshold
/// keeps blocks of 1 MiB and more in their own mappings, returned to the OS on free. An
/// operator's `MALLOC_MMAP_THRESHOLD_` wins.
fn return_large_blocks_to_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        commit = env!("JUSTUS_COMMIT"),
        "starting"
    );
    let server = justus_server::start(config).await?;
    // Never `println!`: it panics when stdout cannot be written (e.g. a full disk).
    justus_server::telemetry::say(&format!(
        "JustUs is serving on {}",
        server.state.config.display_url(server.addr)
    ));
    if let Some(m) = server.metrics_addr {
        justus_server::telemetry::say(&format!("Metrics on http://{m}/metrics"));
    }
    shutdown_signal().await;
    tracing::info!("shutting down: no new connections, finishing in-flight requests");
    server.shutdown().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
