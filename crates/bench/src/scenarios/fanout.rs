//! Fan-out: C receiver sockets over R rooms, S sender sockets each sending at a fixed rate.
//! Every payload carries step, sender, sequence and a monotonic send time; receivers record
//! latency in an HDR histogram and count each (step, sender, seq) once, so lost and duplicated
//! deliveries are exact. `--find-saturation` repeats the measurement at ×1.5 the rate per step
//! until p99 or loss breaks.

use crate::client::{self, Api, Ws};
use crate::provision;
use crate::stats::{self, Latencies};
use crate::sys;
use anyhow::Context;
use futures::stream::{SplitSink, StreamExt};
use futures::{SinkExt, stream};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

pub const MAX_STEPS: usize = 24;

#[derive(Clone, Debug)]
pub struct Params {
    pub connections: usize,
    pub rooms: usize,
    pub senders: usize,
    /// Messages per second per sender (first step).
    pub rate: f64,
    pub duration: Duration,
    pub sockets_per_user: usize,
    pub find_saturation: bool,
    pub max_steps: usize,
    /// A step "breaks" when p99 exceeds this.
    pub p99_limit_ms: f64,
    pub connect_concurrency: usize,
}

#[derive(Default)]
struct Step {
    lat: Latencies,
    delivered: AtomicU64,
    dups: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    last_delivery_ns: AtomicU64,
}

struct Shared {
    steps: Vec<Step>,
    /// acked[step][room]
    acked_room: Vec<Vec<AtomicU64>>,
    closed: AtomicU64,
}

pub struct Setup {
    rooms: Vec<provision::Room>,
    receivers_per_room: Vec<usize>,
    shared: Arc<Shared>,
    senders: Vec<(usize, SplitSink<Ws, Message>)>,
}

