//! LibreTranslate's file translation: `POST /translate_file` (synchronous, as LibreTranslate's:
//! the answer comes once the file is translated) and `GET /download_file/…`.
//!
//! The file becomes an ordinary Tradia job of the caller (quotas, format detection, the full
//! pipeline, audit). LibreTranslate's clients fetch `translatedFileUrl` without a key, so the
//! URL is the credential: it carries a token derived (SHA-256) from the job id and the job's
//! stored input name, a random value the server never shows, so the URL cannot be guessed from
//! anything a client sees; it stops working when the job is deleted or purged
//! (`TRADIA_RETENTION_HOURS`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tradia_store::{Caller, Job, JobId, JobStatus, Role};

use super::libretranslate::{LtError, caller, language};
use super::{text_field, with_query};
use crate::access::RequestOrigin;
use crate::accounts::secrets::{hash_token, same_hash};
use crate::api::input::Payload;
use crate::error::ApiError;
use crate::jobs::api::{queue_job, upload_limit};
use crate::jobs::download::download;
use crate::jobs::upload::job_from_bytes;
use crate::state::AppState;

/// The extensions LibreTranslate's page offers (all read by Tradia, which reads more).
pub const EXTENSIONS: [&str; 8] =
    [".txt", ".odt", ".odp", ".docx", ".pptx", ".epub", ".html", ".srt"];

/// Longest a `/translate_file` call waits for its job.
const WAIT: Duration = Duration::from_secs(600);
const POLL: Duration = Duration::from_millis(250);

/// The download token of `job`.
fn token(job: &Job) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"tradia libretranslate download v1\0");
    hasher.update(job.id.to_string().as_bytes());
    for file in &job.files {
        hasher.update(b"\0");
        hasher.update(file.input_blob.as_str().as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn not_found() -> LtError {
    LtError { status: StatusCode::NOT_FOUND, message: "Not found".into() }
}

/// `scheme://host` of the service as this request reached it (`TRADIA_PUBLIC_URL` first).
fn base_url(state: &AppState, headers: &HeaderMap, origin: &RequestOrigin) -> String {
    if let Some(public) = &state.settings.access.public_url {
        return public.origin.clone();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    let scheme = if origin.tls { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// `POST /translate_file`: `file`, `source` (a code or `auto`), `target`, `api_key`
/// (multipart); answers `{"translatedFileUrl"}` once the file is translated.
#[utoipa::path(post, path = "/translate_file", tag = "libretranslate",
    request_body(content_type = "multipart/form-data", description = "file, source, target, api_key"),
    responses((status = 200, description = "{\"translatedFileUrl\": …}"),
        (status = 400, description = "{\"error\": …}"), (status = 403, description = "{\"error\": \"Invalid API key\"}")))]
pub async fn translate_file(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Extension(origin): Extension<RequestOrigin>,
    RawQuery(query): RawQuery,
    payload: Result<Payload, ApiError>,
) -> Result<Json<Value>, LtError> {
    let payload = payload?;
    let fields = with_query(query, payload.fields.clone());
    let identity = caller(&state, &headers, &fields).await?;
    let Some(file) =
        payload.files.iter().find(|f| f.field == "file").filter(|f| !f.bytes.is_empty())
    else {
        return Err(LtError::bad("Invalid request: empty file"));
    };
    let target = match text_field(&fields, "target").filter(|t| !t.trim().is_empty()) {
        Some(t) => language(&t)?,
        None => return Err(LtError::bad("Invalid request: missing target parameter")),
    };
    let source = match text_field(&fields, "source").filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(s) if s.trim().eq_ignore_ascii_case("auto") => None,
        Some(s) => Some(language(&s)?.to_string()),
    };
    let limit = upload_limit(&state, &identity).await?;
    let new_job = job_from_bytes(
        &state,
        &file.name,
        &file.bytes,
        source.as_deref(),
        Some(target.as_str()),
        limit,
    )
    .await?;
    let job = queue_job(
        &state,
        &identity,
        origin.client,
        new_job,
        tradia_store::JobMemory::default(),
        tradia_store::JobGuidance::default(),
    )
    .await?;
    let own = Caller { user: identity.user.id, role: Role::User };
    let started = std::time::Instant::now();
    let job = loop {
        let found = state
            .jobs
            .find_job_for(&own, job.id)
            .await
            .map_err(|e| ApiError::internal("cannot read the job", e))?;
        let Some(found) = found else { return Err(not_found()) };
        if matches!(found.status, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled) {
            break found;
        }
        if started.elapsed() > WAIT || state.shutdown.is_cancelled() {
            return Err(LtError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the translation is still running; job {} has it", job.id),
            });
        }
        tokio::time::sleep(POLL).await;
    };
    let failure = job.error.as_ref().or_else(|| job.files.iter().find_map(|f| f.error.as_ref()));
    if job.status != JobStatus::Done || failure.is_some() {
        let message = failure.map_or("the translation failed", |e| e.message.as_str());
        return Err(LtError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.to_string(),
        });
    }
    let name = job.files.first().map_or("document", |f| f.name.as_str());
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let prefix = &state.settings.compat.libretranslate.prefix;
    let url = format!(
        "{}{prefix}/download_file/{}/{}/{encoded}",
        base_url(&state, &headers, &origin),
        job.id,
        token(&job)
    );
    Ok(Json(json!({ "translatedFileUrl": url })))
}

/// `GET /download_file/{id}/{token}/{name}`: the translated file of a `/translate_file` call.
#[utoipa::path(get, path = "/download_file/{id}/{token}/{name}", tag = "libretranslate",
    params(("id" = String, Path, description = "job id"), ("token" = String, Path, description = "download token"),
        ("name" = String, Path, description = "file name")),
    responses((status = 200, description = "The translated file"), (status = 404, description = "{\"error\": \"Not found\"}")))]
pub async fn download_file(
    State(state): State<Arc<AppState>>,
    Path((id, sent, _name)): Path<(String, String, String)>,
) -> Result<Response, LtError> {
    let id: JobId = id.parse().map_err(|_| not_found())?;
    let job = state
        .jobs
        .find_job(id)
        .await
        .map_err(|e| ApiError::internal("cannot read the job", e))?
        .ok_or_else(not_found)?;
    // Compared as hashes, in constant time.
    if !same_hash(&hash_token(&token(&job)), &hash_token(&sent)) || job.status != JobStatus::Done {
        return Err(not_found());
    }
    let outputs = state
        .jobs
        .read_outputs(&job)
        .await
        .map_err(|e| ApiError::internal("cannot read the translated file", e))?;
    if outputs.is_empty() {
        return Err(not_found());
    }
    Ok(download(outputs, &job.target_lang, None).await?)
}
