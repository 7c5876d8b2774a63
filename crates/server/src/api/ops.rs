//! Operations endpoints outside `/api/v1`: liveness and readiness on the public listener;
//! metrics and readiness with details on the private one (`METRICS_BIND`, see [`router`]).

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
    /// `ok` (liveness); `ready`, `degraded` (bus down, still serving) or `unavailable` (readiness).
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

/// Readiness for load balancers: the status code and one word, nothing about the
/// dependencies (their error text stays on the private metrics listener). The database must
/// answer and accept writes; the bus is reported but does not fail readiness: with Redis
/// away every instance would be taken out of the load balancer at once, while sends still
/// commit and clients converge by catch-up (`status` is `degraded`).
#[utoipa::path(get, path = "/ready", tag = "ops",
    responses((status = 200, body = Health), (status = 503, description = "A dependency is down", body = Health)))]
pub async fn ready(State(app): State<AppState>) -> Response {
    let (status, mut health) = readiness(&app).await;
    health.checks.clear();
    (status, Json(health)).into_response()
}

/// Readiness with each dependency's result (`checks`), for operators: served on the private
/// metrics listener only (`METRICS_BIND`).
pub async fn ready_detailed(State(app): State<AppState>) -> Response {
    let (status, health) = readiness(&app).await;
    (status, Json(health)).into_response()
}

async fn readiness(app: &AppState) -> (StatusCode, Health) {
    let mut checks = BTreeMap::new();
    // Reads answering is not enough: a full disk leaves the database readable while every
    // write fails.
    let db_check = async {
        app.store.ping().await?;
        app.store.check_writable().await
    };
    let db = match tokio::time::timeout(Duration::from_secs(2), db_check).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "error: timed out".to_owned(),
    };
    let storage = match tokio::time::timeout(Duration::from_secs(2), app.media.store.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "error: timed out".to_owned(),
    };
    // A draining process (shutting down) must leave load-balancer rotation at once.
    let draining = app.hub.is_draining();
    if draining {
        checks.insert("gateway", "draining".to_owned());
    }
    let ok = db == "ok" && storage == "ok" && !draining;
    checks.insert("database", db);
    let bus_ok = match app.bus.health() {
        justus_core::bus::BusHealth::Ok => {
            checks.insert("bus", "ok".to_owned());
            true
        }
        justus_core::bus::BusHealth::Degraded(why) => {
            checks.insert("bus", format!("degraded: {why}"));
            false
        }
    };
    checks.insert("storage", storage);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Health {
            status: match (ok, bus_ok) {
                (false, _) => "unavailable",
                (true, false) => "degraded",
                (true, true) => "ready",
            },
            checks,
        },
    )
}

/// The private operations listener (`METRICS_BIND`): metrics, detailed readiness, liveness.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/ready", axum::routing::get(ready_detailed))
        .route("/health", axum::routing::get(health))
        .layer(axum::middleware::from_fn(
            crate::http::middleware::json_errors,
        ))
        .with_state(state)
}

/// Prometheus metrics (text exposition format), on the private metrics listener only.
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