/// Provisions rooms and opens every socket: receivers on `recv`, senders on `send`.
pub async fn setup(send: &Api, recv: &Api, p: &Params) -> anyhow::Result<Setup> {
    anyhow::ensure!(
        p.rooms >= 1 && p.connections >= p.rooms,
        "need connections ≥ rooms ≥ 1"
    );
    anyhow::ensure!(p.senders >= 1, "need at least one sender");
    let per_room: Vec<usize> = (0..p.rooms)
        .map(|r| p.connections / p.rooms + usize::from(r < p.connections % p.rooms))
        .collect();
    let spu = p.sockets_per_user.max(1);
    let members = per_room[0].div_ceil(spu);
    let rooms = provision::rooms(send, p.rooms, members).await?;
    let shared = Arc::new(Shared {
        steps: (0..MAX_STEPS).map(|_| Step::default()).collect(),
        acked_room: (0..MAX_STEPS)
            .map(|_| (0..p.rooms).map(|_| AtomicU64::new(0)).collect())
            .collect(),
        closed: AtomicU64::new(0),
    });
    // Receivers: socket j of room r uses member j / spu.
    let mut plan = Vec::with_capacity(p.connections);
    for (r, room) in rooms.iter().enumerate() {
        for j in 0..per_room[r] {
            plan.push(
                room.members[(j / spu).min(room.members.len() - 1)]
                    .token
                    .clone(),
            );
        }
    }
    let total = plan.len() + p.senders;
    let sockets: Vec<Ws> = stream::iter(plan.into_iter().enumerate())
        .map(|(i, token)| async move {
            recv.connect(&token, client::source_for(i, total))
                .await
                .map(|(ws, _)| ws)
        })
        .buffered(p.connect_concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()
        .context("connecting receivers")?;
    for (i, ws) in sockets.into_iter().enumerate() {
        tokio::spawn(receive(ws, shared.clone(), i));
    }
    let mut senders = Vec::with_capacity(p.senders);
    for s in 0..p.senders {
        let room = s % p.rooms;
        let (ws, _) = send
            .connect(
                &rooms[room].owner.token,
                client::source_for(p.connections + s, total),
            )
            .await
            .context("connecting senders")?;
        let (sink, stream) = ws.split();
        tokio::spawn(read_acks(stream, shared.clone(), room));
        senders.push((room, sink));
    }
    Ok(Setup {
        rooms,
        receivers_per_room: per_room,
        shared,
        senders,
    })
}

async fn receive(mut ws: Ws, shared: Arc<Shared>, idx: usize) {
    // (step, sender) -> bitset of seqs seen: exact duplicate detection at small cost.
    let mut seen: HashMap<(u32, u32), Vec<u64>> = HashMap::new();
    while let Some(msg) = ws.next().await {
        let Ok(msg) = msg else { break };
        let Message::Text(t) = msg else {
            if matches!(msg, Message::Close(_)) {
                break;
            }
            continue;
        };
        let Some(pl) = client::parse_payload(t.as_str()) else {
            continue;
        };
        let Some(step) = shared.steps.get(pl.step as usize) else {
            continue;
        };
        let now = stats::now_ns();
        let bits = seen.entry((pl.step, pl.sender)).or_default();
        let (w, b) = ((pl.seq / 64) as usize, pl.seq % 64);
        if bits.len() <= w {
            bits.resize(w + 1, 0);
        }
        if bits[w] & (1 << b) != 0 {
            step.dups.fetch_add(1, Relaxed);
            continue;
        }
        bits[w] |= 1 << b;
        step.delivered.fetch_add(1, Relaxed);
        step.last_delivery_ns.fetch_max(now, Relaxed);
        step.lat.record_us(idx, now.saturating_sub(pl.t_ns) / 1000);
    }
    shared.closed.fetch_add(1, Relaxed);
}

async fn read_acks(mut stream: futures::stream::SplitStream<Ws>, shared: Arc<Shared>, room: usize) {
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(t) = msg else { continue };
        let t = t.as_str();
        // Acks carry our id "step.n"; everything else (events of our own room) is ignored.
        let (is_ack, is_err) = (
            t.starts_with(r#"{"op":"ack""#),
            t.starts_with(r#"{"op":"error""#),
        );
        if !is_ack && !is_err {
            continue;
        }
        let step = t
            .find(r#""id":""#)
            .and_then(|i| t[i + 6..].split('.').next())
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_STEPS - 1);
        if is_ack {
            shared.steps[step].acked.fetch_add(1, Relaxed);
            shared.acked_room[step][room].fetch_add(1, Relaxed);
        } else {
            shared.steps[step].errors.fetch_add(1, Relaxed);
        }
    }
}

/// Runs one step at `rate` per sender; returns its report.
async fn run_step(
    setup: &mut Setup,
    step_no: usize,
    rate: f64,
    duration: Duration,
    pid: Option<u32>,
) -> anyhow::Result<Value> {
    let shared = setup.shared.clone();
    let step = &shared.steps[step_no];
    let before = pid.map(sys::sample).transpose()?;
    let started = Instant::now();
    let start_ns = stats::now_ns();
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let n_senders = setup.senders.len();
    let tasks = setup
        .senders
        .drain(..)
        .enumerate()
        .map(|(s, (room, mut sink))| {
            let room_id = setup.rooms[room].id.clone();
            let shared = shared.clone();
            // Senders are spread evenly over one interval: started together, all S sends
            // of a tick would arrive as one burst of S × room-size deliveries, and the
            // figure would be the time to drain that burst, not latency at the offered rate.
            let phase = interval.mul_f64(s as f64 / n_senders.max(1) as f64);
            async move {
                let mut tick =
                    tokio::time::interval_at(tokio::time::Instant::now() + phase, interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                let deadline = Instant::now() + duration;
                let mut seq = 0u64;
                let mut result = Ok(());
                while Instant::now() < deadline {
                    tick.tick().await;
                    let frame = client::send_frame(
                        0,
                        &room_id,
                        step_no as u32,
                        s as u32,
                        seq,
                        stats::now_ns(),
                    )
                    .replacen(
                        r#""id":"0""#,
                        &format!(r#""id":"{step_no}.{seq}""#),
                        1,
                    );
                    if let Err(e) = sink.send(Message::text(frame)).await {
                        result = Err(e);
                        break;
                    }
                    shared.steps[step_no].sent.fetch_add(1, Relaxed);
                    seq += 1;
                }
                ((room, sink), result)
            }
        });
    let joined = futures::future::join_all(tasks).await;
    for (pair, r) in joined {
        r.context("sender socket failed")?;
        setup.senders.push(pair);
    }
    let send_secs = started.elapsed().as_secs_f64();
    // Drain: wait for every ack, then until deliveries stop growing (bounded).
    let sent = step.sent.load(Relaxed);
    let drain_deadline = Instant::now() + Duration::from_secs(10);
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let acked = step.acked.load(Relaxed) + step.errors.load(Relaxed);
        let now = step.delivered.load(Relaxed);
        let expected = expected(setup, step_no);
        // All acked, and every delivery arrived or deliveries stopped coming.
        if (acked >= sent && (now >= expected || now == last)) || Instant::now() > drain_deadline {
            break;
        }
        last = now;
    }
    let after = pid.map(sys::sample).transpose()?;
    let delivered = step.delivered.load(Relaxed);
    let expected = expected(setup, step_no);
    let h = step.lat.merged();
    let active_secs =
        (step.last_delivery_ns.load(Relaxed).saturating_sub(start_ns) as f64 / 1e9).max(send_secs);
    let cpu = match (before, after) {
        (Some(b), Some(a)) => json!({
            "server_cpu_seconds": a.cpu_seconds - b.cpu_seconds,
            "server_cpu_s_per_million_deliveries": if delivered > 0 { (a.cpu_seconds - b.cpu_seconds) * 1e6 / delivered as f64 } else { 0.0 },
            "server_rss_kib": a.rss_kib,
        }),
        _ => json!({}),
    };
    Ok(json!({
        "step": step_no,
        "rate_per_sender": rate,
        "senders": n_senders,
        "sent": sent,
        "acked": step.acked.load(Relaxed),
        "send_errors": step.errors.load(Relaxed),
        "publishes_per_s": step.acked.load(Relaxed) as f64 / send_secs,
        "expected_deliveries": expected,
        "delivered": delivered,
        "lost": expected.saturating_sub(delivered),
        "duplicates": step.dups.load(Relaxed),
        "deliveries_per_s": delivered as f64 / active_secs,
        "latency": stats::summary(&h),
        "p99_ms": stats::p(&h, 0.99),
        "closed_sockets": shared.closed.load(Relaxed),
        "server": cpu,
    }))
}

fn expected(setup: &Setup, step: usize) -> u64 {
    setup
        .receivers_per_room
        .iter()
        .enumerate()
        .map(|(r, n)| setup.shared.acked_room[step][r].load(Relaxed) * *n as u64)
        .sum()
}

/// The whole scenario: set up, one step or a saturation search, one JSON report.
pub async fn run(send: &Api, recv: &Api, p: &Params, pid: Option<u32>) -> anyhow::Result<Value> {
    let t = Instant::now();
    let mut setup = setup(send, recv, p).await?;
    let setup_secs = t.elapsed().as_secs_f64();
    // Profiling scripts wait for this line to start counting (scripts/profile.sh).
    eprintln!("fanout: provisioned, measuring");
    let mut steps = Vec::new();
    let mut rate = p.rate;
    let max_steps = if p.find_saturation {
        p.max_steps.clamp(1, MAX_STEPS)
    } else {
        1
    };
    let mut saturation: Option<Value> = None;
    for i in 0..max_steps {
        let r = run_step(&mut setup, i, rate, p.duration, pid).await?;
        let broke = r["lost"].as_u64().unwrap_or(0) > 0
            || r["p99_ms"].as_f64().unwrap_or(0.0) > p.p99_limit_ms
            || r["acked"].as_f64().unwrap_or(0.0)
                < 0.9 * rate * p.duration.as_secs_f64() * setup.senders.len() as f64;
        steps.push(r);
        if p.find_saturation {
            if broke {
                break;
            }
            saturation = steps.last().cloned();
            rate *= 1.5;
        }
    }
    let last = steps.last().cloned().unwrap_or(Value::Null);
    Ok(json!({
        "connections": p.connections,
        "rooms": p.rooms,
        "senders": p.senders,
        "duration_s": p.duration.as_secs_f64(),
        "setup_s": setup_secs,
        "result": last,
        "steps": steps,
        "saturation": saturation,
    }))
}
