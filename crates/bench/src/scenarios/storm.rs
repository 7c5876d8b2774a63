//! Connect storm: authenticated connects per second, then (when the bench owns the server) the
//! time for every socket to reconnect and resume after the server goes away: SIGTERM, respawn
//! on the same port, and each socket reconnects with jittered backoff, reads `ready`, and
//! fetches `/events?after=` for every room whose `last_seq` moved past what it had applied.

use crate::client::{self, Api};
use crate::provision;
use crate::stats;
use crate::target::Target;
use futures::StreamExt;
use futures::stream;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

fn have_from_ready(ready: &Value) -> HashMap<String, i64> {
    ready["rooms"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r["last_seq"].as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

pub struct Counters {
    resumed: AtomicU64,
    catchup_fetches: AtomicU64,
    failures: AtomicU64,
}

pub async fn run(
    target: &mut Target,
    api: &Api,
    connections: usize,
    rooms: usize,
    sockets_per_user: usize,
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<Value> {
    let spu = sockets_per_user.max(1);
    let rooms_n = rooms.clamp(1, connections.max(1));
    let per_room = connections.div_ceil(rooms_n);
    let setup = provision::rooms(api, rooms_n, per_room.div_ceil(spu)).await?;
    let tokens: Vec<String> = (0..connections)
        .map(|i| {
            let room = &setup[i % rooms_n];
            let j = i / rooms_n;
            room.members[(j / spu).min(room.members.len() - 1)]
                .token
                .clone()
        })
        .collect();
    eprintln!("connect-storm: provisioned, measuring");
    // Phase 1: the connect rate.
    let mut lat = stats::histogram();
    let t = Instant::now();
    // Completion order is not submission order: each result carries its own token.
    let results: Vec<anyhow::Result<(client::Ws, Value, u64, String)>> =
        stream::iter(tokens.iter().enumerate())
            .map(|(i, token)| async move {
                let t = Instant::now();
                let (ws, ready) = api
                    .connect(token, client::source_for(i, connections))
                    .await?;
                Ok((ws, ready, t.elapsed().as_micros() as u64, token.clone()))
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    let connect_secs = t.elapsed().as_secs_f64();
    let mut sockets = Vec::with_capacity(connections);
    for r in results {
        let (ws, ready, us, token) = r?;
        lat.saturating_record(us.max(1));
        sockets.push((ws, have_from_ready(&ready), token));
    }
    let mut out = json!({
        "connections": connections,
        "rooms": rooms_n,
        "connect_s": connect_secs,
        "connects_per_s": connections as f64 / connect_secs,
        "connect_latency": stats::summary(&lat),
    });
    if !target.can_restart() {
        out["reconnect"] =
            json!({"skipped": "needs --spawn (the server has no admin way to close all sockets)"});
        return Ok(out);
    }
    // Phase 2: every socket watches for the close, then reconnects and resumes.
    let counters = Arc::new(Counters {
        resumed: AtomicU64::new(0),
        catchup_fetches: AtomicU64::new(0),
        failures: AtomicU64::new(0),
    });
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(connections);
    for (i, (ws, have, token)) in sockets.into_iter().enumerate() {
        let api = api.clone();
        let counters = counters.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(resume_one(
            api,
            ws,
            have,
            token,
            i,
            connections,
            counters,
            gate,
            timeout,
        )));
    }
    let t = Instant::now();
    target.restart().await?;
    let restart_secs = t.elapsed().as_secs_f64();
    let deadline = t + timeout;
    while counters.resumed.load(Relaxed) + counters.failures.load(Relaxed) < connections as u64
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resume_secs = t.elapsed().as_secs_f64();
    for task in tasks {
        task.abort();
    }
    out["reconnect"] = json!({
        "server_restart_s": restart_secs,
        "all_resumed_s": resume_secs,
        "resumed": counters.resumed.load(Relaxed),
        "failed": counters.failures.load(Relaxed),
        "catchup_fetches": counters.catchup_fetches.load(Relaxed),
    });
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn resume_one(
    api: Api,
    mut ws: client::Ws,
    mut have: HashMap<String, i64>,
    token: String,
    i: usize,
    total: usize,
    counters: Arc<Counters>,
    gate: Arc<Semaphore>,
    timeout: Duration,
) {
    // Apply live events until the server goes away.
    while let Some(Ok(msg)) = ws.next().await {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg
            && let Some((room, seq)) = client::event_room_seq(t.as_str())
        {
            have.insert(room, seq);
        }
    }
    drop(ws);
    let deadline = Instant::now() + timeout;
    // Backoff 50 ms doubling, with per-socket jitter so the storm is spread like real clients'.
    let mut backoff = Duration::from_millis(50 + (i as u64 * 7919) % 100);
    loop {
        if Instant::now() > deadline {
            counters.failures.fetch_add(1, Relaxed);
            return;
        }
        tokio::time::sleep(backoff).await;
        let connected = {
            let _permit = gate.acquire().await;
            api.connect(&token, client::source_for(i, total)).await
        };
        match connected {
            Ok((ws, ready)) => {
                for (room, last) in have_from_ready(&ready) {
                    let mut after = have.get(&room).copied().unwrap_or(0);
                    while last > after {
                        counters.catchup_fetches.fetch_add(1, Relaxed);
                        let Ok((200, page)) = api
                            .get(
                                &format!("/api/v1/rooms/{room}/events?after={after}&limit=1000"),
                                &token,
                            )
                            .await
                        else {
                            counters.failures.fetch_add(1, Relaxed);
                            return;
                        };
                        let next = page["events"]
                            .as_array()
                            .and_then(|e| e.last())
                            .and_then(|e| e["seq"].as_i64())
                            .unwrap_or(last);
                        after = next.max(after + 1);
                        if page["has_more"] != true {
                            break;
                        }
                    }
                    have.insert(room, last);
                }
                counters.resumed.fetch_add(1, Relaxed);
                // Hold the socket until the scenario ends (the task is aborted then).
                let mut ws = ws;
                while let Some(Ok(_)) = ws.next().await {}
                return;
            }
            Err(_) => backoff = (backoff * 2).min(Duration::from_secs(2)),
        }
    }
}
