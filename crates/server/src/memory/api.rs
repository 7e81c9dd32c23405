//! `/api/v1/memory`: the caller counts, purges, exports (TMX) and imports (TMX) their memory, or a
//! team's they belong to. Another user's memory is never reachable: every call works on the
//! caller's own entries or a team of theirs (`team_not_found` otherwise).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tradia_core::Segment;
use tradia_core::memory::result_core;
use tradia_formats::exchange::tmx::{TmxEntry, TmxLimits, read_tmx, write_tmx};
use tradia_store::{JobId, MemoryOrigin, MemoryScope, NewMemoryEntry};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::Identity;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Entries per store page when exporting, and per transaction when importing.
const PAGE: u32 = 5_000;

/// Which memory a call works on.
#[derive(Debug, Deserialize, IntoParams)]
pub struct MemoryQuery {
    /// `own` (default) or `team:<id>`.
    pub scope: Option<String>,
    /// Only the entries recorded by this job (purge).
    pub job: Option<String>,
}

fn checked(query: Result<Query<MemoryQuery>, QueryRejection>) -> ApiResult<MemoryQuery> {
    query.map(|Query(q)| q).map_err(|e| {
        ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {}", e.body_text()))
    })
}

/// Parses a yes/no form field (`true`/`false`, `1`/`0`, `on`/`off`; absent: false).
pub fn parse_flag(name: &str, value: Option<&str>) -> ApiResult<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "off" | "no") => Ok(false),
        Some("true" | "1" | "on" | "yes") => Ok(true),
        Some(_) => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("`{name}` is neither true nor false"),
        )),
    }
}

/// Checks that a job or request may use `scope`: a team's memory only for its members
/// (`team_not_found` otherwise, as for a team that does not exist).
pub async fn check_scope(
    state: &AppState,
    caller: &tradia_store::Caller,
    scope: MemoryScope,
) -> ApiResult<()> {
    if let MemoryScope::Team(team) = scope {
        let teams = state.jobs.store().teams_of_user(caller.user).await?;
        if !teams.iter().any(|t| t.id == team) {
            return Err(tradia_store::StoreError::TeamNotFound(team).into());
        }
    }
    Ok(())
}

/// Parses the `memory` option of a job, a text request or these routes.
pub fn parse_scope(value: Option<&str>) -> ApiResult<MemoryScope> {
    match value.map(str::trim) {
        None | Some("") => Ok(MemoryScope::Own),
        Some(v) => v.parse().map_err(|e: tradia_store::InvalidMemoryScope| {
            ApiError::new(ErrorCode::InvalidMemoryScope, e.to_string())
        }),
    }
}

/// Answer of a purge.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Purged {
    /// Entries deleted.
    pub deleted: u64,
}

/// Answer of an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Imported {
    /// Entries written (a source already in the memory is replaced).
    pub imported: u64,
    /// Units or variants left out.
    pub skipped: usize,
    /// Why, for the first ones.
    pub reasons: Vec<String>,
}

/// Answer of `GET /api/v1/memory`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemorySummary {
    /// The scope counted (`own` or `team:<id>`).
    pub scope: String,
    /// Entries in it.
    pub entries: u64,
}

/// How many entries the caller's memory (or a team's they belong to) holds.
#[utoipa::path(get, path = "/api/v1/memory", tag = "memory", params(MemoryQuery),
    responses((status = 200, body = MemorySummary), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    query: Result<Query<MemoryQuery>, QueryRejection>,
) -> ApiResult<Json<MemorySummary>> {
    let query = checked(query)?;
    let scope = parse_scope(query.scope.as_deref())?;
    let entries = state.jobs.store().count_memory_for(&identity.caller(), scope).await?;
    Ok(Json(MemorySummary { scope: scope.as_string(), entries }))
}

