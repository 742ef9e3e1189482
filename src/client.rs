//! Who is asking: the client's address, taken from `X-Forwarded-For` only
//! when the request comes from a proxy the operator trusts
//! (`--trusted-proxy CIDR`); otherwise the socket's address, so nobody can
//! name their own address past a sign-in limit or into the audit log.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// A network given as `ADDRESS/PREFIX` (or a bare address, one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("`{text}` is not an address or a network such as 10.0.0.0/8 or ::1/128");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        // An IPv4 address reached over IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// The client's address as `peer` (the socket) and `forwarded` (the
/// `X-Forwarded-For` header) give it, trusting the header only as far as
/// the hops are trusted proxies: read from the right, the first address
/// that is not a trusted proxy is the client.
pub fn client_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let Some(forwarded) = forwarded else { return peer };
    let mut client = peer;
    for hop in forwarded.rsplit(',') {
        let Ok(address) = hop.trim().parse::<IpAddr>() else { return client };
        client = address;
        if !trusted.iter().any(|c| c.contains(address)) {
            break;
        }
    }
    client
}

/// The trusted proxies, put on every request by the server.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<Vec<Cidr>>);

/// Extractor: the client's address (see [`client_address`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip());
        let trusted = parts.extensions.get::<TrustedProxies>().cloned().unwrap_or_default();
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        Ok(ClientAddress(client_address(peer, forwarded, &trusted.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain_their_addresses() {
        let ten: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(ten.contains(ip("10.200.1.2")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(ten.contains(ip("::ffff:10.1.1.1")), "an IPv4 address seen over IPv6");
        let host: Cidr = "127.0.0.1".parse().unwrap();
        assert!(host.contains(ip("127.0.0.1")) && !host.contains(ip("127.0.0.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_forwarded_address_counts_only_through_trusted_proxies() {
        let proxies: Vec<Cidr> = vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        // No proxy trusted: the header is ignored, whatever it says.
        assert_eq!(client_address(ip("127.0.0.1"), Some("203.0.113.9"), &[]), ip("127.0.0.1"));
        // From a stranger: ignored.
        assert_eq!(client_address(ip("198.51.100.7"), Some("203.0.113.9"), &proxies), ip("198.51.100.7"));
        // Through the trusted proxy: the client it names.
        assert_eq!(client_address(ip("127.0.0.1"), Some("203.0.113.9"), &proxies), ip("203.0.113.9"));
        // A client cannot hide behind an address it writes itself: the
        // rightmost untrusted hop is the client.
        assert_eq!(
            client_address(ip("127.0.0.1"), Some("1.2.3.4, 203.0.113.9, 10.0.0.5"), &proxies),
            ip("203.0.113.9")
        );
        // Garbage in the header: the nearest address known.
        assert_eq!(client_address(ip("127.0.0.1"), Some("not-an-address"), &proxies), ip("127.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), None, &proxies), ip("127.0.0.1"));
    }
}
