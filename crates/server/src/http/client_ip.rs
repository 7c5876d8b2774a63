//! The client's IP: the TCP peer, or, only when the peer is a trusted proxy, the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy (left-most entries are written
//! by the client and cannot be believed).

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

use crate::http::error::ApiError;
use crate::state::AppState;

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut candidate = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                candidate = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // Garbage in the chain: stop at the last address we could trust.
            Err(_) => break,
        }
    }
    candidate
}

/// Extractor for the resolved client IP.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        Ok(ClientIp(resolve(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let peer: IpAddr = "203.0.113.5".parse().unwrap();
        assert_eq!(resolve(peer, &headers("1.2.3.4"), &[]), peer);
    }

    #[test]
    fn trusted_proxy_chain() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        // Client spoofed 6.6.6.6; the real client is 198.51.100.1; 10.0.0.9 is an inner proxy.
        let got = resolve(peer, &headers("6.6.6.6, 198.51.100.1, 10.0.0.9"), &trusted);
        assert_eq!(got, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(resolve(peer, &HeaderMap::new(), &trusted), peer);
    }
}
