//! The API key, when one is configured: accepted as `Authorization: Bearer`, `Basic` or
//! `X-API-Key` (the schemes Tradia's client can send); anything else is a 401 in the caller's
//! dialect.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;

use super::MSG_UNAUTHORIZED;
use super::errors::{Dialect, sim_error};
use crate::engine::Sim;

/// Middleware on `/api/*` and `/v1/*`.
pub(super) async fn auth(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    if let Some(key) = &sim.config.api_key
        && !authorized(req.headers(), key)
    {
        let dialect =
            if req.uri().path().starts_with("/v1") { Dialect::OpenAi } else { Dialect::Ollama };
        let msg = if sim.config.flavor == crate::config::Flavor::LlamaCpp {
            "Invalid API Key"
        } else {
            MSG_UNAUTHORIZED
        };
        let mut resp = sim_error(&sim, dialect, StatusCode::UNAUTHORIZED, msg);
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ollama\""));
        return resp;
    }
    next.run(req).await
}

/// Accepts `Authorization: Bearer K`, `Authorization: Basic base64(user:K)` (any user name,
/// `api` by convention) and `X-API-Key: K`.
fn authorized(headers: &HeaderMap, key: &str) -> bool {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(key) {
        return true;
    }
    let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return value == key;
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value) else {
            return false;
        };
        let Ok(decoded) = String::from_utf8(decoded) else { return false };
        return decoded.split_once(':').is_some_and(|(_, pass)| pass == key);
    }
    false
}
