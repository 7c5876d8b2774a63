//! Password hashing with Argon2id (m = 19 MiB, t = 2, p = 1: OWASP's minimum).
//!
//! Hashing is CPU- and memory-heavy, so it runs on the blocking pool behind a semaphore that
//! bounds concurrent hashes (and so memory: 19 MiB each). Unknown accounts are verified
//! against a dummy hash so they cost the same time as a wrong password. Every Argon2 run is
//! counted (`auth_password_hashes_total`), so the login path's CPU cost is observable and tests
//! can check that unknown accounts pay it without timing anything.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    dummy: Arc<str>,
    runs: Arc<AtomicU64>,
}

fn argon2() -> Argon2<'static> {
    // 19 MiB, 2 passes, 1 lane. Params::new only fails on out-of-range values, which these are not.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        // Verification uses the parameters recorded in the hash, so older hashes keep working.
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

impl Passwords {
    /// Computes the dummy hash once (on the blocking pool).
    pub async fn new() -> anyhow::Result<Self> {
        let dummy =
            tokio::task::spawn_blocking(|| hash_blocking("justus-dummy-password-for-timing"))
                .await??;
        let permits = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2;
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits)),
            dummy: dummy.into(),
            runs: Arc::default(),
        })
    }

    /// Argon2 hashes and verifications this instance has run (the dummy's included).
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    fn count(&self, op: &'static str) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("auth_password_hashes_total", "op" => op).increment(1);
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        self.count("hash");
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
    }

    /// Verifies `password` (normalised as when it was set) against `hash`, or against the dummy
    /// hash when there is no account, returning false in that case after the same work.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let password = justus_core::user::Password::normalize(password);
        let (target, real) = match hash {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy.to_string(), false),
        };
        self.count("verify");
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&password, &target))
            .await
            .unwrap_or(false);
        ok && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(hash: &str) -> String {
        let parsed = PasswordHash::new(hash).expect("a PHC string");
        format!(
            "{} {:?} {}",
            parsed.algorithm, parsed.version, parsed.params
        )
    }

    #[tokio::test]
    async fn dummy_costs_what_a_real_hash_costs_and_never_matches() {
        let passwords = Passwords::new().await.expect("dummy hash");
        let real = passwords.hash("a real passphrase").await.expect("hash");
        // Same algorithm, version and m/t/p: verifying against the dummy is the same work.
        assert_eq!(params(&passwords.dummy), params(&real));
        assert!(
            params(&real).contains("m=19456,t=2,p=1"),
            "{}",
            params(&real)
        );

        assert!(passwords.verify("a real passphrase", Some(&real)).await);
        assert!(!passwords.verify("wrong", Some(&real)).await);
        // Even the dummy's own password is refused when there is no account.
        assert!(
            !passwords
                .verify("justus-dummy-password-for-timing", None)
                .await
        );
        assert_eq!(passwords.runs(), 4, "one hash and three verifications");
    }
}
