//! Glossaries (term bases) of the caller and their teams: `/api/v1/glossaries` (create, list,
//! get, entries, update, delete) and their CSV/TSV/TBX import and export.
//!
//! A glossary is addressed by its string id, has one language pair and listable entries (the
//! shape DeepL's glossary API maps onto). It is reachable by its owner, or by the members of the
//! team that owns it, and by nobody else: another user's glossary is `404 glossary_not_found`,
//! exactly like one that does not exist, administrators included (entries are content).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tradia_core::{LanguageTag, Term};
use tradia_formats::exchange::tbx::{read_tbx, write_tbx};
use tradia_formats::exchange::term_csv::{Separator, read_terms, write_terms};
use tradia_store::{
    Caller, Glossary, GlossaryId, GlossaryUpdate, NewGlossary, Owner, StoreError, TeamId,
};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::caller::Identity;
use crate::detect::parse_language;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// A glossary as the API shows it (without its entries).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GlossaryInfo {
    /// The glossary's id (a UUID).
    pub id: String,
    /// Its name.
    pub name: String,
    /// `user` or `team`.
    pub owner_kind: String,
    /// The owning user's or team's id.
    pub owner_id: String,
    /// Language of the source terms.
    pub source_lang: String,
    /// Language of the target terms.
    pub target_lang: String,
    /// Used by default for the owner's requests in this pair that name no glossary.
    pub is_default: bool,
    /// How many entries it holds.
    pub entry_count: u64,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl From<Glossary> for GlossaryInfo {
    fn from(g: Glossary) -> Self {
        let (owner_kind, owner_id) = match g.owner {
            Owner::User(u) => ("user", u.to_string()),
            Owner::Team(t) => ("team", t.to_string()),
        };
        GlossaryInfo {
            id: g.id.to_string(),
            name: g.name,
            owner_kind: owner_kind.into(),
            owner_id,
            source_lang: g.source_lang.to_string(),
            target_lang: g.target_lang.to_string(),
            is_default: g.is_default,
            entry_count: g.entry_count,
            created_at: rfc3339(g.created_at),
            updated_at: rfc3339(g.updated_at),
        }
    }
}

/// One entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryBody {
    /// The term in the source language.
    pub source: String,
    /// Its required translation (ignored, taken equal to `source`, when `do_not_translate`).
    #[serde(default)]
    pub target: String,
    /// The term stays as it is in translations.
    #[serde(default)]
    pub do_not_translate: bool,
    /// Match the source term with its letter case.
    #[serde(default)]
    pub case_sensitive: bool,
    /// A note for translators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<EntryBody> for Term {
    fn from(e: EntryBody) -> Self {
        Term {
            source: e.source,
            target: e.target,
            do_not_translate: e.do_not_translate,
            case_sensitive: e.case_sensitive,
            note: e.note,
        }
    }
}

impl From<Term> for EntryBody {
    fn from(t: Term) -> Self {
        EntryBody {
            source: t.source,
            target: t.target,
            do_not_translate: t.do_not_translate,
            case_sensitive: t.case_sensitive,
            note: t.note,
        }
    }
}

/// Body of glossary creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewGlossaryBody {
    /// 1 to 200 characters.
    pub name: String,
    /// Source language code.
    pub source_lang: String,
    /// Target language code.
    pub target_lang: String,
    /// Make it the default for the pair.
    #[serde(default)]
    pub is_default: bool,
    /// A team of the caller's to own it (default: the caller).
    #[serde(default)]
    pub team_id: Option<String>,
    /// Its entries (at most 10,000).
    #[serde(default)]
    pub entries: Vec<EntryBody>,
}

/// Body of a glossary change: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateGlossaryBody {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// Make it, or stop it being, the default for its pair.
    #[serde(default)]
    pub is_default: Option<bool>,
    /// Replace every entry.
    #[serde(default)]
    pub entries: Option<Vec<EntryBody>>,
}

/// `{ "glossaries": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlossaryList {
    /// The caller's glossaries, then their teams'.
    pub glossaries: Vec<GlossaryInfo>,
}

/// `{ "glossary": {...}, "entries": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlossaryEntries {
    /// The glossary.
    pub glossary: GlossaryInfo,
    /// Its entries, in order.
    pub entries: Vec<EntryBody>,
}

