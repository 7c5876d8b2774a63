//! Operations endpoints outside `/api/v1`: liveness, readiness, metrics.

use crate::error::ErrorBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
    /// Per-dependency result (readiness only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<&'static str, String>,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health", tag = "ops", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        checks: BTreeMap::new(),
    })
}

/// Readiness: every dependency answers (database now; Redis and storage as they arrive).
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses((status = 200, body = Health), (status = 503, description = "A dependency is down", body = Health)))]
pub async fn ready(State(app): State<AppState>) -> Response {
    let mut checks = BTreeMap::new();
    let db = match tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "error: timed out".to_owned(),
    };
    let storage = match tokio::time::timeout(Duration::from_secs(2), app.media.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "error: timed out".to_owned(),
    };
    let ok = db == "ok" && storage == "ok";
    checks.insert("database", db);
    checks.insert("storage", storage);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ok { "ready" } else { "unavailable" },
            checks,
        }),
    )
        .into_response()
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "Prometheus text format", content_type = "text/plain"), (status = 500, body = ErrorBody)))]
pub async fn metrics(State(app): State<AppState>) -> Response {
    if let Some(stats) = app.store.pool_stats() {
        metrics::gauge!("db_pool_connections").set(stats.size as f64);
        metrics::gauge!("db_pool_idle_connections").set(stats.idle as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}
