//! LibreTranslate's API (as of LibreTranslate 1.9): `/translate`, `/detect`, `/languages`,
//! `/frontend/settings`, `/suggest` (answered as disabled), in LibreTranslate's request forms
//! (JSON, URL-encoded or multipart bodies, and the query string) and its response and error
//! shapes (`{"error": "…"}` with its status codes), with `Access-Control-Allow-Origin: *`.
//!
//! Keys: LibreTranslate carries them in the `api_key` field; they are Tradia API keys. Without
//! one the call is refused with LibreTranslate's own message for servers that require keys
//! (`400`), unless `TRADIA_LIBRETRANSLATE_KEYLESS_USER` turns the keyless mode on; an unknown
//! key gets LibreTranslate's `403 Invalid API key`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::{Map, Value, json};
use tradia_core::detect::detect_language_scored;
use tradia_core::{LANGUAGES, LanguageTag};

use super::engine::{self, Markup, TextBatch};
use super::{KeyRefusal, key_identity, keyless_identity, text_field};
use crate::accounts::Identity;
use crate::api::input::Payload;
use crate::api::routes::{Access, Route};
use crate::error::{ApiError, ErrorCode};
use crate::settings::Mount;
use crate::state::AppState;

/// The paths of this API (below its prefix), for [`super::owns`].
pub const PATHS: &[&str] =
    &["/translate", "/detect", "/languages", "/frontend/settings", "/suggest"];

/// LibreTranslate's message when a key is required and none was sent.
pub const KEY_REQUIRED: &str = "Please contact the server operator to get an API key";

