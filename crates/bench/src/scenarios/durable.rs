//! Durable sends: many concurrent senders, each with a window of sends in flight; an ack means
//! the message is committed. Reports acks/s and ack latency.

use crate::client::{self, Api};
use crate::provision;
use crate::stats::{self, Latencies};
use anyhow::Context;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Default)]
pub struct Totals {
    pub acked: AtomicU64,
    pub errors: AtomicU64,
    pub lat: Latencies,
}

/// Keeps `window` sends in flight on one socket until `stop_after` messages or `until`.
pub async fn sender(
    ws: client::Ws,
    room: String,
    me: u32,
    window: usize,
    stop_after: Option<u64>,
    until: Instant,
    totals: Arc<Totals>,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = ws.split();
    let mut inflight: HashMap<u64, u64> = HashMap::new();
    let mut seq = 0u64;
    loop {
        let more = Instant::now() < until && stop_after.is_none_or(|n| seq < n);
        while more && inflight.len() < window.max(1) && stop_after.is_none_or(|n| seq < n) {
            let t = stats::now_ns();
            sink.send(Message::text(client::send_frame(seq, &room, 0, me, seq, t)))
                .await?;
            inflight.insert(seq, t);
            seq += 1;
        }
        if inflight.is_empty() {
            return Ok(());
        }
        let msg = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .context("no ack within 30 s")?
            .context("socket closed")??;
        let Message::Text(t) = msg else { continue };
        let t = t.as_str();
        let is_ack = t.starts_with(r#"{"op":"ack""#);
        if !is_ack && !t.starts_with(r#"{"op":"error""#) {
            continue;
        }
        let Some(id) = t
            .find(r#""id":""#)
            .and_then(|i| t[i + 6..].split('"').next())
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        if let Some(sent) = inflight.remove(&id) {
            if is_ack {
                totals.acked.fetch_add(1, Relaxed);
                totals
                    .lat
                    .record_us(me as usize, (stats::now_ns() - sent) / 1000);
            } else {
                totals.errors.fetch_add(1, Relaxed);
            }
        }
    }
}

pub async fn run(
    api: &Api,
    senders: usize,
    rooms: usize,
    window: usize,
    duration: Duration,
    sockets_per_user: usize,
    pid: Option<u32>,
) -> anyhow::Result<Value> {
    let rooms_n = rooms.clamp(1, senders.max(1));
    anyhow::ensure!(
        senders.div_ceil(rooms_n) <= sockets_per_user.max(1),
        "senders per room exceed --sockets-per-user"
    );
    let setup = provision::rooms(api, rooms_n, 0).await?;
    let mut sockets = Vec::with_capacity(senders);
    for s in 0..senders {
        let room = &setup[s % rooms_n];
        let (ws, _) = api.connect(&room.owner.token, None).await?;
        sockets.push((ws, room.id.clone()));
    }
    let totals = Arc::new(Totals::default());
    // Profiling scripts wait for this line to start counting (scripts/profile.sh).
    eprintln!("durable-sends: provisioned, measuring for {:?}", duration);
    let before = pid.map(crate::sys::sample).transpose()?;
    let t = Instant::now();
    let until = t + duration;
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, (ws, room))| {
            tokio::spawn(sender(
                ws,
                room,
                i as u32,
                window,
                None,
                until,
                totals.clone(),
            ))
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        if !matches!(task.await, Ok(Ok(()))) {
            failed += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let after = pid.map(crate::sys::sample).transpose()?;
    let acked = totals.acked.load(Relaxed);
    let h = totals.lat.merged();
    Ok(json!({
        "senders": senders,
        "rooms": rooms_n,
        "window": window,
        "duration_s": secs,
        "acked": acked,
        "errors": totals.errors.load(Relaxed),
        "failed_senders": failed,
        "acks_per_s": acked as f64 / secs,
        "ack_latency": stats::summary(&h),
        "server_cpu_seconds": match (before, after) { (Some(b), Some(a)) => json!(a.cpu_seconds - b.cpu_seconds), _ => Value::Null },
    }))
}
