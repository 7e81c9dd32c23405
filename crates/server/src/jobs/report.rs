//! `GET /api/v1/jobs/{id}/report`: the quality report of a job (`tradia_core::QualityReport`,
//! the shape `tradia translate --report` writes too).
//!
//! The saved segments carry their flags and kept reasons; the sources and locations come from
//! the uploads, extracted again with the format stored at upload (as the runner does), so the
//! database keeps no second copy of the document. A file whose upload cannot be read or
//! extracted any more is reported with its flags and empty sources rather than failing the
//! whole report. The report quotes document text: like the result, it is answered to the
//! job's owner only (an administrator gets `404` for another user's job).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tradia_core::{FileReport, QualityReport, Segment};
use tradia_formats::ExtractOptions;
use tradia_store::{Job, JobFile};

use crate::accounts::Identity;
use crate::error::{ApiError, ApiResult};
use crate::jobs::api::{JobPath, load, own};
use crate::state::AppState;

/// The quality report: per file the segments worth a look (kept, repaired, checks failed,
/// memory reuse) with source and target, and counts by flag. Available while the job runs
/// (what is saved so far).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/report", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = QualityReport), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job_report(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    JobPath(id): JobPath,
) -> ApiResult<Json<QualityReport>> {
    let job = load(&state, &own(&identity), id).await?;
    let mut files = Vec::with_capacity(job.files.len());
    for file in &job.files {
        let results = state
            .jobs
            .saved_results(job.id, file.index)
            .await
            .map_err(|e| ApiError::internal("cannot read the saved segments", e))?;
        let segments =
            if results.is_empty() { Vec::new() } else { sources(&state, &job, file).await };
        files.push(FileReport::new(file.index, file.name.clone(), &segments, &results));
    }
    Ok(Json(QualityReport::new(files)))
}

/// The segments of a file's upload, or none when it cannot be read or extracted any more.
async fn sources(state: &AppState, job: &Job, file: &JobFile) -> Vec<Segment> {
    let input = match state.jobs.blob_file(&file.input_blob).await {
        Ok(input) => input,
        Err(e) => {
            tracing::warn!(job.id = %job.id, file.index = file.index, error = %e, "report without sources: the upload cannot be read");
            return Vec::new();
        }
    };
    let format = file.format.as_deref().and_then(|f| f.parse().ok());
    let name = file.name.clone();
    let options = ExtractOptions {
        limits: state.settings.limits.document,
        // The same segments as the runner extracted (quiz terms or not).
        keep_quiz_answers: state.settings.keep_quiz_answers,
        ..ExtractOptions::default()
    };
    let extracted = tokio::task::spawn_blocking(move || {
        let path = input.path();
        match format {
            Some(format) => tradia_formats::extract_path_as(format, &name, path, &options),
            None => tradia_formats::extract_path(&name, path, &options),
        }
    })
    .await;
    match extracted {
        Ok(Ok(document)) => document.segments,
        Ok(Err(e)) => {
            tracing::warn!(job.id = %job.id, file.index = file.index, error = %e, "report without sources: the upload cannot be extracted");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(job.id = %job.id, file.index = file.index, error = %e, "report without sources: extraction stopped");
            Vec::new()
        }
    }
}
