//! The document job endpoints under `/api/v1/jobs`.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast;
use utoipa::IntoParams;

use crate::api::text::json_event;
use crate::error::{ApiError, ApiResult};
use crate::jobs::model::{JobList, JobStatus, JobView};
use crate::jobs::repo::{job_view, parse_id};
use crate::jobs::upload::read_upload;
use crate::state::AppState;

/// Creates a job from a multipart form: `file` parts, `source_lang`, `target_lang`, `model`.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs",
    request_body(content_type = "multipart/form-data", description = "`file` parts (one per document), `source_lang` (omitted or `auto`: detect), `target_lang`, `model` (optional)"),
    responses((status = 202, body = JobView), (status = 400, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn create_job(
    State(state): State<Arc<AppState>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            "malformed_multipart",
            format!("expected a multipart/form-data upload: {}", e.body_text()),
        )
    })?;
    let new_job = read_upload(&state, multipart).await?;
    let keys: Vec<_> = new_job.files.iter().map(|f| f.input_blob.clone()).collect();
    let job = match state.jobs.store.create_job(new_job).await {
        Ok(job) => job_view(&job),
        Err(e) => {
            state.jobs.delete_blobs(&keys).await;
            return Err(ApiError::internal("cannot store the job", e));
        }
    };
    tracing::info!(job.id = %job.id, files = job.files.len(), target = %job.target_lang, "job queued");
    state.job_queued.notify_one();
    state.publish(job.clone());
    Ok((StatusCode::ACCEPTED, Json(job)))
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
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<JobList>> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request("invalid_query", format!("invalid query string: {}", e.body_text()))
    })?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let before = match query.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => Some(parse_id(b).ok_or_else(|| {
            ApiError::bad_request("invalid_cursor", format!("`before` is not a job id: {b}"))
        })?),
        None => None,
    };
    let page = state
        .jobs
        .store
        .list_jobs(limit, before)
        .await
        .map_err(|e| ApiError::internal("cannot list jobs", e))?;
    Ok(Json(JobList {
        jobs: page.jobs.iter().map(job_view).collect(),
        next: page.next.map(|id| id.to_string()),
    }))
}

async fn load(state: &AppState, id: &str) -> ApiResult<JobView> {
    state
        .jobs
        .get_job(id)
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
    Path(id): Path<String>,
) -> ApiResult<Json<JobView>> {
    let mut job = load(&state, &id).await?;
    state
        .jobs
        .add_kept_details(&mut job)
        .await
        .map_err(|e| ApiError::internal("cannot read the kept segments", e))?;
    Ok(Json(job))
}

/// Asks a job to stop; a queued job is cancelled at once, a running one within moments.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn cancel_job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<JobView>> {
    let job = state
        .jobs
        .cancel_job(&id)
        .await
        .map_err(|e| ApiError::internal("cannot cancel the job", e))?
        .ok_or_else(|| ApiError::job_not_found(&id))?;
    if let Some(flag) = state.running.lock().ok().and_then(|r| r.get(&id).cloned()) {
        flag.cancel();
    }
    tracing::info!(job.id = %id, status = job.status.as_str(), "job cancel requested");
    state.publish(job.clone());
    Ok(Json(job))
}

/// Deletes a job, its uploads and its results.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_job(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if let Some(flag) = state.running.lock().ok().and_then(|r| r.get(&id).cloned()) {
        flag.cancel();
    }
    let deleted = state
        .jobs
        .delete_job(&id)
        .await
        .map_err(|e| ApiError::internal("cannot delete the job", e))?;
    if !deleted {
        return Err(ApiError::job_not_found(&id));
    }
    tracing::info!(job.id = %id, "job deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Gives each name once: `a.xml`, `a (2).xml`, …
fn unique_names(names: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut n = 1;
        while seen.contains_key(&candidate.to_lowercase()) {
            n += 1;
            candidate = match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
                _ => format!("{name} ({n})"),
            };
        }
        seen.insert(candidate.to_lowercase(), n);
        out.push(candidate);
    }
    out
}

fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Downloads the translation: the file itself for one file, a zip for several.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/result", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "The translated file, or a zip of them"),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn job_result(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = load(&state, &id).await?;
    if job.status != JobStatus::Done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_not_finished",
            format!(
                "the job is {}; its result can be downloaded once it is done",
                job.status.as_str()
            ),
        ));
    }
    let done: Vec<_> = job.files.iter().filter(|f| f.done).collect();
    if done.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_result",
            "no file of this job could be translated; see each file's error",
        ));
    }
    let read = |index: u32| {
        let state = state.clone();
        let id = id.clone();
        async move {
            state
                .jobs
                .read_output(&id, index)
                .await
                .map_err(|e| ApiError::internal("cannot read the translated file", e))?
                .ok_or_else(|| ApiError::job_not_found(&id))
        }
    };
    if let [file] = done.as_slice() {
        let bytes = read(file.index).await?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (header::CONTENT_DISPOSITION, attachment(&file.name)),
            ],
            Body::from(bytes),
        )
            .into_response());
    }
    let names = unique_names(&done.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
    let mut entries = Vec::with_capacity(done.len());
    for (file, name) in done.iter().zip(names) {
        entries.push((name, read(file.index).await?));
    }
    let zip = tokio::task::spawn_blocking(move || build_zip(entries))
        .await
        .map_err(|e| ApiError::internal("cannot build the zip", e))?
        .map_err(|e| ApiError::internal("cannot build the zip", e))?;
    let zip_name = format!("tradia-{}-{}.zip", job.target_lang, &job.id[..job.id.len().min(8)]);
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, attachment(&zip_name)),
        ],
        Body::from(zip),
    )
        .into_response())
}

fn build_zip(entries: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name, options)?;
        writer.write_all(&bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// State of one SSE subscription.
struct Follow {
    state: Arc<AppState>,
    id: String,
    rx: broadcast::Receiver<Arc<JobView>>,
    queue: VecDeque<Event>,
    last: Option<JobView>,
    ended: bool,
    poll: tokio::time::Interval,
}

impl Follow {
    /// Queues `job` as a `progress` event (and `end` when final) unless nothing changed.
    fn push(&mut self, job: JobView) {
        if self.last.as_ref() == Some(&job) {
            return;
        }
        self.queue.push_back(json_event("progress", &job));
        if job.status.is_terminal() {
            self.queue.push_back(json_event("end", &job));
            self.ended = true;
        }
        self.last = Some(job);
    }

    async fn reload(&mut self) {
        match self.state.jobs.get_job(&self.id).await {
            Ok(Some(job)) => self.push(job),
            Ok(None) => {
                self.queue
                    .push_back(crate::api::text::error_event(&ApiError::job_not_found(&self.id)));
                self.ended = true;
            }
            Err(e) => tracing::warn!(job.id = %self.id, error = %e, "cannot reload job for SSE"),
        }
    }

    async fn next_event(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some((Ok(event), self));
            }
            if self.ended {
                return None;
            }
            tokio::select! {
                msg = self.rx.recv() => match msg {
                    Ok(job) if job.id == self.id => self.push((*job).clone()),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => self.reload().await,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                // Another replica may run the job: the database is the source of truth.
                _ = self.poll.tick() => self.reload().await,
            }
        }
    }
}

/// Follows a job: `progress` events with the job, then `end` with the final job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "text/event-stream: `progress` events carrying the job JSON, a final `end` event with the final job"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn job_events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.events.subscribe();
    let job = load(&state, &id).await?;
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.reset();
    let mut follow = Follow {
        state: state.clone(),
        id,
        rx,
        queue: VecDeque::new(),
        last: None,
        ended: false,
        poll,
    };
    follow.push(job);
    let stream = futures::stream::unfold(follow, Follow::next_event);
    let stream = crate::api::until_shutdown(stream, state.shutdown.clone());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_get_numbers() {
        let names = vec!["a.xml".to_string(), "b.xml".into(), "a.xml".into(), "A.xml".into()];
        assert_eq!(unique_names(&names), vec!["a.xml", "b.xml", "a (2).xml", "A (3).xml"]);
    }

    #[test]
    fn attachment_header_is_ascii() {
        let h = attachment("café \"x\".xml");
        assert!(h.is_ascii());
        assert!(h.contains("filename*=UTF-8''caf%C3%A9%20%22x%22.xml"));
    }
}
