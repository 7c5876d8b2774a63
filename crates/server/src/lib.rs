//! The `justus` server: configuration, wiring, HTTP API, auth and telemetry.
//!
//! [`start`] builds everything from a [`Config`] and serves on the configured address (port 0
//! works, for tests); `main.rs` adds signal handling and the one line users see.
#![forbid(unsafe_code)]

pub mod ai;
pub mod api;
pub mod auth;
pub mod backup;
pub mod bus;
pub mod chat;
pub mod config;
pub mod database;
pub mod error;
pub mod gateway;
pub mod http;
pub mod limits;
pub mod media;
pub mod presence;
pub mod retention;
pub mod secret_files;
pub mod secrets;
pub mod state;
pub mod telemetry;
pub mod tls;
pub mod traces;
pub mod web;
pub mod wire;

use crate::auth::jwt::Keyring;
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::state::{App, AppState};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    /// The private listener for `/metrics` and the detailed `/ready` (`METRICS_BIND`), if on.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    metrics_shutdown: Option<oneshot::Sender<()>>,
}

impl Server {
    /// Stops accepting, lets in-flight requests finish within the configured grace, then returns.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // Sockets are told to reconnect elsewhere (4011) after their in-flight request is
        // answered; wait briefly for them to go so no acknowledgement is cut off.
        let hub = &self.state.hub;
        if hub.drain() > 0 {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            while hub.socket_count() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Metrics stay scrapeable while requests drain; the listener goes with the process.
        let _metrics = self.metrics_shutdown.take();
        let grace = self.state.config.shutdown_grace();
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(joined) => joined
                .context("server task failed")?
                .context("server error")?,
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "in-flight requests did not finish in time; closing them"
                );
                self.task.abort();
            }
        }
        Ok(())
    }
}

/// Builds the application state from config: store (with migrations), keys, hashing.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let store = database::open(&config).await?;
    let secrets = secrets::signing_secrets(&config)?;
    let issuer = config
        .public_url
        .as_ref()
        .map(|u| u.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| "justus".into());
    let keys = Keyring::new(&secrets, issuer)?;
    let devices =
        auth::device::DeviceTokens::new(secrets.first().map(Vec::as_slice).unwrap_or_default());
    let passwords = Passwords::new().await?;
    let media = media::MediaService::from_config(
        &config,
        secrets.first().map(Vec::as_slice).unwrap_or_default(),
    )?;
    let (bus, shared_limits): (Arc<dyn justus_core::bus::Bus>, _) = match &config.redis.url {
        Some(url) => (
            bus::RedisBus::start(url.expose(), &config.redis.prefix, uuid::Uuid::now_v7())?,
            Some(limits::RedisLimits::new(
                url.expose(),
                &config.redis.prefix,
            )?),
        ),
        None => (Arc::new(bus::LocalBus::default()), None),
    };
    let limits = limits::Limits::new(&config, shared_limits);
    let mut app = App::new(
        config,
        store,
        bus,
        keys,
        devices,
        passwords,
        telemetry::metrics_handle(),
        limits,
        media,
    );
    app.ai = ai::AiService::from_config(&app.config)?;
    let state = Arc::new(app);
    ai::assistant::start(&state);
    Ok(state)
}

