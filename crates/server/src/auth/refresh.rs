//! Opaque refresh tokens: 256 random bits, base64url; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use justus_core::session::TokenHash;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const ABSOLUTE_TTL_DAYS: i64 = 30;

/// A new token and its hash.
pub fn generate() -> (String, TokenHash) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    (token, hash)
}

/// The stored form of a presented token. Tokens of the wrong shape hash to something that is
/// never found, so the caller needs no separate validation path.
pub fn hash(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Quick shape check, to refuse garbage before touching the store.
pub fn plausible(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_unique_and_plausible() {
        let (a, ha) = super::generate();
        let (b, hb) = super::generate();
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert!(super::plausible(&a));
        assert_eq!(super::hash(&a), ha);
        assert!(!super::plausible("short"));
    }
}