/// An exchange file format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExchangeFormat {
    /// Comma-separated (header `source,target,do_not_translate,case_sensitive,note`, or two
    /// columns without a header).
    #[default]
    Csv,
    /// Tab-separated, same columns.
    Tsv,
    /// TBX-Basic.
    Tbx,
}

/// Query of an import.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The new glossary's name.
    pub name: String,
    /// Source language code.
    pub source_lang: String,
    /// Target language code.
    pub target_lang: String,
    /// `csv` (default), `tsv` or `tbx`.
    #[serde(default)]
    pub format: ExchangeFormat,
    /// Make it the default for the pair.
    #[serde(default)]
    pub is_default: bool,
    /// A team of the caller's to own it.
    #[serde(default)]
    pub team_id: Option<String>,
}

/// Query of an export.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default), `tsv` or `tbx`.
    #[serde(default)]
    pub format: ExchangeFormat,
}

/// The error of a glossary operation.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::GlossaryNotFound(id) => not_found(id),
        StoreError::TeamNotFound(id) => {
            ApiError::new(ErrorCode::TeamNotFound, format!("no team {id} among yours"))
        }
        StoreError::UserNotFound(id) => ApiError::new(
            ErrorCode::InvalidRequest,
            format!("a glossary cannot be created for {id}"),
        ),
        StoreError::Invalid(message) => ApiError::new(ErrorCode::InvalidRequest, message),
        other => ApiError::from(other),
    }
}

fn not_found(id: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::GlossaryNotFound, format!("no glossary with id {id}"))
}

/// The glossary id of a path: anything that is not one is not found.
pub(crate) fn parse_id(id: &str) -> ApiResult<GlossaryId> {
    id.parse().map_err(|_| not_found(id))
}

fn owner(identity: &Identity, team: Option<&str>) -> ApiResult<Owner> {
    match team.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Owner::User(identity.user.id)),
        Some(t) => {
            let id: TeamId = t.parse().map_err(|_| {
                ApiError::new(ErrorCode::TeamNotFound, format!("no team {t} among yours"))
            })?;
            Ok(Owner::Team(id))
        }
    }
}

fn pair(source: &str, target: &str) -> ApiResult<(LanguageTag, LanguageTag)> {
    Ok((parse_language("source_lang", source)?, parse_language("target_lang", target)?))
}

async fn create(state: &AppState, caller: &Caller, glossary: NewGlossary) -> ApiResult<Response> {
    let created = state.jobs.store().create_glossary_for(caller, glossary).await;
    let created = created.map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(GlossaryInfo::from(created))).into_response())
}

/// Creates a glossary.
#[utoipa::path(post, path = "/api/v1/glossaries", tag = "glossaries", request_body = NewGlossaryBody,
    responses((status = 201, body = GlossaryInfo), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Json(body): Json<NewGlossaryBody>,
) -> ApiResult<Response> {
    let (source_lang, target_lang) = pair(&body.source_lang, &body.target_lang)?;
    let glossary = NewGlossary {
        owner: owner(&identity, body.team_id.as_deref())?,
        name: body.name,
        source_lang,
        target_lang,
        is_default: body.is_default,
        entries: body.entries.into_iter().map(Term::from).collect(),
    };
    create(&state, &identity.caller(), glossary).await
}

/// Creates a glossary from a CSV, TSV or TBX file sent as the body.
#[utoipa::path(post, path = "/api/v1/glossaries/import", tag = "glossaries", params(ImportQuery),
    request_body(content = String, description = "The file's bytes (UTF-8)"),
    responses((status = 201, body = GlossaryInfo), (status = 400, body = crate::error::ErrorBody)))]
pub async fn import_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Query(query): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let (source_lang, target_lang) = pair(&query.source_lang, &query.target_lang)?;
    let entries = read_file(&body, query.format, &source_lang, &target_lang)?;
    let glossary = NewGlossary {
        owner: owner(&identity, query.team_id.as_deref())?,
        name: query.name,
        source_lang,
        target_lang,
        is_default: query.is_default,
        entries,
    };
    create(&state, &identity.caller(), glossary).await
}

/// The entries of an exchange file.
pub fn read_file(
    bytes: &[u8],
    format: ExchangeFormat,
    source: &LanguageTag,
    target: &LanguageTag,
) -> ApiResult<Vec<Term>> {
    let read = match format {
        ExchangeFormat::Csv => read_terms(bytes, Separator::Comma),
        ExchangeFormat::Tsv => read_terms(bytes, Separator::Tab),
        ExchangeFormat::Tbx => read_tbx(bytes, source, target).map(|i| i.terms),
    };
    read.map_err(|e| ApiError::new(ErrorCode::InvalidGlossaryFile, e.to_string()))
}

