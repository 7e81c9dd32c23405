//! `POST /api/v1/jobs/{id}/retry`: a failed or cancelled job started again as a new job, with
//! the same files, languages, model and options (translation memory, glossary, formality,
//! instructions, brief), so the user does not upload again.
//!
//! The new job gets its own copy of each upload: either job can then be deleted (or purged)
//! without taking the other's files. Retrying counts as a new job for the quotas, as an upload
//! would. Only the owner may retry (the files are content), like the download.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use tradia_store::{BlobKey, JobGuidance, JobMemory, JobStatus, NewJob, NewJobFile};

use crate::access::RequestOrigin;
use crate::accounts::{Identity, audit, quota};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::jobs::api::{JobPath, load, own};
use crate::jobs::model::JobView;
use crate::state::AppState;

/// Starts a failed or cancelled job again, as a new job with the same files and options.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 202, body = JobView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn retry_job(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    JobPath(id): JobPath,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    let old = load(&state, &own(&identity), id).await?;
    if !matches!(old.status, JobStatus::Failed | JobStatus::Cancelled) {
        return Err(ApiError::new(
            ErrorCode::JobNotRetryable,
            format!(
                "the job is {}; only a failed or cancelled job can be retried",
                old.status.as_str()
            ),
        ));
    }
    quota::check_jobs_in_progress(&state, &identity.user).await?;
    quota::check_chars(&state, &identity.user, 0).await?;
    let store = state.jobs.store();
    let memory = store.job_memory(old.id).await?;
    let guidance = store.job_guidance(old.id).await?;
    let mut files = Vec::with_capacity(old.files.len());
    let mut copied: Vec<BlobKey> = Vec::new();
    for file in &old.files {
        let stored = match copy_upload(&state, &file.input_blob, &file.name).await {
            Ok(stored) => stored,
            Err(e) => {
                state.jobs.delete_blobs(&copied).await;
                return Err(e);
            }
        };
        copied.push(stored.key.clone());
        files.push(NewJobFile {
            name: file.name.clone(),
            format: file.format.clone(),
            input_blob: stored.key,
            size: stored.size,
        });
    }
    let new_job = NewJob {
        source_lang: old.source_lang.clone(),
        target_lang: old.target_lang.clone(),
        model: old.model.clone(),
        files,
    };
    let job = state
        .jobs
        .create_job_for(&identity.caller(), new_job)
        .await
        .map_err(|e| ApiError::internal("cannot store the job", e))?;
    if let Err(e) = copy_options(&state, &identity, job.id, memory, guidance).await {
        // A glossary deleted since, say: no half-configured job is left behind.
        match store.delete_job_for(&identity.caller(), job.id).await {
            Ok(blobs) => state.jobs.delete_blobs(&blobs).await,
            Err(err) => {
                tracing::warn!(job.id = %job.id, error = %err, "cannot delete a retry left without its options")
            }
        }
        return Err(e);
    }
    let mut job = state.jobs.view(&job);
    state.annotate(&mut job);
    tracing::info!(job.id = %job.id, retried = %id, user.id = %identity.user.id, "job queued again (retry)");
    audit::record(
        &state,
        Some(identity.user.id),
        "job_retried",
        Some(job.id.to_string()),
        origin.client,
        Some(serde_json::json!({ "from": id.to_string() })),
    )
    .await;
    state.job_queued.notify_one();
    state.publish(job.clone());
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The retried job's memory and guidance options, set on the new job.
async fn copy_options(
    state: &AppState,
    identity: &Identity,
    job: tradia_store::JobId,
    memory: JobMemory,
    guidance: JobGuidance,
) -> ApiResult<()> {
    let store = state.jobs.store();
    if memory != JobMemory::default() {
        store.set_job_memory_for(&identity.caller(), job, memory).await?;
    }
    if guidance != JobGuidance::default() {
        store
            .set_job_guidance_for(&identity.caller(), job, guidance)
            .await
            .map_err(crate::api::glossaries::store_error)?;
    }
    Ok(())
}

/// A new blob with the bytes of `key`.
async fn copy_upload(
    state: &AppState,
    key: &BlobKey,
    name: &str,
) -> ApiResult<tradia_store::StoredBlob> {
    let input = state.jobs.blob_file(key).await.map_err(|e| {
        tracing::warn!(error = %e, "an upload to retry cannot be read");
        ApiError::new(
            ErrorCode::JobNotRetryable,
            format!("the upload `{name}` of this job is no longer stored; upload it again"),
        )
    })?;
    let mut reader = tokio::fs::File::open(input.path())
        .await
        .map_err(|e| ApiError::internal("cannot open an upload to retry", e))?;
    state
        .jobs
        .put_upload(&mut reader, u64::MAX)
        .await
        .map_err(|e| ApiError::internal("cannot store the copy of an upload", e))
}
