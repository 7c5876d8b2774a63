//! Idle memory: server RSS before and after C authenticated idle sockets; KiB per socket.

use crate::client::{self, Api};
use crate::provision;
use crate::sys;
use anyhow::Context;
use futures::StreamExt;
use futures::stream;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub async fn run(
    api: &Api,
    connections: usize,
    sockets_per_user: usize,
    concurrency: usize,
    pid: Option<u32>,
) -> anyhow::Result<Value> {
    let pid = pid.context("idle-memory needs the server's pid: --spawn or --server-pid")?;
    let users = provision::users(api, connections.div_ceil(sockets_per_user.max(1))).await?;
    // Let allocations from provisioning settle before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = sys::sample(pid)?;
    let t = Instant::now();
    let spu = sockets_per_user.max(1);
    let sockets: Vec<client::Ws> = stream::iter(0..connections)
        .map(|i| {
            let token = users[i / spu].token.clone();
            async move {
                api.connect(&token, client::source_for(i, connections))
                    .await
                    .map(|(ws, _)| ws)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let connect_secs = t.elapsed().as_secs_f64();
    // Idle sockets still answer pings: one reader task each.
    let mut handles = Vec::with_capacity(sockets.len());
    for mut ws in sockets {
        handles.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = sys::sample(pid)?;
    let alive = handles.iter().filter(|h| !h.is_finished()).count();
    for h in handles {
        h.abort();
    }
    let delta = after.rss_kib as f64 - before.rss_kib as f64;
    Ok(json!({
        "connections": connections,
        "alive": alive,
        "connect_s": connect_secs,
        "rss_before_kib": before.rss_kib,
        "rss_after_kib": after.rss_kib,
        "kib_per_socket": delta / connections.max(1) as f64,
    }))
}
