//! Shared application state, built once at start-up and handed to every handler.

use crate::auth::jwt::Keyring;
use crate::auth::password::Passwords;
use crate::auth::revocation::Revocations;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use justus_core::bus::{Bus, BusMessage};
use justus_core::event::RoomEvent;
use justus_core::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

pub type AppState = Arc<App>;

pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub keys: Keyring,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub revocations: Revocations,
    pub register_limit: DefaultKeyedRateLimiter<IpAddr>,
    /// Gateway requests per user (burst 2×, sustained `GATEWAY_REQUESTS_PER_SECOND`).
    pub gateway_limit: DefaultKeyedRateLimiter<justus_core::UserId>,
    pub hub: Arc<crate::gateway::hub::Hub>,
    pub metrics: PrometheusHandle,
    /// Origins allowed for CORS and cookie-authenticated requests (precomputed).
    pub allowed_origins: Vec<String>,
    /// Uploads: storage, scanner, URL signing, limits.
    pub media: crate::media::MediaService,
}

impl App {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        keys: Keyring,
        passwords: Passwords,
        metrics: PrometheusHandle,
        media: crate::media::MediaService,
    ) -> Self {
        let per_hour = NonZeroU32::new(config.register_per_ip_per_hour).unwrap_or(NonZeroU32::MIN);
        let allowed_origins = config.allowed_origins();
        let rps = NonZeroU32::new(config.gateway_requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = rps.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        let hub = Arc::new(crate::gateway::hub::Hub::default());
        bus.attach(hub.clone());
        Self {
            gateway_limit: RateLimiter::keyed(Quota::per_second(rps).allow_burst(burst)),
            hub,
            register_limit: RateLimiter::keyed(Quota::per_hour(per_hour)),
            config,
            store,
            bus,
            keys,
            passwords,
            throttle: LoginThrottle::default(),
            revocations: Revocations::default(),
            metrics,
            allowed_origins,
            media,
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }

    /// Ends sessions now: their access tokens stop working and their sockets close (4003).
    pub fn end_sessions(&self, ids: &[justus_core::SessionId]) {
        for id in ids {
            self.revocations.revoke(*id);
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
