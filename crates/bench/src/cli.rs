//! Command line: global server options and one subcommand per scenario.

use crate::client::Api;
use crate::scenarios::{cross, durable, fanout, history, idle, storm};
use crate::target::{SpawnSpec, Spawned, Target};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "justus-bench",
    version,
    about = "Benchmarks for JustUs over its own protocol."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub scenario: Scenario,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Server to attach to (repeat for cross-instance). Ignored with --spawn.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    pub url: Vec<String>,
    /// Start a server child in a temp data dir with load limits raised (and restartable).
    #[arg(long, global = true)]
    pub spawn: bool,
    /// Server binary for --spawn: `justus`, or a `justus-bench` (run as `serve`). Default: this binary.
    #[arg(long, global = true)]
    pub server_bin: Option<PathBuf>,
    /// Pin the spawned server to this CPU.
    #[arg(long, global = true)]
    pub server_cpu: Option<usize>,
    /// PID of an attached server, to read its CPU time and RSS from /proc.
    #[arg(long, global = true)]
    pub server_pid: Option<u32>,
    /// Pin the bench itself to this CPU.
    #[arg(long, global = true)]
    pub cpu: Option<usize>,
    /// Database of a spawned server.
    #[arg(long, global = true, value_enum, default_value_t = Backend::SqliteFull)]
    pub backend: Backend,
    /// Sockets per user (a spawned server's GATEWAY_MAX_SOCKETS_PER_USER; ≤ an attached server's).
    #[arg(long, global = true, default_value_t = 100)]
    pub sockets_per_user: usize,
    /// Hard bound on the whole run, in seconds.
    #[arg(long, global = true, default_value_t = 600)]
    pub max_seconds: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    SqliteFull,
    SqliteNormal,
    Postgres,
}

#[derive(Args, Debug, Clone)]
pub struct FanoutArgs {
    #[arg(long, default_value_t = 1000)]
    pub connections: usize,
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    #[arg(long, default_value_t = 10)]
    pub senders: usize,
    /// Messages per second per sender (the first step with --find-saturation).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of sending (per step).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Step the rate up ×1.5 until p99 exceeds --p99-limit-ms or a delivery is lost.
    #[arg(long)]
    pub find_saturation: bool,
    #[arg(long, default_value_t = 12)]
    pub max_steps: usize,
    #[arg(long, default_value_t = 50.0)]
    pub p99_limit_ms: f64,
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
}

#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// C sockets over R rooms, S senders at a fixed rate: latency, loss, duplicates, CPU.
    Fanout(FanoutArgs),
    /// Server RSS before and after C authenticated idle sockets.
    IdleMemory {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 64)]
        connect_concurrency: usize,
    },
    /// Authenticated connects/s; reconnect + resume time after a server restart (--spawn).
    ConnectStorm {
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        #[arg(long, default_value_t = 100)]
        rooms: usize,
        #[arg(long, default_value_t = 256)]
        connect_concurrency: usize,
        /// Give up on the reconnect after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Concurrent senders: durable acks/s and ack latency.
    DurableSends {
        #[arg(long, default_value_t = 64)]
        senders: usize,
        #[arg(long, default_value_t = 64)]
        rooms: usize,
        /// Sends in flight per sender socket.
        #[arg(long, default_value_t = 1)]
        window: usize,
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
    },
    /// Seed N messages, then p50/p99 of history and catch-up pages, cold and warm.
    History {
        #[arg(long, default_value_t = 100_000)]
        messages: u64,
        #[arg(long, default_value_t = 10)]
        rooms: usize,
        #[arg(long, default_value_t = 200)]
        queries: usize,
        #[arg(long, default_value_t = 32)]
        window: usize,
        /// How the messages get there: through the gateway, or appended to the spawned
        /// server's SQLite file while it is stopped (fast; needs --spawn on SQLite).
        #[arg(long, value_enum, default_value_t = history::Seed::Gateway)]
        seed: history::Seed,
        /// Cold + warm passes on the same seed, each after a server restart.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// Drop the OS page cache before each cold pass (needs root; reported in the JSON).
        #[arg(long)]
        drop_caches: bool,
    },
    /// Fan-out latency with receivers on a second instance (two --url, shared DB + Redis).
    CrossInstance(FanoutArgs),
    /// Run the JustUs server from this binary (what --spawn starts); configured by env like `justus`.
    #[command(hide = true)]
    Serve,
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        match self {
            Scenario::Fanout(_) => "fanout",
            Scenario::IdleMemory { .. } => "idle-memory",
            Scenario::ConnectStorm { .. } => "connect-storm",
            Scenario::DurableSends { .. } => "durable-sends",
            Scenario::History { .. } => "history",
            Scenario::CrossInstance(_) => "cross-instance",
            Scenario::Serve => "serve",
        }
    }
}

