//! The document job endpoints under `/api/v1/jobs`.
//!
//! A job id is parsed once, here at the edge ([`JobPath`]); everything behind takes a typed
//! [`JobId`]. A path segment that is not a job id is a job that does not exist (`404`).
//!
//! Every route is owner-scoped: another user's job is `404 job_not_found`, never `403`, so its
//! existence is not revealed. An administrator may read another user's job's metadata, cancel or
//! delete it, but the routes that return its content (the result, the event stream with its
//! file names) answer `404` to them too.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, FromRequestParts, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::response::sse::{Event, Sse};
use futures::Stream;
use serde::Deserialize;
use tradia_store::{Caller, Job, JobId, Role};
use utoipa::IntoParams;

use crate::access::RequestOrigin;
use crate::accounts::{Identity, audit, quota};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::jobs::download::download;
use crate::jobs::follow::follow_job;
use crate::jobs::model::{JobList, JobView};
use crate::jobs::upload::read_upload;
use crate::state::AppState;

/// The `{id}` of a job path, parsed into a [`JobId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobPath(pub JobId);

impl<S: Send + Sync> FromRequestParts<S> for JobPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|e| {
            ApiError::new(ErrorCode::JobNotFound, format!("no such job: {}", e.body_text()))
        })?;
        raw.parse().map(JobPath).map_err(|_| ApiError::job_not_found(&raw))
    }
}

