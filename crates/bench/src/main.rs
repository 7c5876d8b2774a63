//! `justus-bench`: see `justus-bench --help` and docs/performance.md.

use clap::Parser;
use justus_bench::cli::{self, Cli, Scenario};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Scenario::Serve = cli.scenario {
        return serve();
    }
    if let Some(cpu) = cli.global.cpu
        && let Err(e) = justus_bench::sys::pin_to_cpu(cpu)
    {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let nofile = justus_bench::sys::raise_nofile();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = Duration::from_secs(cli.global.max_seconds);
    let outcome = rt.block_on(async { tokio::time::timeout(bound, cli::run(&cli)).await });
    // Socket tasks may still be parked; do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(Ok(report)) => {
            eprintln!("{}", cli::summary(cli.scenario.name(), &report));
            println!("{}", cli::envelope(&cli, report, nofile));
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("error: run exceeded --max-seconds {}", bound.as_secs());
            ExitCode::FAILURE
        }
    }
}

/// The server, exactly as `justus` runs it (config from the environment), optionally pinned.
fn serve() -> ExitCode {
    if let Ok(cpu) = std::env::var("JUSTUS_BENCH_SERVER_CPU")
        && let Ok(cpu) = cpu.parse::<usize>()
        && let Err(e) = justus_bench::sys::pin_to_cpu(cpu)
    {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    justus_bench::sys::raise_nofile();
    let config = match <justus_server::config::Config as clap::Parser>::try_parse_from(["justus"]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "{}",
                e.render()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("bad config")
            );
            return ExitCode::from(2);
        }
    };
    // Before the trace exporter builds its HTTPS client.
    justus_server::tls::install_crypto_provider();
    let _traces = match justus_server::telemetry::init_logging(&config.log, &config.log_format) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<()> = rt.block_on(async {
        let server = justus_server::start(config).await?;
        println!("JustUs is serving on http://{}", server.addr);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
        server.shutdown().await
    });
    // Dropping the runtime ends every socket task, as a process exit would.
    rt.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