fn fanout_params(a: &FanoutArgs, g: &Global) -> fanout::Params {
    fanout::Params {
        connections: a.connections,
        rooms: a.rooms,
        senders: a.senders,
        rate: a.rate,
        duration: Duration::from_secs_f64(a.duration.max(0.1)),
        sockets_per_user: g.sockets_per_user,
        find_saturation: a.find_saturation,
        max_steps: a.max_steps,
        p99_limit_ms: a.p99_limit_ms,
        connect_concurrency: a.connect_concurrency,
    }
}

async fn target(g: &Global) -> anyhow::Result<Target> {
    if !g.spawn {
        if g.backend != Backend::SqliteFull {
            bail!("--backend applies to --spawn; configure an attached server yourself");
        }
        return Ok(Target::Attached {
            urls: g.url.clone(),
            pid: g.server_pid,
        });
    }
    let bin = match &g.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("cannot find this binary")?,
    };
    let mut env = Vec::new();
    match g.backend {
        Backend::SqliteFull => env.push(("SQLITE_SYNCHRONOUS".into(), "full".into())),
        Backend::SqliteNormal => env.push(("SQLITE_SYNCHRONOUS".into(), "normal".into())),
        Backend::Postgres => {
            let url = justus_store_postgres::testing::fresh_database_url()
                .await
                .context("PostgreSQL unreachable (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres)")?;
            env.push(("DATABASE_URL".into(), url));
            env.push(("DATABASE_MAX_CONNECTIONS".into(), "32".into()));
        }
    }
    let spec = SpawnSpec {
        bin,
        cpu: g.server_cpu,
        env,
        sockets_per_user: g.sockets_per_user as u32,
    };
    Ok(Target::Spawned(Box::new(Spawned::start(spec).await?)))
}

/// Runs one scenario to completion and returns its report (without the envelope).
pub async fn run(cli: &Cli) -> anyhow::Result<Value> {
    let g = &cli.global;
    let mut target = target(g).await?;
    let api = Api::new(&target.url()).await?;
    let pid = target.pid();
    let result = match &cli.scenario {
        Scenario::Fanout(a) => fanout::run(&api, &api, &fanout_params(a, g), pid).await,
        Scenario::IdleMemory {
            connections,
            connect_concurrency,
        } => {
            idle::run(
                &api,
                *connections,
                g.sockets_per_user,
                *connect_concurrency,
                pid,
            )
            .await
        }
        Scenario::ConnectStorm {
            connections,
            rooms,
            connect_concurrency,
            timeout,
        } => {
            storm::run(
                &mut target,
                &api,
                *connections,
                *rooms,
                g.sockets_per_user,
                *connect_concurrency,
                Duration::from_secs(*timeout),
            )
            .await
        }
        Scenario::DurableSends {
            senders,
            rooms,
            window,
            duration,
        } => {
            durable::run(
                &api,
                *senders,
                *rooms,
                *window,
                Duration::from_secs_f64(duration.max(0.1)),
                g.sockets_per_user,
                pid,
            )
            .await
        }
        Scenario::History {
            messages,
            rooms,
            queries,
            window,
            seed,
            rounds,
            drop_caches,
        } => {
            history::run(
                &mut target,
                &history::Params {
                    messages: *messages,
                    rooms: *rooms,
                    queries: *queries,
                    window: *window,
                    seed_timeout: Duration::from_secs(g.max_seconds),
                    seed: *seed,
                    rounds: *rounds,
                    drop_caches: *drop_caches,
                },
            )
            .await
        }
        Scenario::CrossInstance(a) => {
            let urls = target.urls();
            if urls.len() < 2 {
                bail!("cross-instance needs two --url (instances sharing DB + Redis)");
            }
            let b = Api::new(&urls[1]).await?;
            cross::run(&api, &b, &fanout_params(a, g), pid).await
        }
        Scenario::Serve => bail!("serve is handled by main"),
    };
    target.stop().await;
    result
}

