//! Cross-instance: the same fan-out measured twice, receivers on the senders' instance and
//! then on a second instance that shares the database and the Redis bus; the difference in
//! latency is what crossing instances adds.

use crate::client::Api;
use crate::scenarios::fanout;
use serde_json::{Value, json};

pub async fn run(a: &Api, b: &Api, p: &fanout::Params, pid: Option<u32>) -> anyhow::Result<Value> {
    let same = fanout::run(a, a, p, pid).await?;
    let cross = fanout::run(a, b, p, None).await?;
    let p50 = |v: &Value| v["result"]["latency"]["p50_ms"].as_f64().unwrap_or(0.0);
    let p99 = |v: &Value| v["result"]["latency"]["p99_ms"].as_f64().unwrap_or(0.0);
    Ok(json!({
        "same_instance": same["result"],
        "cross_instance": cross["result"],
        "added_p50_ms": p50(&cross) - p50(&same),
        "added_p99_ms": p99(&cross) - p99(&same),
    }))
}
