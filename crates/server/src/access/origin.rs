//! Where a request comes from: the peer address, the client behind a trusted proxy, and whether
//! it came over TLS.
//!
//! Forwarding headers (`X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`) are believed
//! only from the addresses of `TRADIA_AUTH_PROXY_TRUSTED`: from anywhere else a client could
//! claim any address (and escape its rate limit) or claim TLS. The facts are worked out once, by
//! [`identify`], and kept in the request's extensions for the later layers, the handlers and the
//! audit log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::settings::access::canonical_ip;
use crate::state::AppState;

/// The facts about a request's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOrigin {
    /// The TCP peer (`None` when the service is driven without a socket, as in router tests).
    pub peer: Option<IpAddr>,
    /// The client: the peer, or the address a trusted proxy forwarded for.
    pub client: Option<IpAddr>,
    /// True when the peer is a trusted proxy.
    pub via_trusted_proxy: bool,
    /// True when the request came over TLS, as a trusted proxy says (`X-Forwarded-Proto`).
    pub tls: bool,
}

impl RequestOrigin {
    /// The origin of a request with no socket and no proxy (tests, internal calls).
    pub const UNKNOWN: RequestOrigin =
        RequestOrigin { peer: None, client: None, via_trusted_proxy: false, tls: false };

    /// Works out the origin of a request from `peer` with `headers`.
    pub fn from_parts(
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        is_trusted: impl Fn(IpAddr) -> bool,
    ) -> RequestOrigin {
        let peer = peer.map(canonical_ip);
        let via_trusted_proxy = peer.is_some_and(&is_trusted);
        if !via_trusted_proxy {
            return RequestOrigin { peer, client: peer, via_trusted_proxy, tls: false };
        }
        // Each proxy appends the address it received from: walking from the right, the first
        // address that is not a trusted proxy is the client (anything left of it was written by
        // the client itself and proves nothing).
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .map(canonical_ip)
            .collect();
        let client = forwarded.iter().rev().find(|a| !is_trusted(**a)).copied().or(peer);
        let tls = last_value(headers, "x-forwarded-proto")
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
        RequestOrigin { peer, client, via_trusted_proxy, tls }
    }
}

/// The last comma-separated value of a header (the one the nearest proxy wrote).
pub fn last_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(name)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Layer: stores the request's [`RequestOrigin`] in its extensions.
pub async fn identify(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let access = &state.settings.access;
    let origin = RequestOrigin::from_parts(peer, request.headers(), |a| access.is_trusted_proxy(a));
    request.extensions_mut().insert(origin);
    next.run(request).await
}

/// The origin stored by [`identify`], or [`RequestOrigin::UNKNOWN`].
pub fn of(request: &Request) -> RequestOrigin {
    request.extensions().get::<RequestOrigin>().copied().unwrap_or(RequestOrigin::UNKNOWN)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(a: IpAddr) -> bool {
        a == ip("10.0.0.2") || a == ip("10.0.0.3")
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers
            .insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 192.0.2.10, 10.0.0.3"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let from_proxy = RequestOrigin::from_parts(Some(ip("10.0.0.2")), &headers, trusted);
        assert_eq!(from_proxy.client, Some(ip("192.0.2.10")), "the client the proxies saw");
        assert!(from_proxy.via_trusted_proxy && from_proxy.tls);
        let direct = RequestOrigin::from_parts(Some(ip("203.0.113.5")), &headers, trusted);
        assert_eq!(direct.client, Some(ip("203.0.113.5")), "a claimed address is ignored");
        assert!(!direct.via_trusted_proxy && !direct.tls, "a claimed TLS is ignored");
        let mapped = RequestOrigin::from_parts(Some(ip("::ffff:10.0.0.2")), &headers, trusted);
        assert!(mapped.via_trusted_proxy, "an IPv4-mapped peer is its IPv4 address");
        let bare = RequestOrigin::from_parts(Some(ip("10.0.0.2")), &HeaderMap::new(), trusted);
        assert_eq!(bare.client, Some(ip("10.0.0.2")));
        assert!(!bare.tls);
        assert_eq!(RequestOrigin::from_parts(None, &headers, trusted), RequestOrigin::UNKNOWN);
    }
}
