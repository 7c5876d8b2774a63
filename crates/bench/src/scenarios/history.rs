//! History: seed N messages across R rooms (through the gateway, many sends in flight), then
//! time `messages?before=` and `/events?after=` pages at random positions, cold (right after a
//! server restart when the bench owns the server, so the server's caches are empty; the OS page
//! cache is not dropped) and warm (the same queries again).

use crate::client::Api;
use crate::provision::{self, Rng};
use crate::scenarios::durable;
use crate::stats;
use crate::target::Target;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

pub struct Params {
    pub messages: u64,
    pub rooms: usize,
    pub queries: usize,
    pub window: usize,
    pub seed_timeout: Duration,
}

pub async fn run(target: &mut Target, p: &Params) -> anyhow::Result<Value> {
    let api = Api::new(&target.url()).await?;
    let rooms = provision::rooms(&api, p.rooms.max(1), 0).await?;
    // Seed: one sender socket per room, `window` sends in flight each.
    let totals = Arc::new(durable::Totals::default());
    let per_room = p.messages.div_ceil(rooms.len() as u64);
    let t = Instant::now();
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
    let seed_secs = t.elapsed().as_secs_f64();
    let seeded = totals.acked.load(Relaxed);
    let restarted = if target.can_restart() {
        target.restart().await?;
        true
    } else {
        false
    };
    let api = Api::new(&target.url()).await?;
    let cold = pass(&api, &rooms, per_room as i64, p.queries, 7).await?;
    let warm = pass(&api, &rooms, per_room as i64, p.queries, 7).await?;
    Ok(json!({
        "messages": seeded,
        "rooms": rooms.len(),
        "seed_s": seed_secs,
        "seed_msgs_per_s": seeded as f64 / seed_secs,
        "cold_after_restart": restarted,
        "cold": cold,
        "warm": warm,
    }))
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
