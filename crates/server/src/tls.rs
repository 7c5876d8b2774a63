//! TLS for outgoing connections (S3, AI providers): reqwest's rustls with the ring provider
//! (already in our tree; the default aws-lc-rs would need a C/cmake build). reqwest is built
//! without a bundled provider, so every client builder calls this first.

/// Installs ring as the process-wide rustls provider (idempotent).
pub fn install_crypto_provider() {
    // Err only means a provider is installed already, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