/// Creates a job from a multipart form: `file` parts, `source_lang`, `target_lang`, `model`.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs",
    request_body(content_type = "multipart/form-data", description = "`file` parts (one per document), `source_lang` (omitted or `auto`: detect), `target_lang`, `model` (optional), `memory` (`own` by default, `teams`, `team:<id>` or `off`: the translation memory read and written), `keep_memory` (`true`: deleting the job keeps its memory entries), `glossary_id` (omitted: the default glossary for the pair, if any; one you cannot read is `glossary_not_found`), `formality` (`default`, `more`, `less`), `instructions` (at most 2000 characters), `brief` (what the documents are, e.g. their title and domain, at most 500 characters; omitted: each file's own title, when it records one)"),
    responses((status = 202, body = JobView), (status = 400, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn create_job(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let multipart = multipart.map_err(|e| {
        ApiError::new(
            ErrorCode::MalformedMultipart,
            format!("expected a multipart/form-data upload: {}", e.body_text()),
        )
    })?;
    let job = queue_upload(&state, &identity, origin.client, multipart).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// Checks the caller's quotas, reads the upload, stores and queues the job, and audits it: what
/// `POST /api/v1/jobs` and the compatible APIs' document uploads share.
pub async fn queue_upload(
    state: &AppState,
    identity: &Identity,
    client: Option<std::net::IpAddr>,
    multipart: Multipart,
) -> ApiResult<JobView> {
    let limit = upload_limit(state, identity).await?;
    let (new_job, memory, guidance) = read_upload(state, multipart, limit).await?;
    crate::memory::api::check_scope(state, &identity.caller(), memory.scope).await?;
    check_glossary(state, identity, &guidance).await?;
    queue_job(state, identity, client, new_job, memory, guidance).await
}

/// Refuses a job naming a glossary the caller cannot read, before the job exists.
pub async fn check_glossary(
    state: &AppState,
    identity: &Identity,
    guidance: &tradia_store::JobGuidance,
) -> ApiResult<()> {
    if let Some(id) = guidance.glossary {
        state
            .jobs
            .store()
            .get_glossary_for(&identity.caller(), id)
            .await
            .map_err(crate::api::glossaries::store_error)?;
    }
    Ok(())
}

/// Refuses a new job past the caller's quotas; else the most bytes their upload may hold.
pub async fn upload_limit(state: &AppState, identity: &Identity) -> ApiResult<u64> {
    quota::check_jobs_in_progress(state, &identity.user).await?;
    quota::check_chars(state, &identity.user, 0).await?;
    Ok(quota::quotas_of(state, &identity.user)
        .upload_bytes
        .map_or(state.settings.max_upload_bytes, |q| q.min(state.settings.max_upload_bytes)))
}

/// Stores and queues a checked job for the caller, with its translation-memory and guidance
/// options (glossary, formality, instructions), and audits it.
pub async fn queue_job(
    state: &AppState,
    identity: &Identity,
    client: Option<std::net::IpAddr>,
    new_job: tradia_store::NewJob,
    memory: tradia_store::JobMemory,
    guidance: tradia_store::JobGuidance,
) -> ApiResult<JobView> {
    let job = state
        .jobs
        .create_job_for(&identity.caller(), new_job)
        .await
        .map_err(|e| ApiError::internal("cannot store the job", e))?;
    if memory != tradia_store::JobMemory::default() {
        // Before the job is announced to the workers (a polling worker may still claim it
        // first: it reads the options when it reaches the translation stage).
        state.jobs.store().set_job_memory_for(&identity.caller(), job.id, memory).await?;
    }
    if guidance != tradia_store::JobGuidance::default() {
        state
            .jobs
            .store()
            .set_job_guidance_for(&identity.caller(), job.id, guidance)
            .await
            .map_err(crate::api::glossaries::store_error)?;
    }
    let job = state.jobs.view(&job);
    tracing::info!(job.id = %job.id, user.id = %identity.user.id, files = job.files.len(), target = %job.target_lang, "job queued");
    let sizes: Vec<u64> = job.files.iter().map(|f| f.size_bytes).collect();
    audit::record(
        state,
        Some(identity.user.id),
        "job_created",
        Some(job.id.to_string()),
        client,
        Some(serde_json::json!({ "files": job.files.len(), "bytes": sizes.iter().sum::<u64>() })),
    )
    .await;
    state.job_queued.notify_one();
    state.publish(job.clone());
    Ok(job)
}

/// Paging of `GET /api/v1/jobs`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Jobs per page (1–200, default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page (jobs created before this one).
    pub before: Option<String>,
}

/// Lists jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobList)))]
pub async fn list_jobs(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<JobList>> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {}", e.body_text()))
    })?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let before: Option<JobId> = match query.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => Some(b.parse().map_err(|_| {
            ApiError::new(ErrorCode::InvalidCursor, format!("`before` is not a job id: {b}"))
        })?),
        None => None,
    };
    let mut page = state
        .jobs
        .list_jobs_for(&own(&identity), limit, before)
        .await
        .map_err(|e| ApiError::internal("cannot list jobs", e))?;
    for job in &mut page.jobs {
        state.annotate(job);
    }
    Ok(Json(page))
}

/// The caller as the owner only: what routes returning document content, and the caller's own
/// list, use (an administrator gets `404` there for another user's job, as anyone does).
pub(crate) fn own(identity: &Identity) -> Caller {
    Caller { user: identity.user.id, role: Role::User }
}

