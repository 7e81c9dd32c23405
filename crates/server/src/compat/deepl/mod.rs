//! DeepL's API v2: text (`/v2/translate`), languages, usage ([`text`]) and documents
//! ([`document`]), in DeepL's request forms (JSON or form bodies, repeated form keys as lists,
//! `GET` parameters in the query or the body) and its answers: upper-case language codes,
//! `billed_characters` always (the Python client needs it), and DeepL's error statuses with a
//! `{"message": "…"}` body — `403` for a bad key, `456` for a spent quota, `404` for an unknown
//! document, `503` for a document not translated yet — which the official clients turn into
//! their documented exceptions.
//!
//! Keys: `Authorization: DeepL-Auth-Key <Tradia API key>` (or `Bearer`).

pub mod document;
pub mod glossary;
pub mod text;

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tradia_core::{Formality, LanguageTag};

use super::{KeyRefusal, header_key, key_identity};
use crate::accounts::Identity;
use crate::api::routes::{Access, Route};
use crate::error::{ApiError, ErrorCode};
use crate::settings::Mount;
use crate::state::AppState;

/// The paths of this API (below its prefix), for [`super::owns`].
pub const PATHS: &[&str] = &["/v2/*"];

/// The routes, under `mount`'s prefix.
pub fn routes(_state: &AppState, mount: &Mount) -> Vec<Route> {
    let upload_limit = usize::try_from(_state.settings.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    vec![
        Route::post(mount.path("/v2/translate"), Access::Key, text::translate)
            .body_limit(super::engine::MAX_CHARS * 8 + 64 * 1024),
        Route::get(mount.path("/v2/languages"), Access::Key, text::languages),
        Route::get(mount.path("/v2/usage"), Access::Key, text::usage),
        Route::post(mount.path("/v2/document"), Access::Key, document::upload)
            .body_limit(upload_limit),
        Route::post(mount.path("/v2/document/{id}"), Access::Key, document::status),
        Route::post(mount.path("/v2/document/{id}/result"), Access::Key, document::result),
        Route::post(mount.path("/v2/glossaries"), Access::Key, glossary::create),
        Route::get(mount.path("/v2/glossaries"), Access::Key, glossary::list),
        Route::get(mount.path("/v2/glossaries/{id}"), Access::Key, glossary::get),
        Route::delete(mount.path("/v2/glossaries/{id}"), Access::Key, glossary::delete),
        Route::get(mount.path("/v2/glossaries/{id}/entries"), Access::Key, glossary::entries),
        Route::get(
            mount.path("/v2/glossary-language-pairs"),
            Access::Key,
            glossary::language_pairs,
        ),
    ]
}

/// `456`: DeepL's status for a spent quota.
pub const QUOTA_EXCEEDED: u16 = 456;

/// An error in DeepL's shape: `{"message": "…"}` with DeepL's status.
#[derive(Debug)]
pub struct DeeplError {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl DeeplError {
    /// `400` with `message`.
    pub fn bad(message: impl Into<String>) -> Self {
        DeeplError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    /// `404` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        DeeplError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    fn forbidden() -> Self {
        DeeplError {
            status: StatusCode::FORBIDDEN,
            message:
                "Authorization failure: send a valid key as `Authorization: DeepL-Auth-Key <key>`"
                    .into(),
        }
    }
}

impl From<ApiError> for DeeplError {
    fn from(e: ApiError) -> Self {
        let status = match e.code {
            ErrorCode::InvalidCredentials
            | ErrorCode::Unauthenticated
            | ErrorCode::AccountDisabled => StatusCode::FORBIDDEN,
            ErrorCode::QuotaExceeded => {
                StatusCode::from_u16(QUOTA_EXCEEDED).unwrap_or(StatusCode::TOO_MANY_REQUESTS)
            }
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::JobNotFound | ErrorCode::GlossaryNotFound => StatusCode::NOT_FOUND,
            _ => {
                let status = e.status();
                let kept = [StatusCode::PAYLOAD_TOO_LARGE, StatusCode::UNSUPPORTED_MEDIA_TYPE];
                if status.is_client_error() && !kept.contains(&status) {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                }
            }
        };
        DeeplError { status, message: e.message }
    }
}

impl IntoResponse for DeeplError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

/// The caller of a DeepL call (its `Authorization` header).
pub async fn caller(state: &Arc<AppState>, headers: &HeaderMap) -> Result<Identity, DeeplError> {
    match key_identity(state, header_key(headers)).await {
        Ok(identity) => Ok(identity),
        Err(KeyRefusal::Missing | KeyRefusal::Invalid) => Err(DeeplError::forbidden()),
        Err(KeyRefusal::Failed(e)) => Err(e.into()),
    }
}

/// A DeepL language code (`DE`, `EN-GB`, `PT-BR`, `ZH-HANS`) as a Tradia tag.
pub fn language(field: &str, code: &str) -> Result<LanguageTag, DeeplError> {
    crate::detect::parse_language(field, code.trim())
        .map_err(|_| DeeplError::bad(format!("Value for '{field}' not supported.")))
}

/// DeepL's `formality` values.
pub fn formality(value: Option<&str>) -> Result<Formality, DeeplError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("default") => Ok(Formality::Default),
        Some("more" | "prefer_more") => Ok(Formality::More),
        Some("less" | "prefer_less") => Ok(Formality::Less),
        Some(_) => Err(DeeplError::bad("Value for 'formality' not supported.")),
    }
}