/// The routes, under `mount`'s prefix.
pub fn routes(state: &AppState, mount: &Mount) -> Vec<Route> {
    let upload_limit = usize::try_from(state.settings.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let cors = |r: MethodRouter<Arc<AppState>>| r.layer(axum::middleware::map_response(add_cors));
    let mut routes = vec![
        Route::post(mount.path("/translate"), Access::Key, translate),
        Route::post(mount.path("/detect"), Access::Key, detect),
        Route::post(mount.path("/suggest"), Access::Public, suggest),
        Route::get(mount.path("/languages"), Access::Public, languages),
        Route::get(mount.path("/frontend/settings"), Access::Public, frontend_settings),
        Route::post(mount.path("/translate_file"), Access::Key, super::lt_files::translate_file)
            .body_limit(upload_limit),
        // The URL itself is the credential (as LibreTranslate's): see `lt_files`.
        Route::get(
            mount.path("/download_file/{id}/{token}/{name}"),
            Access::Public,
            super::lt_files::download_file,
        ),
    ];
    for path in ["/translate", "/detect", "/suggest", "/translate_file"] {
        routes.push(Route::options(mount.path(path), Access::Public, preflight));
    }
    routes.into_iter().map(|r| r.wrap(cors)).collect()
}

async fn add_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-headers", "Authorization, Content-Type"),
        ("access-control-expose-headers", "Authorization"),
        ("access-control-allow-methods", "GET, POST"),
        ("access-control-max-age", "1728000"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Answers a CORS preflight (the headers come from the route's layer).
async fn preflight() -> StatusCode {
    StatusCode::OK
}

/// An error in LibreTranslate's shape: `{"error": "…"}`.
#[derive(Debug)]
pub struct LtError {
    pub(super) status: StatusCode,
    pub(super) message: String,
}

impl LtError {
    pub(super) fn bad(message: impl Into<String>) -> Self {
        LtError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl From<ApiError> for LtError {
    fn from(e: ApiError) -> Self {
        let status = match e.code {
            ErrorCode::InvalidCredentials | ErrorCode::AccountDisabled => StatusCode::FORBIDDEN,
            ErrorCode::QuotaExceeded | ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            _ if e.status().is_client_error() => StatusCode::BAD_REQUEST,
            _ => e.status(),
        };
        LtError { status, message: e.message }
    }
}

impl IntoResponse for LtError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// The request's fields, body and query string.
fn fields(
    query: Option<String>,
    payload: Result<Payload, ApiError>,
) -> Result<Map<String, Value>, LtError> {
    match payload {
        Ok(p) => Ok(super::with_query(query, p.fields)),
        Err(e) if e.code == ErrorCode::InvalidJson => Err(LtError::bad("Invalid JSON format")),
        Err(e) => Err(e.into()),
    }
}

fn required(fields: &Map<String, Value>, name: &str) -> Result<String, LtError> {
    text_field(fields, name)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| LtError::bad(format!("Invalid request: missing {name} parameter")))
}

/// The caller of a call whose fields carry `api_key` (or an `Authorization` header).
pub(super) async fn caller(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    fields: &Map<String, Value>,
) -> Result<Identity, LtError> {
    let key =
        text_field(fields, "api_key").or_else(|| super::header_key(headers).map(str::to_string));
    match key_identity(state, key.as_deref()).await {
        Ok(identity) => Ok(identity),
        Err(KeyRefusal::Missing) => match &state.settings.compat.libretranslate_keyless_user {
            Some(login) => Ok(keyless_identity(state, login).await?),
            None => Err(LtError::bad(KEY_REQUIRED)),
        },
        Err(KeyRefusal::Invalid) => {
            Err(LtError { status: StatusCode::FORBIDDEN, message: "Invalid API key".into() })
        }
        Err(KeyRefusal::Failed(e)) => Err(e.into()),
    }
}

/// A LibreTranslate language code as a Tradia tag (`pb`, `zt` and `zh` are its old codes).
pub(super) fn language(code: &str) -> Result<LanguageTag, LtError> {
    let mapped = match code.trim().to_ascii_lowercase().as_str() {
        "pb" => "pt-BR".to_string(),
        "zt" => "zh-Hant".to_string(),
        "zh" => "zh-Hans".to_string(),
        other => other.to_string(),
    };
    crate::detect::parse_language("target", &mapped)
        .map_err(|_| LtError::bad(format!("{} is not supported", code.trim())))
}

/// LibreTranslate's detection object: confidence 0–100.
fn detection(text: &str) -> Value {
    match detect_language_scored(text) {
        Some((tag, confidence)) => {
            json!({"confidence": (confidence * 1000.0).round() / 10.0, "language": tag.to_string()})
        }
        None => json!({"confidence": 0.0, "language": "en"}),
    }
}

/// `POST /translate`: `q` (a string, or a list in JSON), `source` (a code or `auto`), `target`,
/// `format` (`text` or `html`), `alternatives`, `api_key`.
#[utoipa::path(post, path = "/translate", tag = "libretranslate",
    request_body(content = String, description = "LibreTranslate's fields, JSON, form or query: q, source, target, format, alternatives, api_key"),
    responses((status = 200, description = "{\"translatedText\": …, \"detectedLanguage\"?: {\"confidence\", \"language\"}, \"alternatives\"?: […]}"),
        (status = 400, description = "{\"error\": …}: a missing or unsupported parameter, or no API key"),
        (status = 403, description = "{\"error\": \"Invalid API key\"}"),
        (status = 429, description = "{\"error\": …}: quota exceeded")))]
pub async fn translate(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, LtError> {
    let fields = fields(query, payload)?;
    let identity = caller(&state, &headers, &fields).await?;
    let (texts, batch) = match fields.get("q") {
        Some(Value::Array(items)) => {
            let texts: Option<Vec<String>> =
                items.iter().map(|v| v.as_str().map(str::to_string)).collect();
            (
                texts.ok_or_else(|| {
                    LtError::bad("Invalid request: q must be a string or a list of strings")
                })?,
                true,
            )
        }
        _ => (vec![required(&fields, "q")?], false),
    };
    if texts.is_empty() {
        return Err(LtError::bad("Invalid request: missing q parameter"));
    }
    let source = required(&fields, "source")?;
    let target = language(&required(&fields, "target")?)?;
    let source =
        if source.trim().eq_ignore_ascii_case("auto") { None } else { Some(language(&source)?) };
    let markup = match text_field(&fields, "format").as_deref().map(str::trim) {
        None | Some("") | Some("text") => Markup::Text,
        Some("html") => Markup::Tags,
        Some(other) => return Err(LtError::bad(format!("{other} format is not supported"))),
    };
    let alternatives = match fields.get("alternatives") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) if s.trim().is_empty() => 0,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| LtError::bad("Invalid request: alternatives parameter is not a number"))?,
        Some(_) => {
            return Err(LtError::bad("Invalid request: alternatives parameter is not a number"));
        }
    };
    let detect = source.is_none();
    let translated = engine::translate_batch(
        &state,
        &identity,
        TextBatch {
            texts: texts.clone(),
            source,
            target,
            markup,
            guidance: Default::default(),
            api: "libretranslate",
        },
    )
    .await?;
    let detections: Vec<Value> = texts.iter().map(|t| detection(t)).collect();
    let outputs: Vec<Value> = translated.iter().map(|t| Value::String(t.text.clone())).collect();
    let mut body = Map::new();
    if batch {
        body.insert("translatedText".into(), Value::Array(outputs));
        if detect {
            body.insert("detectedLanguage".into(), Value::Array(detections));
        }
        if alternatives > 0 {
            body.insert(
                "alternatives".into(),
                Value::Array(texts.iter().map(|_| json!([])).collect()),
            );
        }
    } else {
        body.insert("translatedText".into(), outputs.into_iter().next().unwrap_or_default());
        if detect {
            body.insert(
                "detectedLanguage".into(),
                detections.into_iter().next().unwrap_or_default(),
            );
        }
        if alternatives > 0 {
            body.insert("alternatives".into(), json!([]));
        }
    }
    Ok(Json(Value::Object(body)))
}

