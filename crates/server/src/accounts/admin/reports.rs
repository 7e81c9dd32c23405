//! Administration beyond users: teams and their members, every job's metadata (never file
//! names), usage per user and month, and the audit log as JSON or JSON lines.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};
use tradia_store::{AuditEntry, Job, TeamId};
use utoipa::{IntoParams, ToSchema};

use crate::access::RequestOrigin;
use crate::accounts::caller::Identity;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

use super::time_text;
use super::users::{invalid_or, user_id};

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member user ids.
    pub members: Vec<String>,
}

/// `{ "teams": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    /// Every team, by name.
    pub teams: Vec<TeamInfo>,
}

/// Every team with its members.
#[utoipa::path(get, path = "/api/v1/admin/teams", tag = "admin", responses((status = 200, body = TeamList)))]
pub async fn list_teams(State(state): State<Arc<AppState>>) -> ApiResult<Json<TeamList>> {
    let store = state.jobs.store();
    let mut teams = Vec::new();
    for team in store.list_teams().await? {
        let members = store.team_members(team.id).await?;
        teams.push(TeamInfo {
            id: team.id.to_string(),
            name: team.name,
            members: members.iter().map(|u| u.id.to_string()).collect(),
        });
    }
    Ok(Json(TeamList { teams }))
}

/// Body of team creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeamBody {
    /// Its name.
    pub name: String,
}

/// Creates a team.
#[utoipa::path(post, path = "/api/v1/admin/teams", tag = "admin", request_body = NewTeamBody,
    responses((status = 201, body = TeamInfo), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_team(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Json(body): Json<NewTeamBody>,
) -> ApiResult<Response> {
    let team = state.jobs.store().create_team(body.name.trim()).await.map_err(invalid_or)?;
    crate::accounts::audit::record(
        &state,
        Some(identity.user.id),
        "team_created",
        Some(team.id.to_string()),
        origin.client,
        None,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(TeamInfo { id: team.id.to_string(), name: team.name, members: vec![] }),
    )
        .into_response())
}

fn team_id(raw: &str) -> ApiResult<TeamId> {
    raw.parse()
        .map_err(|_| ApiError::new(ErrorCode::TeamNotFound, format!("no team with id {raw}")))
}

/// Adds a member to a team.
#[utoipa::path(put, path = "/api/v1/admin/teams/{id}/members/{user}", tag = "admin",
    params(("id" = String, Path, description = "Team id"), ("user" = String, Path, description = "User id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn add_member(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (team, user) = (team_id(&team)?, user_id(&user)?);
    state.jobs.store().add_team_member(team, user).await?;
    crate::accounts::audit::record(
        &state,
        Some(identity.user.id),
        "team_member_added",
        Some(team.to_string()),
        origin.client,
        Some(json!({ "user": user.to_string() })),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from a team.
#[utoipa::path(delete, path = "/api/v1/admin/teams/{id}/members/{user}", tag = "admin",
    params(("id" = String, Path, description = "Team id"), ("user" = String, Path, description = "User id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove_member(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (team, user) = (team_id(&team)?, user_id(&user)?);
    if !state.jobs.store().remove_team_member(team, user).await? {
        return Err(ApiError::new(
            ErrorCode::UserNotFound,
            "this user is not a member of this team",
        ));
    }
    crate::accounts::audit::record(
        &state,
        Some(identity.user.id),
        "team_member_removed",
        Some(team.to_string()),
        origin.client,
        Some(json!({ "user": user.to_string() })),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A job's metadata: no file names, no text.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobMeta {
    /// Job id.
    pub id: String,
    /// Owner's user id.
    pub owner: Option<String>,
    /// Status.
    pub status: String,
    /// Source language.
    pub source_lang: Option<String>,
    /// Target language.
    pub target_lang: String,
    /// Each file's format.
    pub formats: Vec<Option<String>>,
    /// Each file's size in bytes.
    pub sizes: Vec<u64>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<&Job> for JobMeta {
    fn from(j: &Job) -> Self {
        JobMeta {
            id: j.id.to_string(),
            owner: j.owner.map(|o| o.to_string()),
            status: j.status.as_str().to_string(),
            source_lang: j.source_lang.as_ref().map(|l| l.to_string()),
            target_lang: j.target_lang.to_string(),
            formats: j.files.iter().map(|f| f.format.clone()).collect(),
            sizes: j.files.iter().map(|f| f.size).collect(),
            created_at: time_text(j.created_at),
            updated_at: time_text(j.updated_at),
        }
    }
}

/// Paging of admin lists.
#[derive(Debug, Deserialize, IntoParams)]
pub struct JobsQuery {
    /// Jobs per page (1–200, default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub before: Option<String>,
}

/// `{ "jobs": [...], "next" }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobMetaList {
    /// Jobs, newest first.
    pub jobs: Vec<JobMeta>,
    /// Cursor of the next page.
    pub next: Option<String>,
}

/// Every job's metadata, newest first.
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "admin", params(JobsQuery),
    responses((status = 200, body = JobMetaList)))]
pub async fn list_jobs(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Query(query): Query<JobsQuery>,
) -> ApiResult<Json<JobMetaList>> {
    let before = match query.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => Some(
            b.parse()
                .map_err(|_| ApiError::new(ErrorCode::InvalidCursor, "`before` is not a job id"))?,
        ),
        None => None,
    };
    let page = state
        .jobs
        .store()
        .list_jobs_for(&identity.caller(), query.limit.unwrap_or(50).clamp(1, 200), before)
        .await?;
    Ok(Json(JobMetaList {
        jobs: page.jobs.iter().map(JobMeta::from).collect(),
        next: page.next.map(|n| n.to_string()),
    }))
}

/// `?month=YYYY-MM`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UsageQuery {
    /// The month (default: the current one, UTC).
    pub month: Option<String>,
}

/// One user's usage in the month.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserUsage {
    /// User id.
    pub user: String,
    /// Login.
    pub login: Option<String>,
    /// Characters translated.
    pub characters: u64,
}