/// The caller's glossaries and their teams'.
#[utoipa::path(get, path = "/api/v1/glossaries", tag = "glossaries",
    responses((status = 200, body = GlossaryList)))]
pub async fn list_glossaries(
    State(state): State<Arc<AppState>>,
    identity: Identity,
) -> ApiResult<Json<GlossaryList>> {
    let list = state.jobs.store().list_glossaries_for(&identity.caller()).await;
    let glossaries = list.map_err(store_error)?.into_iter().map(GlossaryInfo::from).collect();
    Ok(Json(GlossaryList { glossaries }))
}

/// One glossary.
#[utoipa::path(get, path = "/api/v1/glossaries/{id}", tag = "glossaries",
    params(("id" = String, Path, description = "Glossary id")),
    responses((status = 200, body = GlossaryInfo), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<GlossaryInfo>> {
    let g = state.jobs.store().get_glossary_for(&identity.caller(), parse_id(&id)?).await;
    Ok(Json(g.map_err(store_error)?.into()))
}

/// A glossary's entries.
#[utoipa::path(get, path = "/api/v1/glossaries/{id}/entries", tag = "glossaries",
    params(("id" = String, Path, description = "Glossary id")),
    responses((status = 200, body = GlossaryEntries), (status = 404, body = crate::error::ErrorBody)))]
pub async fn glossary_entries(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Path(id): Path<String>,
) -> ApiResult<Json<GlossaryEntries>> {
    let read = state.jobs.store().glossary_entries_for(&identity.caller(), parse_id(&id)?).await;
    let (glossary, entries) = read.map_err(store_error)?;
    Ok(Json(GlossaryEntries {
        glossary: glossary.into(),
        entries: entries.into_iter().map(EntryBody::from).collect(),
    }))
}

/// A glossary as a CSV, TSV or TBX file.
#[utoipa::path(get, path = "/api/v1/glossaries/{id}/export", tag = "glossaries",
    params(("id" = String, Path, description = "Glossary id"), ExportQuery),
    responses((status = 200, description = "The file"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let read = state.jobs.store().glossary_entries_for(&identity.caller(), parse_id(&id)?).await;
    let (glossary, entries) = read.map_err(store_error)?;
    let (bytes, mime, ext) = match query.format {
        ExchangeFormat::Csv => (write_terms(&entries, Separator::Comma), "text/csv", "csv"),
        ExchangeFormat::Tsv => {
            (write_terms(&entries, Separator::Tab), "text/tab-separated-values", "tsv")
        }
        ExchangeFormat::Tbx => {
            let xml =
                write_tbx(&glossary.name, &glossary.source_lang, &glossary.target_lang, &entries);
            (xml.into_bytes(), "application/x-tbx+xml", "tbx")
        }
    };
    let disposition = format!("attachment; filename=\"glossary-{}.{ext}\"", glossary.id);
    Ok((
        [
            (header::CONTENT_TYPE, format!("{mime}; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// Changes a glossary's name, default flag or entries.
#[utoipa::path(patch, path = "/api/v1/glossaries/{id}", tag = "glossaries",
    params(("id" = String, Path, description = "Glossary id")), request_body = UpdateGlossaryBody,
    responses((status = 200, body = GlossaryInfo), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Path(id): Path<String>,
    body: Option<Json<UpdateGlossaryBody>>,
) -> ApiResult<Json<GlossaryInfo>> {
    let id = parse_id(&id)?;
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let update = GlossaryUpdate {
        name: body.name,
        is_default: body.is_default,
        entries: body.entries.map(|e| e.into_iter().map(Term::from).collect()),
    };
    let g = state.jobs.store().update_glossary_for(&identity.caller(), id, update).await;
    Ok(Json(g.map_err(store_error)?.into()))
}

/// Deletes a glossary with its entries.
#[utoipa::path(delete, path = "/api/v1/glossaries/{id}", tag = "glossaries",
    params(("id" = String, Path, description = "Glossary id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_glossary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    state.jobs.store().delete_glossary_for(&identity.caller(), id).await.map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}
