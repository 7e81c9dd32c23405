//! DeepL's document translation: `POST /v2/document` (upload), `POST /v2/document/{id}`
//! (status), `POST /v2/document/{id}/result` (download, once), each document a Tradia job.
//!
//! Uploads go through the same path as `POST /api/v1/jobs` (quotas, limits, format detection,
//! audit), so every format Tradia reads gets the full pipeline. The document id is the job id;
//! the document key is derived from the job and its owner (SHA-256), so it needs no storage.
//! The key is a check DeepL's protocol asks for, not the protection: the job is looked up for
//! the caller only, and another user's document is not found (`404`), as in Tradia's own API.
//! A downloaded document is deleted, as DeepL does.

use std::sync::Arc;

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Extension, Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tradia_store::{Caller, Job, JobId, JobStatus, Role, UserId};

use super::{DeeplError, caller};
use crate::access::RequestOrigin;
use crate::accounts::{Identity, audit};
use crate::api::input::Payload;
use crate::compat::{text_field, with_query};
use crate::error::ApiError;
use crate::jobs::api::queue_upload;
use crate::jobs::download::download;
use crate::state::AppState;

/// The document key of `job` for its owner.
pub fn document_key(job: JobId, owner: UserId) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"tradia deepl document key v1\0");
    hasher.update(job.to_string().as_bytes());
    hasher.update(b"\0");
    hasher.update(owner.to_string().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

fn own(identity: &Identity) -> Caller {
    Caller { user: identity.user.id, role: Role::User }
}

fn not_found() -> DeeplError {
    DeeplError::not_found("Document not found")
}

/// The caller's job `id` whose key is the one sent, else `404`.
async fn find(
    state: &AppState,
    identity: &Identity,
    id: &str,
    query: Option<String>,
    payload: Result<Payload, ApiError>,
) -> Result<Job, DeeplError> {
    let fields = with_query(query, payload?.fields);
    let id: JobId = id.parse().map_err(|_| not_found())?;
    let sent = text_field(&fields, "document_key").unwrap_or_default();
    if !sent.trim().eq_ignore_ascii_case(&document_key(id, identity.user.id)) {
        return Err(not_found());
    }
    state
        .jobs
        .find_job_for(&own(identity), id)
        .await
        .map_err(|e| ApiError::internal("cannot read the document", e))?
        .ok_or_else(not_found)
}

/// The job's status in DeepL's words, with its error message when it failed.
fn status_of(job: &Job) -> (&'static str, Option<String>) {
    let file_error = job.files.iter().find_map(|f| f.error.as_ref());
    match job.status {
        JobStatus::Queued => ("queued", None),
        JobStatus::Running => ("translating", None),
        JobStatus::Done => match file_error {
            None => ("done", None),
            Some(e) => ("error", Some(e.message.clone())),
        },
        JobStatus::Failed | JobStatus::Cancelled => (
            "error",
            Some(
                job.error
                    .as_ref()
                    .or(file_error)
                    .map_or_else(|| "the translation failed".to_string(), |e| e.message.clone()),
            ),
        ),
    }
}

/// `POST /v2/document`: a `file` part with `target_lang` and optionally `source_lang`.
#[utoipa::path(post, path = "/v2/document", tag = "deepl",
    request_body(content_type = "multipart/form-data", description = "file, target_lang, source_lang, formality, glossary_id, output_format"),
    responses((status = 200, description = "{\"document_id\", \"document_key\"}"),
        (status = 400, description = "{\"message\": …}"), (status = 403, description = "bad or missing key"),
        (status = 413, description = "too large"), (status = 456, description = "quota exceeded")))]
pub async fn upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Extension(origin): Extension<RequestOrigin>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let multipart = multipart.map_err(|e| {
        DeeplError::bad(format!("expected a multipart/form-data upload: {}", e.body_text()))
    })?;
    let job = queue_upload(&state, &identity, origin.client, multipart).await?;
    Ok(Json(json!({
        "document_id": job.id.to_string(),
        "document_key": document_key(job.id, identity.user.id),
    })))
}

/// `POST /v2/document/{id}` with `document_key`: the document's status.
#[utoipa::path(post, path = "/v2/document/{id}", tag = "deepl",
    params(("id" = String, Path, description = "document_id")),
    request_body(content = String, description = "document_key (JSON or form)"),
    responses((status = 200, description = "{\"document_id\", \"status\": queued|translating|done|error, \"error_message\"?}"),
        (status = 404, description = "no such document")))]
pub async fn status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let job = find(&state, &identity, &id, query, payload).await?;
    let (status, error) = status_of(&job);
    let mut body = json!({"document_id": job.id.to_string(), "status": status});
    if status == "translating" {
        let progress = job.progress();
        // A rough figure, as DeepL's own: a second per ten segments left.
        body["seconds_remaining"] = json!(progress.total.saturating_sub(progress.done) / 10 + 1);
    }
    if let Some(message) = error {
        body["error_message"] = json!(message);
        body["message"] = json!(message);
    }
    Ok(Json(body))
}

/// `POST /v2/document/{id}/result` with `document_key`: the translated file, once; `503` until
/// it is done.
#[utoipa::path(post, path = "/v2/document/{id}/result", tag = "deepl",
    params(("id" = String, Path, description = "document_id")),
    request_body(content = String, description = "document_key (JSON or form)"),
    responses((status = 200, description = "The translated document"),
        (status = 404, description = "no such document"), (status = 503, description = "not translated yet")))]
pub async fn result(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Extension(origin): Extension<RequestOrigin>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Response, DeeplError> {
    let identity = caller(&state, &headers).await?;
    let job = find(&state, &identity, &id, query, payload).await?;
    match status_of(&job) {
        ("done", _) => {}
        ("error", message) => {
            return Err(DeeplError::bad(
                message.unwrap_or_else(|| "the translation failed".into()),
            ));
        }
        _ => {
            return Err(DeeplError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "Document translation is not done yet".into(),
            });
        }
    }
    let outputs = state
        .jobs
        .read_outputs(&job)
        .await
        .map_err(|e| ApiError::internal("cannot read the translated document", e))?;
    let response = download(outputs, &job.target_lang, None).await?;
    audit::record(
        &state,
        Some(identity.user.id),
        "job_downloaded",
        Some(job.id.to_string()),
        origin.client,
        None,
    )
    .await;
    if let Err(e) = state.jobs.delete_job_for(&own(&identity), job.id, None).await {
        tracing::warn!(error = %e, job.id = %job.id, "cannot delete a downloaded DeepL document");
    }
    Ok(response)
}
