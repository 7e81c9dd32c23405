//! `POST /v2/translate`, `GET /v2/languages`, `GET /v2/usage`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};
use tradia_core::{Guidance, LANGUAGES};

use super::{DeeplError, caller, formality, language};
use crate::accounts::quota;
use crate::api::input::Payload;
use crate::compat::engine::{self, Markup, TextBatch};
use crate::compat::{text_field, with_query};
use crate::error::ApiError;
use crate::state::AppState;

/// Largest usage limit reported when the caller has none (DeepL Pro reports a large number).
const UNLIMITED: u64 = 1_000_000_000_000;

fn fields(
    query: Option<String>,
    payload: Result<Payload, ApiError>,
) -> Result<Map<String, Value>, DeeplError> {
    Ok(with_query(query, payload?.fields))
}

/// The texts of `text`: a list, repeated form keys, or one string.
fn texts(fields: &Map<String, Value>) -> Result<Vec<String>, DeeplError> {
    let missing = || DeeplError::bad("Parameter 'text' not specified.");
    match fields.get("text") {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| DeeplError::bad("Parameter 'text' must be a list of strings.")),
        _ => Err(missing()),
    }
}

/// Most glossaries one request may name (DeepL's limit).
const MAX_GLOSSARIES: usize = 5;

/// The glossaries a request names: `glossary_id`, or `glossary_ids` (a list, or a comma-separated
/// form value), applied in order.
fn glossary_ids(fields: &Map<String, Value>) -> Result<Vec<String>, DeeplError> {
    let mut ids: Vec<String> = text_field(fields, "glossary_id").into_iter().collect();
    match fields.get("glossary_ids") {
        Some(Value::Array(items)) => {
            ids.extend(items.iter().filter_map(|v| v.as_str()).map(str::to_string));
        }
        Some(Value::String(s)) => ids.extend(s.split(',').map(str::to_string)),
        _ => {}
    }
    ids.retain(|id| !id.trim().is_empty());
    if ids.len() > MAX_GLOSSARIES {
        return Err(DeeplError::bad(format!(
            "at most {MAX_GLOSSARIES} glossaries per request, got {}",
            ids.len()
        )));
    }
    Ok(ids)
}

/// `POST /v2/translate`: `text`, `target_lang`, `source_lang`, `formality`, `tag_handling`,
/// `context`, `glossary_id` and DeepL's other parameters.
#[utoipa::path(post, path = "/v2/translate", tag = "deepl",
    request_body(content = String, description = "DeepL's fields, JSON or form: text (list), target_lang, source_lang, formality, tag_handling (xml|html), context, glossary_id, …"),
    responses((status = 200, description = "{\"translations\": [{\"detected_source_language\", \"text\", \"billed_characters\"}]}"),
        (status = 400, description = "{\"message\": …}"), (status = 403, description = "bad or missing key"),
        (status = 456, description = "quota exceeded")))]
pub async fn translate(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let fields = fields(query, payload)?;
    let texts = texts(&fields)?;
    let target = match text_field(&fields, "target_lang") {
        Some(t) if !t.trim().is_empty() => language("target_lang", &t)?,
        _ => return Err(DeeplError::bad("Parameter 'target_lang' not specified.")),
    };
    let source = match text_field(&fields, "source_lang") {
        Some(s) if !s.trim().is_empty() => Some(language("source_lang", &s)?),
        _ => None,
    };
    let markup = match text_field(&fields, "tag_handling").as_deref().map(str::trim) {
        None | Some("") => Markup::Text,
        Some("xml" | "html") => Markup::Tags,
        Some(_) => return Err(DeeplError::bad("Value for 'tag_handling' not supported.")),
    };
    let formality = formality(text_field(&fields, "formality").as_deref())?;
    let mut terms = Vec::new();
    for id in glossary_ids(&fields)? {
        terms.extend(
            super::glossary::terms_for(&state, &identity, &id, source.as_ref(), &target).await?,
        );
    }
    let model_type = text_field(&fields, "model_type");
    let context = text_field(&fields, "context").filter(|c| !c.trim().is_empty());
    let guidance = Guidance {
        formality,
        // DeepL's `context`: what the texts are about, not translated, not billed.
        brief: context.map(|c| c.chars().take(2000).collect()),
        terms,
        ..Guidance::default()
    };
    let translated = engine::translate_batch(
        &state,
        &identity,
        TextBatch { texts, source, target, markup, guidance, api: "deepl" },
    )
    .await?;
    let translations: Vec<Value> = translated
        .into_iter()
        .map(|t| {
            let detected = t.source.map(|s| s.primary().to_ascii_uppercase()).unwrap_or_default();
            let mut entry = json!({
                "detected_source_language": detected,
                "text": t.text,
                "billed_characters": t.chars,
            });
            if model_type.is_some() {
                entry["model_type_used"] = json!("quality_optimized");
            }
            entry
        })
        .collect();
    Ok(Json(json!({ "translations": translations })))
}

/// `GET /v2/languages?type=source|target` (also `type` in a form body, as deepl-python sends).
#[utoipa::path(get, path = "/v2/languages", tag = "deepl",
    params(("type" = Option<String>, Query, description = "source (default) or target")),
    responses((status = 200, description = "[{\"language\", \"name\", \"supports_formality\"?}]"),
        (status = 403, description = "bad or missing key")))]
pub async fn languages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, DeeplError> {
    caller(&state, &headers).await?;
    // A GET without a body is not JSON: only the query string counts then.
    let fields = with_query(query, payload.map(|p| p.fields).unwrap_or_default());
    let target = match text_field(&fields, "type").as_deref().map(str::trim) {
        None | Some("") | Some("source") => false,
        Some("target") => true,
        Some(_) => return Err(DeeplError::bad("Value for 'type' not supported.")),
    };
    let mut list = Vec::new();
    for l in LANGUAGES {
        let code = l.code.to_ascii_uppercase();
        let codes: Vec<(String, String)> = match (target, l.code) {
            (false, c) if c.contains('-') => continue,
            (true, "en") => vec![
                ("EN-GB".into(), "English (British)".into()),
                ("EN-US".into(), "English (American)".into()),
            ],
            (true, "pt") => vec![("PT-PT".into(), "Portuguese (European)".into())],
            _ => vec![(code, l.english.to_string())],
        };
        for (code, name) in codes {
            let mut entry = json!({"language": code, "name": name});
            if target {
                // The model is told the register in every target language.
                entry["supports_formality"] = json!(true);
            }
            list.push(entry);
        }
    }
    Ok(Json(Value::Array(list)))
}

/// `GET /v2/usage`: the caller's characters this month (or today, under a daily quota) and
/// their limit.
#[utoipa::path(get, path = "/v2/usage", tag = "deepl",
    responses((status = 200, description = "{\"character_count\", \"character_limit\"}"),
        (status = 403, description = "bad or missing key")))]
pub async fn usage(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let quotas = quota::quotas_of(&state, &identity.user);
    let used = quota::usage_of(&state, identity.user.id).await?;
    let (count, limit) = match (quotas.chars_per_month, quotas.chars_per_day) {
        (Some(limit), _) => (used.chars_month, limit),
        (None, Some(limit)) => (used.chars_today, limit),
        (None, None) => (used.chars_month, UNLIMITED),
    };
    Ok(Json(json!({ "character_count": count, "character_limit": limit })))
}
