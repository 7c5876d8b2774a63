//! Instance-wide bans, the instance admins' tools beyond any one room: a suspended account can
//! no longer sign in (its sessions end at once), and sign-ups from a blocked address range are
//! refused. Rooms ban members ([`crate::room`]); this bans people from the instance.

use crate::error::ValidationError;
use crate::ids::{SignupBlockId, UserId};
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Serialize;
use std::net::IpAddr;

/// An address range sign-ups are refused from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignupBlock {
    pub id: SignupBlockId,
    /// The range in CIDR notation, normalised (`203.0.113.0/24`, `2001:db8::/48`).
    pub cidr: String,
    /// Why, as the instance admin gave it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub reason: Option<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
}

/// Widest ranges an admin may block: a /8 of IPv4, a /16 of IPv6 (closing sign-ups to everyone
/// is a setting of its own, not a range).
pub const MIN_PREFIX_V4: u8 = 8;
pub const MIN_PREFIX_V6: u8 = 16;

/// A range to block: CIDR notation or a single address (a /32 or /128), normalised to its
/// network (`10.1.2.3/16` is `10.1.0.0/16`).
pub fn parse_cidr(raw: &str) -> Result<IpNet, ValidationError> {
    let raw = raw.trim();
    let net = raw
        .parse::<IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            ValidationError::new(
                "cidr",
                "invalid",
                "give an address range in CIDR notation (203.0.113.0/24) or one address",
            )
        })?;
    let min = match net {
        IpNet::V4(_) => MIN_PREFIX_V4,
        IpNet::V6(_) => MIN_PREFIX_V6,
    };
    if net.prefix_len() < min {
        return Err(ValidationError::new(
            "cidr",
            "too_wide",
            "the range is too wide: at most a /8 of IPv4 or a /16 of IPv6",
        ));
    }
    Ok(net.trunc())
}

/// The block that refuses a sign-up from `ip`, if any (IPv4-mapped IPv6 addresses are judged
/// as the IPv4 address they carry).
pub fn blocking(blocks: &[SignupBlock], ip: IpAddr) -> Option<&SignupBlock> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    blocks
        .iter()
        .find(|b| b.cidr.parse::<IpNet>().is_ok_and(|net| net.contains(&ip)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str) -> SignupBlock {
        SignupBlock {
            id: SignupBlockId::new(),
            cidr: parse_cidr(cidr).unwrap().to_string(),
            reason: None,
            created_by: UserId::new(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn ranges_are_normalised_and_bounded() {
        assert_eq!(
            parse_cidr(" 10.1.2.3/16 ").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(parse_cidr("192.0.2.7").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(
            parse_cidr("2001:db8::1/48").unwrap().to_string(),
            "2001:db8::/48"
        );
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap_err().code, "too_wide");
        assert_eq!(parse_cidr("::/8").unwrap_err().code, "too_wide");
        for bad in ["", "10.0.0.0/33", "example.com", "10.0.0/8", "1.2.3.4/-1"] {
            assert_eq!(parse_cidr(bad).unwrap_err().code, "invalid", "{bad}");
        }
    }

    #[test]
    fn a_block_catches_its_range_and_mapped_addresses() {
        let blocks = [block("203.0.113.0/24"), block("2001:db8::/32")];
        let hit = |ip: &str| blocking(&blocks, ip.parse().unwrap()).map(|b| b.cidr.clone());
        assert_eq!(hit("203.0.113.77").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(hit("::ffff:203.0.113.5").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(hit("2001:db8:1::9").as_deref(), Some("2001:db8::/32"));
        assert_eq!(hit("203.0.114.1"), None);
        assert_eq!(hit("127.0.0.1"), None);
    }
}
