//! Access tokens: JWT, HS256 only, `kid` in the header for rotation, typed (`typ: at+jwt` in
//! the header, `typ: "access"` in the claims) so no other token passes for an access token.
//!
//! Keys: the active secret signs; retired secrets (`JWT_PREVIOUS_SECRETS`, or later lines of
//! the generated key file) still verify until their tokens expire. The signing key is derived
//! from the configured secret for this one purpose, so the same secret can seed other keys
//! (media URL signatures) without one kind of signature standing in for another.

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use justus_core::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const AUDIENCE: &str = "justus-api";
pub const HEADER_TYP: &str = "at+jwt";
pub const CLAIM_TYP: &str = "access";
pub const ACCESS_TTL_SECS: i64 = 600;

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub exp: i64,
    pub iat: i64,
    pub typ: String,
}

/// A verified access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub expires_at: i64,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

pub struct Keyring {
    keys: Vec<Key>,
    issuer: String,
    validation: Validation,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("access token expired")]
    Expired,
    #[error("invalid access token")]
    Invalid,
}

/// Derives a purpose-bound key from a master secret (HMAC-SHA256 as a KDF).
pub fn derive_key(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

impl Keyring {
    /// `secrets[0]` signs; all verify. `issuer` is the public URL or `justus`.
    pub fn new(secrets: &[Vec<u8>], issuer: String) -> anyhow::Result<Self> {
        anyhow::ensure!(!secrets.is_empty(), "no signing secret");
        let keys = secrets
            .iter()
            .map(|s| {
                let k = derive_key(s, "justus access token v1");
                let kid = hex::encode(&Sha256::digest(&k)[..8]);
                Key {
                    kid,
                    encoding: EncodingKey::from_secret(&k),
                    decoding: DecodingKey::from_secret(&k),
                }
            })
            .collect();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Ok(Self {
            keys,
            issuer,
            validation,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn active_kid(&self) -> &str {
        &self.keys[0].kid
    }

    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: i64,
    ) -> anyhow::Result<(String, i64)> {
        let exp = now + ACCESS_TTL_SECS;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: user.to_string(),
            sid: session.to_string(),
            exp,
            iat: now,
            typ: CLAIM_TYP.into(),
        };
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        header.typ = Some(HEADER_TYP.into());
        Ok((jsonwebtoken::encode(&header, &claims, &key.encoding)?, exp))
    }

    pub fn verify(&self, token: &str) -> Result<AccessToken, TokenError> {
        if token.len() > 4096 {
            return Err(TokenError::Invalid);
        }
        // Parsing the header refuses `alg: none` and unknown algorithms outright.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(HEADER_TYP) {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or(TokenError::Invalid)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let c = data.claims;
        if c.typ != CLAIM_TYP {
            return Err(TokenError::Invalid);
        }
        Ok(AccessToken {
            user_id: c.sub.parse().map_err(|_| TokenError::Invalid)?,
            session_id: c.sid.parse().map_err(|_| TokenError::Invalid)?,
            expires_at: c.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(secret: &str) -> Keyring {
        Keyring::new(&[secret.as_bytes().to_vec()], "justus".into()).unwrap()
    }

    #[test]
    fn roundtrip_and_rotation() {
        let now = chrono::Utc::now().timestamp();
        let old = ring("old-secret-old-secret-old-secret-old");
        let (tok, _) = old.issue(UserId::new(), SessionId::new(), now).unwrap();
        let rotated = Keyring::new(
            &[
                b"new-secret-new-secret-new-secret-new".to_vec(),
                b"old-secret-old-secret-old-secret-old".to_vec(),
            ],
            "justus".into(),
        )
        .unwrap();
        assert!(rotated.verify(&tok).is_ok(), "retired key still verifies");
        let (fresh, _) = rotated.issue(UserId::new(), SessionId::new(), now).unwrap();
        assert_eq!(old.verify(&fresh), Err(TokenError::Invalid), "unknown kid");
    }

    #[test]
    fn expiry() {
        let r = ring("some-secret-some-secret-some-secret");
        let (tok, _) = r
            .issue(
                UserId::new(),
                SessionId::new(),
                chrono::Utc::now().timestamp() - 601,
            )
            .unwrap();
        assert_eq!(r.verify(&tok), Err(TokenError::Expired));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn a_token() -> (Keyring, String) {
            let r = ring("prop-secret-prop-secret-prop-secret-x");
            let (t, _) = r
                .issue(
                    UserId::new(),
                    SessionId::new(),
                    chrono::Utc::now().timestamp(),
                )
                .unwrap();
            (r, t)
        }

        /// Up to `n` base64url characters.
        fn segment(n: usize) -> impl Strategy<Value = String> {
            proptest::string::string_regex(&format!("[A-Za-z0-9_-]{{0,{n}}}"))
                .expect("a valid regex")
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Arbitrary input never panics and never verifies.
            #[test]
            fn garbage_never_verifies(s in ".{0,600}") {
                let (r, _) = a_token();
                prop_assert!(r.verify(&s).is_err());
            }

            /// Three base64url segments, JWT-shaped but made up: refused.
            #[test]
            fn made_up_jwts_never_verify(h in segment(80), c in segment(200), s in segment(86)) {
                let (r, _) = a_token();
                // (Built first: prop_assert! turns its condition's text into a format string.)
                let made_up = [h, c, s].join(".");
                prop_assert!(r.verify(&made_up).is_err());
            }

            /// Changing any one character of a genuine token makes it invalid.
            #[test]
            fn any_one_changed_character_is_refused(i in any::<prop::sample::Index>(), c in "[A-Za-z0-9_.-]") {
                let (r, t) = a_token();
                let pos = i.index(t.len());
                let mut bytes = t.clone().into_bytes();
                let new = c.as_bytes()[0];
                prop_assume!(bytes[pos] != new);
                bytes[pos] = new;
                let changed = String::from_utf8(bytes).unwrap();
                // Base64url's last character may carry unused bits: a change there can decode
                // to the same bytes, which is the same token, not a forgery.
                let same_bytes = {
                    use base64::Engine;
                    let dec = |s: &str| s.split('.').map(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok()).collect::<Vec<_>>();
                    dec(&changed) == dec(&t)
                };
                prop_assume!(!same_bytes);
                prop_assert!(r.verify(&changed).is_err());
            }

            /// Refresh tokens: only the exact shape is plausible.
            #[test]
            fn refresh_token_shape(s in ".{0,100}") {
                let ok = s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                prop_assert_eq!(super::super::super::refresh::plausible(&s), ok);
            }

            /// Device tokens: arbitrary input never panics and never verifies.
            #[test]
            fn device_token_garbage(s in ".{0,200}", ts in any::<i64>()) {
                let d = super::super::super::device::DeviceTokens::new(b"prop-secret-prop-secret-prop-secret-x");
                prop_assert!(d.verify(&s, UserId::new(), ts).is_none());
            }
        }
    }
}
