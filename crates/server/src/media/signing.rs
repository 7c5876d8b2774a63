//! Short-lived signed URLs for the local media store: HMAC-SHA256 over the object and the
//! expiry, with a key derived from the server's signing secret (so rotating `JWT_SECRET`
//! invalidates outstanding URLs too, and a media signature can never pass as anything else).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    Expired,
    Invalid,
}

#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
}

impl UrlSigner {
    pub fn new(secret: &[u8]) -> Self {
        // Domain separation: the URL key is HMAC(secret, label), never the secret itself.
        let mut mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| {
            // HMAC accepts keys of any length; this branch cannot happen.
            HmacSha256::new_from_slice(b"justus").unwrap_or_else(|_| unreachable!())
        });
        mac.update(b"justus media url v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    fn mac(&self, object: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(object.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// Hex signature of `object` (e.g. `{media id}/w320`) valid until `expires` (Unix seconds).
    pub fn sign(&self, object: &str, expires: i64) -> String {
        hex::encode(self.mac(object, expires).finalize().into_bytes())
    }

    /// Checks a signature in constant time, then the expiry against `now` (Unix seconds).
    pub fn verify(
        &self,
        object: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let sig = hex::decode(signature).map_err(|_| SignatureError::Invalid)?;
        self.mac(object, expires)
            .verify_slice(&sig)
            .map_err(|_| SignatureError::Invalid)?;
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = UrlSigner::new(b"secret-secret-secret-secret-secret");
        let sig = s.sign("abc/original", 100);
        assert_eq!(s.verify("abc/original", 100, &sig, 99), Ok(()));
        assert_eq!(s.verify("abc/original", 100, &sig, 100), Ok(()));
        assert_eq!(
            s.verify("abc/original", 100, &sig, 101),
            Err(SignatureError::Expired)
        );
        // Any change to object, expiry or signature fails.
        assert_eq!(
            s.verify("abd/original", 100, &sig, 1),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify("abc/original", 1000, &sig, 1),
            Err(SignatureError::Invalid)
        );
        let mut bad = sig.clone();
        bad.replace_range(0..1, if &sig[0..1] == "0" { "1" } else { "0" });
        assert_eq!(
            s.verify("abc/original", 100, &bad, 1),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            s.verify("abc/original", 100, "zz", 1),
            Err(SignatureError::Invalid)
        );
        // Another secret signs differently.
        let other = UrlSigner::new(b"another-secret-another-secret-xx");
        assert_eq!(
            other.verify("abc/original", 100, &sig, 1),
            Err(SignatureError::Invalid)
        );
    }
}