/// Periodic work of the gateway: delivers events that waited too long for a gap to fill, and,
/// when the bus is shared, beats (with this process's presence every few beats) and catches
/// sockets up from the store when a peer process stops beating.
async fn housekeeping(app: std::sync::Weak<App>) {
    const TICK: std::time::Duration = std::time::Duration::from_millis(100);
    const BEAT_EVERY: u32 = 20; // ticks: 2 s, well inside gateway::hub::PEER_TTL
    const PRESENCE_EVERY: u32 = 5; // beats: 10 s
    const SLOTS_EVERY: u32 = 200; // ticks: 20 s, well inside limits' slot TTL
    const PRUNE_EVERY: u32 = 100; // ticks: 10 s
    let mut tick = tokio::time::interval(TICK);
    let mut n: u32 = 0;
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { break };
        if app.hub.sweep() > 0 {
            tokio::spawn(gateway::catchup::catch_up(
                app.store.clone(),
                app.hub.clone(),
            ));
        }
        if app.bus.is_shared() && n.is_multiple_of(BEAT_EVERY) {
            let up = app.bus.health() == justus_core::bus::BusHealth::Ok;
            metrics::gauge!("bus_up").set(if up { 1.0 } else { 0.0 });
            metrics::gauge!("bus_peers").set(app.hub.peer_count() as f64);
            let presence = n
                .is_multiple_of(BEAT_EVERY * PRESENCE_EVERY)
                .then(|| app.hub.local_presence());
            app.bus.publish(justus_core::bus::BusMessage::Heartbeat {
                origin: app.instance,
                presence,
            });
        }
        if app.limits.is_shared() && n.is_multiple_of(SLOTS_EVERY) {
            let slots = app.hub.socket_slots();
            let app = app.clone();
            tokio::spawn(async move { app.limits.sockets_alive(&slots).await });
        }
        if n.is_multiple_of(PRUNE_EVERY) {
            // Rate-limit and throttle state that has decayed; a scan, off the request path.
            let app = app.clone();
            tokio::task::spawn_blocking(move || app.limits.prune());
        }
        n = n.wrapping_add(1);
    }
}

/// Builds the app and serves it on `config.bind` (and metrics on `config.metrics_bind`).
pub async fn start(config: Config) -> anyhow::Result<Server> {
    tls::install_crypto_provider();
    let bind = config.bind;
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (JUSTUS_BIND)"))?;
    let addr = listener.local_addr()?;
    let metrics_listener =
        match state.config.metrics_bind.0 {
            Some(m) => Some(tokio::net::TcpListener::bind(m).await.with_context(|| {
                format!("cannot listen on {m} (METRICS_BIND; `off` disables it)")
            })?),
            None => None,
        };
    let router = api::router(state.clone());
    tokio::spawn(housekeeping(Arc::downgrade(&state)));
    // Removes uploads never attached within MEDIA_UNATTACHED_TTL_SECONDS.
    let sweep_every =
        std::time::Duration::from_secs(state.config.media.unattached_ttl_seconds.clamp(1, 3600));
    media::sweep::spawn(Arc::downgrade(&state), sweep_every);
    retention::spawn(
        Arc::downgrade(&state),
        std::time::Duration::from_secs(state.config.retention.interval_seconds),
    );
    let c = &state.config;
    let options = |listener, slots| http::serve::ServeOptions {
        header_timeout: std::time::Duration::from_secs(c.transport.header_timeout_seconds),
        idle_timeout: std::time::Duration::from_secs(c.transport.idle_timeout_seconds),
        slots,
        per_ip_exempt: c
            .trusted_proxies
            .iter()
            .chain(&c.transport.per_ip_limits_exempt.0)
            .copied()
            .collect(),
        listener,
    };
    let (tx, rx) = oneshot::channel::<()>();
    let task = http::serve::spawn(
        listener,
        router,
        options(
            "api",
            http::slots::Slots::new(
                "http_connections_open",
                c.transport.max_connections,
                c.transport.max_connections_per_ip,
            ),
        ),
        rx,
    );
    let (metrics_addr, metrics_shutdown) = match metrics_listener {
        Some(l) => {
            let (mtx, mrx) = oneshot::channel::<()>();
            let maddr = l.local_addr()?;
            // A scraper needs one or two connections; a small cap keeps the port harmless.
            let slots = http::slots::Slots::new("http_metrics_connections_open", 64, 0);
            http::serve::spawn(
                l,
                api::ops::router(state.clone()),
                options("metrics", slots),
                mrx,
            );
            (Some(maddr), Some(mtx))
        }
        None => (None, None),
    };
    Ok(Server {
        addr,
        metrics_addr,
        state,
        shutdown: Some(tx),
        task,
        metrics_shutdown,
    })
}
