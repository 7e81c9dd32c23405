//! Drop-in APIs of other translation services, so that the clients an organisation already runs
//! (browser extensions, CAT-tool plugins, office add-ins, the official SDKs) work unchanged
//! against Tradia: [`libretranslate`] and [`deepl`] (API v2).
//!
//! Both answer in their service's shapes (bodies, status codes, error bodies), not Tradia's, and
//! both take API keys only — where those APIs carry them (`api_key`, `Authorization:
//! DeepL-Auth-Key …`, or Tradia's `Bearer`) — never the session cookie: a browser page on
//! another site can call LibreTranslate's routes (CORS `*`) but cannot ride a signed-in session.
//! The request layers therefore leave these paths alone ([`owns`]: no cookie identity, no CSRF
//! check); each handler identifies its caller with [`key_identity`]. Everything counts in the
//! caller's quota and usage and is written to the audit log, like Tradia's own API.

pub mod deepl;
pub mod engine;
pub mod libretranslate;
pub mod lt_files;

use tradia_store::UserState;

use crate::accounts::secrets::hash_token;
use crate::accounts::{Identity, Via, caller};
use crate::api::routes::Route;
use crate::error::{ApiError, ErrorCode};
use crate::settings::AuthMode;
use crate::state::AppState;

/// The routes of the compatible APIs that are turned on, under their prefixes.
pub fn routes(state: &AppState) -> Vec<Route> {
    let compat = &state.settings.compat;
    let mut routes = Vec::new();
    if compat.libretranslate.enabled {
        routes.extend(libretranslate::routes(state, &compat.libretranslate));
    }
    if compat.deepl.enabled {
        routes.extend(deepl::routes(state, &compat.deepl));
    }
    routes
}

/// True when `path` is served by a compatible API (the request layers skip the session cookie
/// and the CSRF check there).
pub fn owns(state: &AppState, path: &str) -> bool {
    let compat = &state.settings.compat;
    compat.libretranslate.owns(path, libretranslate::PATHS) || compat.deepl.owns(path, deepl::PATHS)
}

/// Why a key did not identify anyone.
#[derive(Debug)]
pub enum KeyRefusal {
    /// No key was sent.
    Missing,
    /// The key is unknown or revoked, or its account disabled.
    Invalid,
    /// The store could not be read.
    Failed(ApiError),
}

impl From<ApiError> for KeyRefusal {
    fn from(e: ApiError) -> Self {
        KeyRefusal::Failed(e)
    }
}

/// The caller a key proves. In single-user mode everyone is the one local user, key or not.
pub async fn key_identity(state: &AppState, key: Option<&str>) -> Result<Identity, KeyRefusal> {
    if let AuthMode::SingleUser = state.settings.access.mode {
        return state
            .single_user
            .get()
            .map(|user| Identity { user: user.clone(), via: Via::SingleUser })
            .ok_or_else(|| {
                KeyRefusal::Failed(ApiError::internal("single-user mode", "no local user"))
            });
    }
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(KeyRefusal::Missing);
    };
    let store = state.jobs.store();
    let found = store
        .find_api_key(hash_token(key))
        .await
        .map_err(|e| ApiError::internal("cannot read the caller's credentials", e))?;
    let Some((api_key, user)) = found else { return Err(KeyRefusal::Invalid) };
    if user.state != UserState::Active {
        return Err(KeyRefusal::Invalid);
    }
    if let Err(e) = store.touch_api_key(api_key.id).await {
        tracing::warn!(error = %e, "cannot record the API key's use");
    }
    Ok(Identity { user, via: Via::ApiKey(api_key.id) })
}

/// The account keyless calls run as (created on first use).
pub async fn keyless_identity(state: &AppState, login: &str) -> Result<Identity, ApiError> {
    let user = caller::proxy_user(state, login).await?;
    if user.state != UserState::Active {
        return Err(ApiError::new(ErrorCode::AccountDisabled, "the keyless account is disabled"));
    }
    Ok(Identity { user, via: Via::Keyless })
}

/// The key of `Authorization: DeepL-Auth-Key …` or `Authorization: Bearer …`.
pub fn header_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("deepl-auth-key") || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| token.trim())
}

/// The request's fields: the body's, then the query string's for names the body lacks (as
/// LibreTranslate's `request.values`; DeepL clients send `GET` parameters either way).
pub fn with_query(
    query: Option<String>,
    mut fields: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    if let Some(query) = query {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            fields.entry(k.into_owned()).or_insert(serde_json::Value::String(v.into_owned()));
        }
    }
    fields
}

/// The first string of field `name` (a string, a number, or the first string of a list).
pub fn text_field(
    fields: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<String> {
    use serde_json::Value;
    match fields.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(|v| v.as_str().map(str::to_string)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Object(_) => None,
    }
}
