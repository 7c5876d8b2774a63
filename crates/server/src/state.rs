//! Shared application state, built once at start-up and handed to every handler.

use crate::auth::jwt::Keyring;
use crate::auth::password::Passwords;
use crate::auth::sessions::Sessions;
use crate::config::Config;
use justus_core::bus::{Bus, BusMessage};
use justus_core::event::RoomEvent;
use justus_core::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

pub type AppState = Arc<App>;

pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub keys: Keyring,
    /// Device tokens handed out at login (exempt their holder from others' failures).
    pub devices: crate::auth::device::DeviceTokens,
    pub passwords: Passwords,
    /// Which sessions are live (access tokens are checked against it).
    pub sessions: Arc<Sessions>,
    /// Rate limits and caps (cluster-wide when Redis is configured).
    pub limits: crate::limits::Limits,
    pub hub: Arc<crate::gateway::hub::Hub>,
    /// Who is online, here and on other processes, with what status.
    pub presence: Arc<crate::presence::Presence>,
    /// This process, on the bus.
    pub instance: justus_core::bus::InstanceId,
    pub metrics: PrometheusHandle,
    /// Origins allowed for CORS and cookie-authenticated requests (precomputed).
    pub allowed_origins: Vec<String>,
    /// The Content-Security-Policy header (precomputed: it names the S3 media origin).
    pub csp: axum::http::HeaderValue,
    /// Opt-in AI; `None` when no provider is configured (set by `build_state`).
    pub ai: Option<Arc<crate::ai::AiService>>,
    /// Uploads: storage, scanner, URL signing, limits.
    pub media: crate::media::MediaService,
    /// Gateway sockets still in their `auth` phase (global and per-IP caps).
    pub gateway_unauthenticated: Arc<crate::http::slots::Slots>,
    /// Who may post where, remembered for the send path (dropped by the events that change it).
    pub post_access: Arc<crate::chat::access::PostAccess>,
}

impl App {
    #[allow(clippy::too_many_arguments)] // start-up wiring: one argument per subsystem
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        keys: Keyring,
        devices: crate::auth::device::DeviceTokens,
        passwords: Passwords,
        metrics: PrometheusHandle,
        limits: crate::limits::Limits,
        media: crate::media::MediaService,
    ) -> Self {
        let allowed_origins = config.allowed_origins();
        let csp =
            crate::http::middleware::content_security_policy(config.media_origin().as_deref());
        let instance = uuid::Uuid::now_v7();
        let presence = Arc::new(crate::presence::Presence::default());
        let hub = Arc::new(crate::gateway::hub::Hub::new(instance, presence.clone()));
        hub.set_bus(Arc::downgrade(&bus));
        bus.attach(hub.clone());
        let sessions = Arc::new(Sessions::default());
        let gateway_unauthenticated = crate::http::slots::Slots::new(
            "gateway_unauthenticated_sockets",
            config.transport.gateway_max_unauthenticated,
            config.transport.gateway_max_unauthenticated_per_ip,
        );
        bus.attach(sessions.clone());
        let post_access = Arc::new(crate::chat::access::PostAccess::default());
        bus.attach(post_access.clone());
        bus.attach(Arc::new(crate::gateway::catchup::CatchUp {
            store: store.clone(),
            hub: Arc::downgrade(&hub),
        }));
        Self {
            limits,
            hub,
            presence,
            instance,
            config,
            store,
            bus,
            keys,
            devices,
            passwords,
            sessions,
            metrics,
            allowed_origins,
            csp,
            ai: None,
            media,
            gateway_unauthenticated,
            post_access,
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    /// Ends sessions now: their access tokens stop working and their sockets close (4003).
    pub fn end_sessions(&self, ids: &[justus_core::SessionId]) {
        for id in ids {
            self.sessions.revoke(*id);
        }
        if !ids.is_empty() {
            self.bus.publish(BusMessage::SessionsRevoked(ids.to_vec()));
        }
    }

    /// Publishes committed history changes, in seq order, once each.
    pub fn publish_events(&self, events: impl IntoIterator<Item = RoomEvent>) {
        for ev in events {
            metrics::counter!("room_events_published_total").increment(1);
            self.bus.publish(BusMessage::Event(Arc::new(ev)));
        }
    }
}