/// The one-line stderr summary.
pub fn summary(name: &str, r: &Value) -> String {
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x:.2}"));
    match name {
        "fanout" => {
            let s = if r["saturation"].is_null() {
                &r["result"]
            } else {
                &r["saturation"]
            };
            format!(
                "fanout: {} deliveries/s, p50 {} ms, p99 {} ms, max {} ms, lost {}, dup {}, server CPU-s/M {}",
                f(&s["deliveries_per_s"]),
                f(&s["latency"]["p50_ms"]),
                f(&s["latency"]["p99_ms"]),
                f(&s["latency"]["max_ms"]),
                s["lost"],
                s["duplicates"],
                f(&s["server"]["server_cpu_s_per_million_deliveries"]),
            )
        }
        "idle-memory" => format!(
            "idle-memory: {} sockets, {} KiB/socket (RSS {} → {} KiB)",
            r["connections"],
            f(&r["kib_per_socket"]),
            r["rss_before_kib"],
            r["rss_after_kib"]
        ),
        "connect-storm" => format!(
            "connect-storm: {} connects/s; all {} resumed in {} s",
            f(&r["connects_per_s"]),
            r["connections"],
            f(&r["reconnect"]["all_resumed_s"])
        ),
        "durable-sends" => format!(
            "durable-sends: {} acks/s, ack p50 {} ms, p99 {} ms, errors {}",
            f(&r["acks_per_s"]),
            f(&r["ack_latency"]["p50_ms"]),
            f(&r["ack_latency"]["p99_ms"]),
            r["errors"]
        ),
        "history" => format!(
            "history: {} msgs; median of {} rounds: before= p50/p99 cold {}/{} warm {}/{} ms; after= warm {}/{} ms",
            r["messages"],
            r["rounds"].as_array().map_or(0, Vec::len),
            f(&r["median_of_rounds"]["cold"]["messages_before"]["p50_ms"]),
            f(&r["median_of_rounds"]["cold"]["messages_before"]["p99_ms"]),
            f(&r["median_of_rounds"]["warm"]["messages_before"]["p50_ms"]),
            f(&r["median_of_rounds"]["warm"]["messages_before"]["p99_ms"]),
            f(&r["median_of_rounds"]["warm"]["events_after"]["p50_ms"]),
            f(&r["median_of_rounds"]["warm"]["events_after"]["p99_ms"]),
        ),
        "cross-instance" => format!(
            "cross-instance: added p50 {} ms, p99 {} ms",
            f(&r["added_p50_ms"]),
            f(&r["added_p99_ms"])
        ),
        _ => name.to_owned(),
    }
}

/// Wraps a report with what identifies the run.
pub fn envelope(cli: &Cli, report: Value, nofile: u64) -> Value {
    json!({
        "scenario": cli.scenario.name(),
        "machine": crate::sys::machine(),
        "bench_cpu": cli.global.cpu,
        "server_cpu": cli.global.server_cpu,
        "backend": format!("{:?}", cli.global.backend),
        "spawned": cli.global.spawn,
        "nofile_limit": nofile,
        // The bench's own CPU time: a saturated bench would make server figures meaningless.
        "bench_cpu_seconds": crate::sys::sample(std::process::id()).map(|s| s.cpu_seconds).ok(),
        "report": report,
    })
}