/// `POST /detect`: the language of `q`, as a list of candidates with confidence 0–100.
#[utoipa::path(post, path = "/detect", tag = "libretranslate",
    request_body(content = String, description = "q, api_key (JSON, form or query)"),
    responses((status = 200, description = "[{\"confidence\": 0–100, \"language\": code}]"),
        (status = 400, description = "{\"error\": …}"), (status = 403, description = "{\"error\": \"Invalid API key\"}")))]
pub async fn detect(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, LtError> {
    let fields = fields(query, payload)?;
    caller(&state, &headers, &fields).await?;
    let q = required(&fields, "q")?;
    engine::check_bounds(std::slice::from_ref(&q))?;
    Ok(Json(json!([detection(&q)])))
}

/// `GET /languages`: every language, each with the others as targets.
#[utoipa::path(get, path = "/languages", tag = "libretranslate",
    responses((status = 200, description = "[{\"code\", \"name\", \"targets\": [codes]}]")))]
pub async fn languages() -> Json<Value> {
    let list: Vec<Value> = LANGUAGES
        .iter()
        .map(|l| {
            let targets: Vec<&str> =
                LANGUAGES.iter().filter(|t| t.code != l.code).map(|t| t.code).collect();
            json!({"code": l.code, "name": l.english, "targets": targets})
        })
        .collect();
    Json(Value::Array(list))
}

/// `GET /frontend/settings`: what LibreTranslate's page and some clients read.
#[utoipa::path(get, path = "/frontend/settings", tag = "libretranslate",
    responses((status = 200, description = "LibreTranslate's frontend settings object")))]
pub async fn frontend_settings(State(state): State<Arc<AppState>>) -> Json<Value> {
    let key_required = state.settings.compat.libretranslate_keyless_user.is_none();
    Json(json!({
        "charLimit": engine::MAX_CHARS,
        "frontendTimeout": 500,
        "apiKeys": true,
        "keyRequired": key_required,
        "suggestions": false,
        "filesTranslation": true,
        "supportedFilesFormat": super::lt_files::EXTENSIONS,
        "language": {
            "source": {"code": "auto", "name": "Auto Detect"},
            "target": {"code": "en", "name": "English"},
        },
    }))
}

/// `POST /suggest`: disabled, as on a LibreTranslate server without `--suggestions`.
#[utoipa::path(post, path = "/suggest", tag = "libretranslate",
    responses((status = 403, description = "{\"error\": \"Suggestions are disabled on this server.\"}")))]
pub async fn suggest() -> LtError {
    LtError {
        status: StatusCode::FORBIDDEN,
        message: "Suggestions are disabled on this server.".into(),
    }
}