pub(crate) async fn load(state: &AppState, caller: &Caller, id: JobId) -> ApiResult<Job> {
    state
        .jobs
        .find_job_for(caller, id)
        .await
        .map_err(|e| ApiError::internal("cannot read the job", e))?
        .ok_or_else(|| ApiError::job_not_found(id))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_job(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    JobPath(id): JobPath,
) -> ApiResult<Json<JobView>> {
    let stored = load(&state, &identity.caller(), id).await?;
    let mut job = state.jobs.view(&stored);
    state.annotate(&mut job);
    if stored.owner == Some(identity.user.id) {
        state
            .jobs
            .add_kept_details(&mut job)
            .await
            .map_err(|e| ApiError::internal("cannot read the kept segments", e))?;
        state
            .jobs
            .add_options(&mut job)
            .await
            .map_err(|e| ApiError::internal("cannot read the job's options", e))?;
    } else {
        // An administrator looking at another user's job: its metadata only. File names and
        // titles can be content ("dismissal-J-Martin.docx"), and kept segments quote the text.
        for file in &mut job.files {
            file.name = format!("file-{}", file.index + 1);
            file.title = None;
        }
    }
    Ok(Json(job))
}

/// Asks a job to stop; a queued job is cancelled at once, a running one within moments.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cancel_job(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    JobPath(id): JobPath,
) -> ApiResult<Json<JobView>> {
    let mut job = state
        .jobs
        .cancel_job_for(&identity.caller(), id)
        .await
        .map_err(|e| ApiError::internal("cannot cancel the job", e))?
        .ok_or_else(|| ApiError::job_not_found(id))?;
    state.annotate(&mut job);
    state.cancel_running(id);
    tracing::info!(job.id = %id, status = job.status.as_str(), "job cancel requested");
    state.publish(job.clone());
    Ok(Json(job))
}

/// Options of `DELETE /api/v1/jobs/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeleteQuery {
    /// Keep the translation-memory entries the job recorded (default: as chosen when the job
    /// was created, else delete them: "delete" means gone).
    pub keep_memory: Option<bool>,
}

/// Deletes a job, its uploads and its results, and the memory entries it recorded unless
/// `keep_memory`.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id"), DeleteQuery),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_job(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    JobPath(id): JobPath,
    options: Result<Query<DeleteQuery>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(options) = options.map_err(|e| {
        ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {}", e.body_text()))
    })?;
    // Checked first so that another user's running job is not even interrupted.
    load(&state, &identity.caller(), id).await?;
    state.cancel_running(id);
    let deleted = state
        .jobs
        .delete_job_for(&identity.caller(), id, options.keep_memory)
        .await
        .map_err(|e| ApiError::internal("cannot delete the job", e))?;
    if !deleted {
        return Err(ApiError::job_not_found(id));
    }
    tracing::info!(job.id = %id, "job deleted");
    audit::record(
        &state,
        Some(identity.user.id),
        "job_deleted",
        Some(id.to_string()),
        origin.client,
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Downloads the translation: the file itself for one file, a zip for several.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/result", tag = "jobs",
    params(("id" = String, Path, description = "Job id"), ResultQuery),
    responses((status = 200, description = "The translated file, or a zip of them"),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn job_result(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    JobPath(id): JobPath,
    query: Result<Query<ResultQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(ErrorCode::InvalidQuery, format!("invalid query string: {}", e.body_text()))
    })?;
    let job = load(&state, &own(&identity), id).await?;
    if job.status != tradia_store::JobStatus::Done {
        return Err(ApiError::new(
            ErrorCode::JobNotFinished,
            format!(
                "the job is {}; its result can be downloaded once it is done",
                job.status.as_str()
            ),
        ));
    }
    let outputs = state
        .jobs
        .read_outputs(&job)
        .await
        .map_err(|e| ApiError::internal("cannot read the translated file", e))?;
    if outputs.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NoResult,
            "no file of this job could be translated; see each file's error",
        ));
    }
    audit::record(
        &state,
        Some(identity.user.id),
        "job_downloaded",
        Some(id.to_string()),
        origin.client,
        None,
    )
    .await;
    download(outputs, &job.target_lang, query.name.as_deref()).await
}

/// Options of `GET /api/v1/jobs/{id}/result`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResultQuery {
    /// The zip's name when the job has several files (default: the first file's name with the
    /// target language, `cours.en.zip`).
    pub name: Option<String>,
}

/// Follows a job: `progress` events with the job, then `end` with the final job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "text/event-stream: `progress` events carrying the job JSON, a final `end` event with the final job"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn job_events(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    JobPath(id): JobPath,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.events.subscribe();
    let job = state.jobs.view(&load(&state, &own(&identity), id).await?);
    Ok(follow_job(state, rx, job))
}
