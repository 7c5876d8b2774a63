//! The `justus` server: configuration, wiring, HTTP API, auth and telemetry.
//!
//! [`start`] builds everything from a [`Config`] and serves on the configured address (port 0
//! works, for tests); `main.rs` adds signal handling and the one line users see.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod media;
pub mod secrets;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod web;

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
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Stops accepting, lets in-flight requests finish within the configured grace, then returns.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
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
    let store = storage::open(&config).await?;
    let secrets = secrets::signing_secrets(&config)?;
    let issuer = config
        .public_url
        .as_ref()
        .map(|u| u.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| "justus".into());
    let keys = Keyring::new(&secrets, issuer)?;
    let passwords = Passwords::new().await?;
    let media = media::MediaService::from_config(
        &config,
        secrets.first().map(Vec::as_slice).unwrap_or_default(),
    )?;
    // In process until the scale-out issue adds Redis.
    let bus: Arc<dyn justus_core::bus::Bus> = Arc::new(bus::LocalBus::default());
    Ok(Arc::new(App::new(
        config,
        store,
        bus,
        keys,
        passwords,
        telemetry::metrics_handle(),
        media,
    )))
}

/// Builds the app and serves it on `config.bind`.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    let bind = config.bind;
    let state = build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind} (JUSTUS_BIND)"))?;
    let addr = listener.local_addr()?;
    let router = api::router(state.clone());
    // Delivers events that waited too long for a gap to fill (see gateway::hub).
    let hub = Arc::downgrade(&state.hub);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        loop {
            tick.tick().await;
            match hub.upgrade() {
                Some(h) => h.sweep(),
                None => break,
            }
        }
    });
    // Removes uploads never attached within MEDIA_UNATTACHED_TTL_SECONDS.
    let sweep_every =
        std::time::Duration::from_secs(state.config.media_unattached_ttl_seconds.clamp(1, 3600));
    media::sweep::spawn(Arc::downgrade(&state), sweep_every);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await
    });
    Ok(Server {
        addr,
        state,
        shutdown: Some(tx),
        task,
    })
}
