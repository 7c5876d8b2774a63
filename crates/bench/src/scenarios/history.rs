//! History: seed N messages across R rooms, then time `messages?before=` and `/events?after=`
//! pages at random positions, cold (right after a server restart when the bench owns the
//! server, so the server's caches are empty; with `--drop-caches` the OS page cache too) and
//! warm (the same queries again), `rounds` times on the same seed.
//!
//! Seeding: `gateway` sends every message through the gateway (many in flight); `bulk` stops a
//! spawned SQLite server and appends the rows straight to its file
//! (`justus_store_sqlite::bulk`), which is the only way to reach 10M messages in minutes.

use crate::client::Api;
use crate::provision::{self, Rng};
use crate::scenarios::durable;
use crate::stats;
use crate::target::Target;
use anyhow::{Context, anyhow, bail};
use justus_core::{RoomId, UserId};
use justus_store_sqlite::bulk::{self, SeedRoom};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Seed {
    Gateway,
    Bulk,
}

pub struct Params {
    pub messages: u64,
    pub rooms: usize,
    pub queries: usize,
    pub window: usize,
    pub seed_timeout: Duration,
    pub seed: Seed,
    pub rounds: usize,
    pub drop_caches: bool,
}

pub async fn run(target: &mut Target, p: &Params) -> anyhow::Result<Value> {
    let api = Api::new(&target.url()).await?;
    let rooms = provision::rooms(&api, p.rooms.max(1), 0).await?;
    let per_room = p.messages.div_ceil(rooms.len() as u64);
    let t = Instant::now();
    let seeded = match p.seed {
        Seed::Gateway => seed_gateway(&api, &rooms, per_room, p).await?,
        Seed::Bulk => seed_bulk(target, &rooms, per_room).await?,
    };
    let seed_secs = t.elapsed().as_secs_f64();
    let db_bytes = target
        .sqlite_path()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    let mut rounds = Vec::new();
    let restarted = target.can_restart();
    let mut dropped = false;
    for round in 0..p.rounds.max(1) {
        if restarted {
            let drop_caches = p.drop_caches;
            dropped = target
                .while_stopped(|| drop_caches && drop_os_cache())
                .await?;
        }
        let api = Api::new(&target.url()).await?;
        let seed = 7 + round as u64;
        let cold = pass(&api, &rooms, per_room as i64, p.queries, seed).await?;
        let warm = pass(&api, &rooms, per_room as i64, p.queries, seed).await?;
        rounds.push(json!({"cold": cold, "warm": warm}));
    }
    let median = |pass: &str, kind: &str, q: &str| {
        let mut v: Vec<f64> = rounds
            .iter()
            .filter_map(|r| r[pass][kind][q].as_f64())
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let mut medians = json!({});
    for pass in ["cold", "warm"] {
        for kind in ["messages_before", "events_after"] {
            for q in ["p50_ms", "p99_ms"] {
                medians[pass][kind][q] = json!(median(pass, kind, q));
            }
        }
    }
    Ok(json!({
        "messages": seeded,
        "rooms": rooms.len(),
        "seed": format!("{:?}", p.seed).to_lowercase(),
        "seed_s": seed_secs,
        "seed_msgs_per_s": seeded as f64 / seed_secs,
        "db_bytes": db_bytes,
        "cold_after_restart": restarted,
        "os_cache_dropped": dropped,
        "cold": rounds[0]["cold"],
        "warm": rounds[0]["warm"],
        "rounds": rounds,
        "median_of_rounds": medians,
    }))
}

/// One sender socket per room, `window` sends in flight each.
async fn seed_gateway(
    api: &Api,
    rooms: &[provision::Room],
    per_room: u64,
    p: &Params,
) -> anyhow::Result<u64> {
    let totals = Arc::new(durable::Totals::default());
    let mut tasks = Vec::new();
    for (i, room) in rooms.iter().enumerate() {
        let (ws, _) = api.connect(&room.owner.token, None).await?;
        tasks.push(tokio::spawn(durable::sender(
            ws,
            room.id.clone(),
            i as u32,
            p.window,
            Some(per_room),
            Instant::now() + p.seed_timeout,
            totals.clone(),
        )));
    }
    for task in tasks {
        task.await??;
    }
    Ok(totals.acked.load(Relaxed))
}

/// Stops the spawned server and appends the rows to its SQLite file.
async fn seed_bulk(
    target: &mut Target,
    rooms: &[provision::Room],
    per_room: u64,
) -> anyhow::Result<u64> {
    let Some(path) = target.sqlite_path() else {
        bail!("--seed bulk needs --spawn on SQLite (it writes the server's database file)");
    };
    let seeds = rooms
        .iter()
        .map(|r| {
            Ok(SeedRoom {
                room: RoomId(r.id.parse().context("room id")?),
                sender: UserId(r.owner.user_id.parse().context("user id")?),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let total = per_room * seeds.len() as u64;
    let t = Instant::now();
    let written = target
        .while_stopped(|| {
            bulk::seed_messages(&path, &seeds, per_room, |n| {
                if n % 1_000_000 == 0 || n == total {
                    eprintln!(
                        "history: seeded {n}/{total} ({:.0} msgs/s)",
                        n as f64 / t.elapsed().as_secs_f64()
                    );
                }
            })
        })
        .await?
        .map_err(|e| anyhow!("bulk seed: {e}"))?;
    Ok(written)
}

/// Drops the OS page cache (needs root); says whether it did.
fn drop_os_cache() -> bool {
    // Dirty pages are written first, or dropping would keep them.
    let synced = std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "1").is_ok()
}

/// One pass of `queries` pages of each kind at pseudo-random positions (same seed: same pages).
async fn pass(
    api: &Api,
    rooms: &[provision::Room],
    per_room: i64,
    queries: usize,
    seed: u64,
) -> anyhow::Result<Value> {
    let mut rng = Rng::new(seed);
    let (mut before_h, mut after_h) = (stats::histogram(), stats::histogram());
    let mut bad = 0u64;
    let mut items = 0u64;
    for _ in 0..queries {
        let room = &rooms[rng.below(rooms.len() as u64) as usize];
        // Room seqs start after the owner's room.created/member events; positions are approximate.
        let pos = 1 + rng.below(per_room.max(1) as u64) as i64;
        for (path, h, key) in [
            (
                format!("/api/v1/rooms/{}/messages?before={pos}&limit=50", room.id),
                &mut before_h,
                "messages",
            ),
            (
                format!("/api/v1/rooms/{}/events?after={pos}&limit=200", room.id),
                &mut after_h,
                "events",
            ),
        ] {
            let t = Instant::now();
            let (status, v) = api.get(&path, &room.owner.token).await?;
            h.saturating_record(t.elapsed().as_micros() as u64);
            if status != 200 {
                bad += 1;
            }
            items += v[key].as_array().map_or(0, |a| a.len() as u64);
        }
    }
    Ok(json!({
        "queries": queries,
        "non_200": bad,
        "items": items,
        "messages_before": stats::summary(&before_h),
        "events_after": stats::summary(&after_h),
    }))
}
