//! The security headers of every response: the API's JSON, downloads, event streams, the API
//! description page, errors (a refused `Host` included).
//!
//! The same Content-Security-Policy as the page's holds everywhere, which is why `/api/docs`
//! serves its script and style as files beside it rather than inline. A response that already
//! has one of these headers (the web interface sets its own) keeps it. HSTS is sent only when the
//! request came over TLS, as a trusted proxy says: over plain HTTP browsers ignore it, and a
//! laptop install on `http://localhost` must stay reachable.

use axum::extract::Request;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use super::origin;

/// The Content-Security-Policy of every response (the page's own policy: only this server may
/// be contacted; `img-src blob:` previews a photo picked for a meeting summary).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `Strict-Transport-Security` when the request came over TLS: a year, subdomains not included
/// (the service does not own its parent domain).
pub const HSTS: &str = "max-age=31536000";

/// The headers every response carries.
pub const ALWAYS: [(HeaderName, &str); 5] = [
    (CONTENT_SECURITY_POLICY, CSP),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (REFERRER_POLICY, "no-referrer"),
    (X_FRAME_OPTIONS, "DENY"),
    (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
];

/// Layer: adds the security headers to the response.
pub async fn add(request: Request, next: Next) -> Response {
    let tls = origin::of(&request).tls;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in ALWAYS {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if tls {
        headers.entry(STRICT_TRANSPORT_SECURITY).or_insert(HeaderValue::from_static(HSTS));
    }
    response
}
