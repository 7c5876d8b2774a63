//! Shared application state, built once at start-up and handed to every handler.

use crate::auth::jwt::Keyring;
use crate::auth::password::Passwords;
use crate::auth::revocation::Revocations;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use justus_core::store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

pub type AppState = Arc<App>;

pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub keys: Keyring,
    pub passwords: Passwords,
    pub throttle: LoginThrottle,
    pub revocations: Revocations,
    pub register_limit: DefaultKeyedRateLimiter<IpAddr>,
    pub metrics: PrometheusHandle,
    /// Origins allowed for CORS and cookie-authenticated requests (precomputed).
    pub allowed_origins: Vec<String>,
}

impl App {
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        keys: Keyring,
        passwords: Passwords,
        metrics: PrometheusHandle,
    ) -> Self {
        let per_hour = NonZeroU32::new(config.register_per_ip_per_hour).unwrap_or(NonZeroU32::MIN);
        let allowed_origins = config.allowed_origins();
        Self {
            register_limit: RateLimiter::keyed(Quota::per_hour(per_hour)),
            config,
            store,
            keys,
            passwords,
            throttle: LoginThrottle::default(),
            revocations: Revocations::default(),
            metrics,
            allowed_origins,
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}