/// Deletes the caller's memory entries (all, or one job's).
#[utoipa::path(delete, path = "/api/v1/memory", tag = "memory", params(MemoryQuery),
    responses((status = 200, body = Purged), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn purge(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    query: Result<Query<MemoryQuery>, QueryRejection>,
) -> ApiResult<Json<Purged>> {
    let query = checked(query)?;
    let scope = parse_scope(query.scope.as_deref())?;
    let job = match query.job.as_deref() {
        None => None,
        Some(j) => Some(j.parse::<JobId>().map_err(|_| ApiError::job_not_found(j))?),
    };
    let deleted = state.jobs.store().purge_memory_for(&identity.caller(), scope, job).await?;
    tracing::info!(user.id = %identity.user.id, deleted, "translation memory purged");
    Ok(Json(Purged { deleted }))
}

/// Downloads the caller's memory as TMX 1.4b.
#[utoipa::path(get, path = "/api/v1/memory/tmx", tag = "memory", params(MemoryQuery),
    responses((status = 200, description = "The memory as a TMX 1.4b file"),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_tmx(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    query: Result<Query<MemoryQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let query = checked(query)?;
    let scope = parse_scope(query.scope.as_deref())?;
    let entries = all_entries(state.jobs.store().as_ref(), &identity.caller(), scope).await?;
    let body = write_tmx(&entries, env!("CARGO_PKG_VERSION"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tmx+xml; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"memory.tmx\""),
        ],
        body,
    )
        .into_response())
}

/// Every entry of a scope, as TMX entries.
pub(crate) async fn all_entries(
    store: &dyn tradia_store::Store,
    caller: &tradia_store::Caller,
    scope: MemoryScope,
) -> Result<Vec<TmxEntry>, tradia_store::StoreError> {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = store.export_memory_for(caller, scope, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        entries.extend(page.into_iter().map(|e| TmxEntry {
            source_lang: e.source_lang,
            target_lang: e.target_lang,
            source: e.source,
            target: e.target,
            creation_date: Some(tmx_date(e.created_at)),
        }));
    }
    Ok(entries)
}

/// A time as TMX writes it (`YYYYMMDDThhmmssZ`, UTC).
fn tmx_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A TMX entry as a memory entry: cores, as the engine records them.
pub(crate) fn as_core(entry: TmxEntry) -> Option<NewMemoryEntry> {
    let segment =
        Segment { id: 0, content: entry.source, location: String::new(), field: String::new() };
    let source = segment.edges().core;
    let target = result_core(&segment, &entry.target).or_else(|| {
        let core = entry.target.split_edges().core;
        core.check_codes_against(&source).is_ok().then_some(core)
    })?;
    Some(NewMemoryEntry {
        source_lang: entry.source_lang,
        target_lang: entry.target_lang,
        source,
        target,
        origin: MemoryOrigin::Imported,
        model: None,
        prompt_version: None,
        job: None,
    })
}

/// Imports a TMX 1.4b file (the request body) into the caller's memory.
#[utoipa::path(post, path = "/api/v1/memory/tmx", tag = "memory", params(MemoryQuery),
    request_body(content = String, content_type = "application/x-tmx+xml", description = "A TMX 1.4b document"),
    responses((status = 200, body = Imported), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_tmx(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    query: Result<Query<MemoryQuery>, QueryRejection>,
    body: Bytes,
) -> ApiResult<Json<Imported>> {
    let query = checked(query)?;
    let scope = parse_scope(query.scope.as_deref())?;
    let limits = TmxLimits {
        max_bytes: usize::try_from(state.settings.max_upload_bytes).unwrap_or(usize::MAX),
        ..TmxLimits::default()
    };
    let read =
        read_tmx(&body, limits).map_err(|e| ApiError::new(ErrorCode::from(&e), e.to_string()))?;
    let (mut skipped, mut reasons) = (read.skipped_count, read.skipped);
    let mut entries = Vec::with_capacity(read.entries.len());
    for entry in read.entries {
        match as_core(entry) {
            Some(e) => entries.push(e),
            None => {
                skipped += 1;
                if reasons.len() < 100 {
                    reasons.push("a target whose inline codes do not fit its source's".into());
                }
            }
        }
    }
    let caller = identity.caller();
    let mut imported = 0;
    for chunk in entries.chunks(PAGE as usize) {
        imported += state.jobs.store().record_memory_for(&caller, scope, chunk.to_vec()).await?;
    }
    tracing::info!(user.id = %identity.user.id, imported, skipped, "TMX imported into the memory");
    Ok(Json(Imported { imported, skipped, reasons }))
}
