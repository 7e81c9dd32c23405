//! Cross-site request forgery: a page on another site must not make a signed-in browser change
//! anything here.
//!
//! Browsers attach the session cookie (`SameSite=Lax` still lets a top-level form post through
//! on some browsers and for same-site subdomains) and an `Origin` header to such requests. This
//! layer refuses any unsafe request (POST, PUT, PATCH, DELETE) whose `Origin` is not the
//! service's own, or that the browser marks `Sec-Fetch-Site: cross-site`, whatever its
//! credentials, with `403 csrf_failed`. That also protects single-user mode, which has no cookie.
//! Requests with an API key (`Authorization: Bearer …`) are exempt: a browser cannot add that
//! header to a cross-site request without a CORS preflight, which the service never grants.
//! The second half, the session's `X-CSRF-Token`, is checked where the session is read. The
//! compatible APIs (`crate::compat`) are exempt: they never read the cookie.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::origin;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// True for the methods that may change something.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// True when the request carries an API key.
pub fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "))
}

/// The origin the service's own pages send: the public one, or, without `TRADIA_PUBLIC_URL`,
/// the scheme and `Host` of the request itself.
pub fn own_origin(state: &AppState, request: &Request) -> Option<String> {
    if let Some(public) = &state.settings.access.public_url {
        return Some(public.origin.clone());
    }
    let host = request.headers().get(HOST).and_then(|v| v.to_str().ok())?;
    let scheme = if origin::of(request).tls { "https" } else { "http" };
    Some(format!("{scheme}://{}", host.trim().to_ascii_lowercase()))
}

/// Why an unsafe request is refused, if it is.
pub fn refusal(state: &AppState, request: &Request) -> Option<&'static str> {
    if !is_unsafe(request.method()) || has_bearer(request.headers()) {
        return None;
    }
    // The compatible APIs never read the session cookie, so a cross-site call carries no
    // authority but its own key (LibreTranslate is meant to be called from other sites).
    if crate::compat::owns(state, request.uri().path()) {
        return None;
    }
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return Some("the request was sent from another site");
    }
    let sent = headers.get(ORIGIN)?.to_str().unwrap_or("null").trim().to_ascii_lowercase();
    let own = own_origin(state, request)?;
    let strip = |o: &str| -> String {
        o.strip_suffix(":443")
            .filter(|_| o.starts_with("https://"))
            .or_else(|| o.strip_suffix(":80").filter(|_| o.starts_with("http://")))
            .unwrap_or(o)
            .to_string()
    };
    (strip(&sent) != strip(&own)).then_some("the request's Origin is not this service")
}

/// Layer: refuses cross-site unsafe requests.
pub async fn check(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    match refusal(&state, &request) {
        None => next.run(request).await,
        Some(why) => {
            tracing::warn!(path = %request.uri().path(), "cross-site request refused: {why}");
            ApiError::new(ErrorCode::CsrfFailed, why).into_response()
        }
    }
}
