//! Device tokens (OWASP's "device cookie"): after a successful login the client receives a
//! token that ties this device to the account for [`TTL`]. A login attempt presenting it is
//! throttled on its own (account, device) counter only, so neither an attacker hammering the
//! account from elsewhere nor one sharing the owner's network (a NAT) can lock the owner out.
//!
//! Stateless: `d1.<issued unix secs>.<device id>.<mac>`, with the MAC (HMAC-SHA256, a key
//! derived from the signing secret for this purpose only) over the user id, the time and the
//! device id. A token for one account is worthless for another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use justus_core::UserId;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How long a device stays known without logging in again.
pub const TTL_SECS: i64 = 30 * 24 * 3600;
/// Longest token accepted for parsing.
const MAX_LEN: usize = 128;

#[derive(Clone)]
pub struct DeviceTokens {
    key: [u8; 32],
}

impl DeviceTokens {
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"justus device token v1");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, user: UserId, issued: i64, device: &str) -> [u8; 32] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(user.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(issued.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(device.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A token for `user`'s device: the same device id when renewing, or a new one.
    pub fn issue(&self, user: UserId, device: Option<&str>, now: i64) -> String {
        let device = device
            .map(str::to_owned)
            .unwrap_or_else(|| B64.encode(rand::random::<[u8; 16]>()));
        let mac = self.mac(user, now, &device);
        format!("d1.{now}.{device}.{}", B64.encode(mac))
    }

    /// The device id, when `token` is a genuine, unexpired token for `user`.
    pub fn verify(&self, token: &str, user: UserId, now: i64) -> Option<String> {
        if token.len() > MAX_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (v, issued, device, mac) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if v != "d1" || parts.next().is_some() || device.is_empty() || device.len() > 32 {
            return None;
        }
        let issued: i64 = issued.parse().ok()?;
        if !(0..=TTL_SECS).contains(&(now - issued)) {
            return None;
        }
        let given = B64.decode(mac).ok()?;
        let expected = self.mac(user, issued, device);
        bool::from(given.ct_eq(&expected)).then(|| device.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_account_time_and_secret() {
        let d = DeviceTokens::new(b"one secret, at least thirty-two bytes long");
        let (ada, bob) = (UserId::new(), UserId::new());
        let t = d.issue(ada, None, 1_000);
        let id = d.verify(&t, ada, 1_000 + 60).expect("valid");
        assert_eq!(
            d.verify(&d.issue(ada, Some(&id), 2_000), ada, 2_000),
            Some(id)
        );
        assert_eq!(d.verify(&t, bob, 1_060), None, "another account");
        assert_eq!(d.verify(&t, ada, 1_000 + TTL_SECS + 1), None, "expired");
        assert_eq!(d.verify(&t, ada, 999), None, "from the future");
        let other = DeviceTokens::new(b"another secret, at least thirty-two bytes");
        assert_eq!(other.verify(&t, ada, 1_060), None, "another secret");
        let forged = t.replacen("d1.1000.", "d1.1500.", 1);
        assert_eq!(d.verify(&forged, ada, 1_600), None, "time is signed");
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let d = DeviceTokens::new(b"one secret, at least thirty-two bytes long");
        let u = UserId::new();
        for g in [
            "",
            ".",
            "d1",
            "d1...",
            "d1.x.y.z",
            "d2.1.a.b",
            "d1.1.a.b.c",
            "d1.-99999999999999999999.a.b",
            &"d1.1.a.".repeat(50),
        ] {
            assert_eq!(d.verify(g, u, 10), None, "{g}");
        }
    }
}
