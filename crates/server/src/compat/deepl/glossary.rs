//! DeepL's v2 glossaries on Tradia's: `POST/GET /v2/glossaries`, `GET/DELETE
//! /v2/glossaries/{id}`, `GET /v2/glossaries/{id}/entries` (TSV), `GET
//! /v2/glossary-language-pairs`, and the terms of `glossary_id` for `/v2/translate`.
//!
//! A DeepL glossary is a Tradia glossary owned by the caller (entries read by the same CSV/TSV
//! reader as Tradia's import), so it is visible in both APIs and scoped the same way: another
//! user's glossary is not found (`404`, which the clients turn into `GlossaryNotFoundException`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tradia_core::{LANGUAGES, LanguageTag, Term};
use tradia_store::{Glossary, GlossaryId, NewGlossary, Owner};

use super::{DeeplError, caller, language};
use crate::accounts::Identity;
use crate::api::glossaries::{ExchangeFormat, read_file};
use crate::api::input::Payload;
use crate::compat::{text_field, with_query};
use crate::error::ApiError;
use crate::state::AppState;

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A glossary as DeepL describes one.
fn info(g: &Glossary) -> Value {
    json!({
        "glossary_id": g.id.to_string(),
        "name": g.name,
        "ready": true,
        "source_lang": g.source_lang.primary().to_ascii_lowercase(),
        "target_lang": g.target_lang.primary().to_ascii_lowercase(),
        "creation_time": rfc3339(g.created_at),
        "entry_count": g.entry_count,
    })
}

fn not_found() -> DeeplError {
    DeeplError::not_found("Glossary not found")
}

fn glossary_id(raw: &str) -> Result<GlossaryId, DeeplError> {
    raw.trim().parse().map_err(|_| not_found())
}

/// The terms of glossary `id` for a translation from `source` to `target` (DeepL requires
/// `source_lang` with a glossary, and the pair to match).
pub async fn terms_for(
    state: &AppState,
    identity: &Identity,
    id: &str,
    source: Option<&LanguageTag>,
    target: &LanguageTag,
) -> Result<Vec<Term>, DeeplError> {
    let Some(source) = source else {
        return Err(DeeplError::bad(
            "Use of a glossary requires the 'source_lang' parameter to be specified.",
        ));
    };
    let (glossary, terms) = state
        .jobs
        .store()
        .glossary_entries_for(&identity.caller(), glossary_id(id)?)
        .await
        .map_err(ApiError::from)?;
    if !glossary.source_lang.same_language(source) || !glossary.target_lang.same_language(target) {
        return Err(DeeplError::bad("The glossary's languages do not match the request's."));
    }
    Ok(terms)
}

/// `POST /v2/glossaries`: `name`, `source_lang`, `target_lang`, `entries`, `entries_format`
/// (`tsv`, the default, or `csv`).
#[utoipa::path(post, path = "/v2/glossaries", tag = "deepl",
    request_body(content = String, description = "name, source_lang, target_lang, entries, entries_format (JSON or form)"),
    responses((status = 201, description = "{\"glossary_id\", \"name\", \"ready\", \"source_lang\", \"target_lang\", \"creation_time\", \"entry_count\"}"),
        (status = 400, description = "{\"message\": …}"), (status = 403, description = "bad or missing key")))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Response, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let fields = with_query(query, payload?.fields);
    let field = |name: &str| {
        text_field(&fields, name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| DeeplError::bad(format!("Parameter '{name}' not specified.")))
    };
    let name = field("name")?;
    let source = language("source_lang", &field("source_lang")?)?;
    let target = language("target_lang", &field("target_lang")?)?;
    let format = match text_field(&fields, "entries_format").as_deref().map(str::trim) {
        None | Some("") | Some("tsv") => ExchangeFormat::Tsv,
        Some("csv") => ExchangeFormat::Csv,
        Some(_) => return Err(DeeplError::bad("Value for 'entries_format' not supported.")),
    };
    let entries = read_file(field("entries")?.as_bytes(), format, &source, &target)?;
    let glossary = NewGlossary {
        owner: Owner::User(identity.user.id),
        name,
        source_lang: source,
        target_lang: target,
        is_default: false,
        entries,
    };
    let created = state
        .jobs
        .store()
        .create_glossary_for(&identity.caller(), glossary)
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(info(&created))).into_response())
}

/// `GET /v2/glossaries`: the caller's glossaries.
#[utoipa::path(get, path = "/v2/glossaries", tag = "deepl",
    responses((status = 200, description = "{\"glossaries\": [...]}"), (status = 403, description = "bad or missing key")))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let all =
        state.jobs.store().list_glossaries_for(&identity.caller()).await.map_err(ApiError::from)?;
    Ok(Json(json!({ "glossaries": all.iter().map(info).collect::<Vec<_>>() })))
}

/// `GET /v2/glossaries/{id}`.
#[utoipa::path(get, path = "/v2/glossaries/{id}", tag = "deepl",
    params(("id" = String, Path, description = "glossary_id")),
    responses((status = 200, description = "the glossary"), (status = 404, description = "not found")))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let id = glossary_id(&id)?;
    let glossary = state
        .jobs
        .store()
        .get_glossary_for(&identity.caller(), id)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(info(&glossary)))
}

/// `GET /v2/glossaries/{id}/entries`: the entries as TSV.
#[utoipa::path(get, path = "/v2/glossaries/{id}/entries", tag = "deepl",
    params(("id" = String, Path, description = "glossary_id")),
    responses((status = 200, description = "text/tab-separated-values: source\\ttarget per line"),
        (status = 404, description = "not found")))]
pub async fn entries(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let id = glossary_id(&id)?;
    let (_, terms) = state
        .jobs
        .store()
        .glossary_entries_for(&identity.caller(), id)
        .await
        .map_err(ApiError::from)?;
    let tsv: Vec<String> = terms.iter().map(|t| format!("{}\t{}", t.source, t.target)).collect();
    Ok(([(header::CONTENT_TYPE, "text/tab-separated-values; charset=utf-8")], tsv.join("\n"))
        .into_response())
}

/// `DELETE /v2/glossaries/{id}`.
#[utoipa::path(delete, path = "/v2/glossaries/{id}", tag = "deepl",
    params(("id" = String, Path, description = "glossary_id")),
    responses((status = 204), (status = 404, description = "not found")))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let id = glossary_id(&id)?;
    state.jobs.store().delete_glossary_for(&identity.caller(), id).await.map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/glossary-language-pairs`: every pair of two different base languages.
#[utoipa::path(get, path = "/v2/glossary-language-pairs", tag = "deepl",
    responses((status = 200, description = "{\"supported_languages\": [{\"source_lang\", \"target_lang\"}]}")))]
pub async fn language_pairs(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, DeeplError> {
    caller(&state, &headers).await?;
    let bases: Vec<&str> = LANGUAGES.iter().map(|l| l.code).filter(|c| !c.contains('-')).collect();
    let mut pairs = Vec::new();
    for s in &bases {
        for t in &bases {
            if s != t {
                pairs.push(json!({"source_lang": s, "target_lang": t}));
            }
        }
    }
    Ok(Json(json!({ "supported_languages": pairs })))
}
