//! The `Host` check: a request naming another host than `TRADIA_PUBLIC_URL`'s is refused
//! (`421 misdirected_request`) before anything is done.
//!
//! A page on another site can make a browser resolve that site's name to the service's address
//! (DNS rebinding) and then read its answers as same-origin ones; the `Host` header still carries
//! the other site's name, which is how the attack is told apart. Probes and metrics
//! ([`super::PROBE_PATHS`]) are exempt: they address the container directly. Without
//! `TRADIA_PUBLIC_URL` the check is off (the start-up log says so). Behind a trusted proxy that
//! rewrites `Host`, the `X-Forwarded-Host` it sets is the one checked.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::origin::{self, last_value};
use crate::error::{ApiError, ErrorCode};
use crate::settings::access::PublicUrl;
use crate::state::AppState;

/// The authority (`host[:port]`) a request names, lower-cased, from `X-Forwarded-Host` when a
/// trusted proxy sent it, else `Host`, else the request line (HTTP/2 `:authority`).
pub fn requested_authority(request: &Request) -> Option<String> {
    let headers = request.headers();
    let forwarded = origin::of(request)
        .via_trusted_proxy
        .then(|| last_value(headers, "x-forwarded-host"))
        .flatten();
    forwarded
        .or_else(|| headers.get(HOST).and_then(|v| v.to_str().ok()))
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .map(|a| a.trim().to_ascii_lowercase())
}

/// True when `authority` names the public address (its port may be omitted when it is the
/// scheme's default).
pub fn matches_public(public: &PublicUrl, authority: &str) -> bool {
    let default_port = if public.is_https() { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    authority == public.authority
}

/// Layer: refuses a request whose `Host` is not the public address.
pub async fn check(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(public) = &state.settings.access.public_url else {
        return next.run(request).await;
    };
    if super::is_probe(request.uri().path()) {
        return next.run(request).await;
    }
    match requested_authority(&request) {
        Some(authority) if matches_public(public, &authority) => next.run(request).await,
        named => {
            tracing::warn!(host = named.as_deref().unwrap_or("(none)"), expected = %public.authority, "request for another host refused");
            ApiError::new(
                ErrorCode::MisdirectedRequest,
                format!("this service answers for {} only", public.origin),
            )
            .into_response()
        }
    }
}