/// `{ "month", "users": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReport {
    /// `YYYY-MM`.
    pub month: String,
    /// Users with usage that month.
    pub users: Vec<UserUsage>,
}

fn month_range(raw: Option<&str>) -> ApiResult<(Date, Date)> {
    let today = OffsetDateTime::now_utc().date();
    let first = match raw {
        None => crate::accounts::quota::month_start(today),
        Some(m) => {
            let bad =
                || ApiError::new(ErrorCode::InvalidQuery, format!("`month` is YYYY-MM, not `{m}`"));
            let (y, mo) = m.split_once('-').ok_or_else(bad)?;
            let y: i32 = y.parse().map_err(|_| bad())?;
            let mo: u8 = mo.parse().map_err(|_| bad())?;
            let month = Month::try_from(mo).map_err(|_| bad())?;
            Date::from_calendar_date(y, month, 1).map_err(|_| bad())?
        }
    };
    let last =
        Date::from_calendar_date(first.year(), first.month(), first.month().length(first.year()))
            .unwrap_or(first);
    Ok((first, last))
}

/// Characters translated per user in a month.
#[utoipa::path(get, path = "/api/v1/admin/usage", tag = "admin", params(UsageQuery),
    responses((status = 200, body = UsageReport)))]
pub async fn usage(
    State(state): State<Arc<AppState>>,
    Query(query): Query<UsageQuery>,
) -> ApiResult<Json<UsageReport>> {
    let (first, last) = month_range(query.month.as_deref())?;
    let store = state.jobs.store();
    let mut users = Vec::new();
    for (user, characters) in store.usage_by_user(first, last).await? {
        let login = store.get_user(user).await?.map(|u| u.login);
        users.push(UserUsage { user: user.to_string(), login, characters });
    }
    Ok(Json(UsageReport {
        month: format!("{:04}-{:02}", first.year(), u8::from(first.month())),
        users,
    }))
}

/// `?since=RFC3339&limit=&format=jsonl`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Entries at or after this time (default: 30 days ago).
    pub since: Option<String>,
    /// Most entries (1–1000, default 1000).
    pub limit: Option<u32>,
    /// `jsonl` for JSON lines (as does `Accept: application/x-ndjson`).
    pub format: Option<String>,
}

/// One audit entry as exported.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLine {
    /// Entry id.
    pub id: String,
    /// When (RFC 3339).
    pub at: String,
    /// Who acted (user id).
    pub actor: Option<String>,
    /// What (`sign_in`, `sign_in_failed`, `key_created`, `job_deleted`…).
    pub action: String,
    /// The object's id.
    pub object: Option<String>,
    /// From where.
    pub remote_addr: Option<String>,
    /// Small detail (never document text).
    pub detail: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditLine {
    fn from(e: AuditEntry) -> Self {
        AuditLine {
            id: e.id.to_string(),
            at: time_text(e.at),
            actor: e.actor.map(|a| a.to_string()),
            action: e.action,
            object: e.object,
            remote_addr: e.remote_addr.map(|a| a.to_string()),
            detail: e.detail,
        }
    }
}

/// `{ "entries": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    /// Entries, oldest first.
    pub entries: Vec<AuditLine>,
}

/// The audit log since a time, as JSON or JSON lines.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = AuditList, description = "JSON, or `application/x-ndjson` lines")))]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Response> {
    let since = match query.since.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
            ApiError::new(ErrorCode::InvalidQuery, format!("`since` is not an RFC 3339 time: {s}"))
        })?,
        None => OffsetDateTime::now_utc() - time::Duration::days(30),
    };
    let limit = query.limit.unwrap_or(1000).clamp(1, 1000);
    let entries: Vec<AuditLine> = state
        .jobs
        .store()
        .list_audit(since, None, limit)
        .await?
        .into_iter()
        .map(AuditLine::from)
        .collect();
    let lines = query.format.as_deref() == Some("jsonl")
        || headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/x-ndjson"));
    if lines {
        let mut body = String::new();
        for entry in &entries {
            body.push_str(&serde_json::to_string(entry).unwrap_or_default());
            body.push('\n');
        }
        return Ok(([(CONTENT_TYPE, "application/x-ndjson")], body).into_response());
    }
    Ok(Json(AuditList { entries }).into_response())
}
