//! The job runner: workers that claim queued jobs with a lease, translate them file by file and
//! persist every finished segment as it arrives.
//!
//! What makes a job survive anything:
//! - the lease is renewed while the job runs; a process that dies stops renewing, and once the
//!   lease expires any worker (this process after a restart, or another replica) claims it again;
//! - each segment result goes to the database the moment the engine reports it, and a resumed
//!   file only asks the engine for the segments not saved yet;
//! - on graceful shutdown the running jobs are put back in the queue at once, not left to expire.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;
use tradia_core::{
    CancelFlag, Content, EngineError, LanguageTag, Priority, ResultSink, SegmentResult,
    TranslateRequest,
};
use tradia_formats::{ExtractOptions, MergeOptions};

use crate::detect::detect_language;
use crate::jobs::repo::{ClaimedJob, LeaseState};
use crate::state::AppState;

/// Least time between two progress events of one job.
const PUBLISH_EVERY: Duration = Duration::from_millis(200);
/// How often expired files are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// How a job's run ended, short of success.
#[derive(Debug)]
enum Stop {
    /// The cancel flag was raised (user cancel, lost lease or shutdown).
    Cancelled,
    /// The job cannot go on.
    Failed { code: &'static str, message: String },
}

/// Starts `settings.workers` workers and the purge task on `tracker`.
pub fn spawn_workers(state: &Arc<AppState>, tracker: &TaskTracker) {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "tradia".into());
    for n in 0..state.settings.workers {
        let worker = format!("{host}:{}:{}:{n}", std::process::id(), uuid::Uuid::now_v7());
        tracker.spawn(worker_loop(state.clone(), worker));
    }
    tracker.spawn(purge_loop(state.clone()));
}

async fn worker_loop(state: Arc<AppState>, worker: String) {
    tracing::debug!(worker, "worker started");
    while !state.shutdown.is_cancelled() {
        match state.jobs.claim_job(&worker, state.settings.lease).await {
            Ok(Some(job)) => run_job(&state, &worker, job).await,
            Ok(None) => {
                tokio::select! {
                    _ = state.shutdown.cancelled() => break,
                    _ = state.job_queued.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Err(e) => {
                tracing::error!(worker, error = %e, "cannot claim a job");
                tokio::select! {
                    _ = state.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }
    }
    tracing::debug!(worker, "worker stopped");
}

async fn purge_loop(state: Arc<AppState>) {
    loop {
        let cutoff = time::OffsetDateTime::now_utc() - state.settings.retention;
        match state.jobs.purge_expired(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "purged expired jobs and their files"),
            Err(e) => tracing::error!(error = %e, "purge of expired jobs failed"),
        }
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = tokio::time::sleep(PURGE_EVERY) => {}
        }
    }
}

/// Why the cancel flag was raised, decided by the lease keeper.
#[derive(Debug, Default)]
struct Reasons {
    lost: std::sync::atomic::AtomicBool,
}

async fn run_job(state: &Arc<AppState>, worker: &str, job: ClaimedJob) {
    let id = job.id.clone();
    let started = Instant::now();
    tracing::info!(job.id = %id, worker, files = job.files.len(), "job started");
    let cancel = CancelFlag::new();
    if let Ok(mut running) = state.running.lock() {
        running.insert(id.clone(), cancel.clone());
    }
    let reasons = Arc::new(Reasons::default());
    let keeper = tokio::spawn(keep_lease(
        state.clone(),
        worker.to_string(),
        id.clone(),
        cancel.clone(),
        reasons.clone(),
    ));
    publish(state, &id).await;

    let outcome = translate_job(state, worker, &job, &cancel).await;
    keeper.abort();
    if let Ok(mut running) = state.running.lock() {
        running.remove(&id);
    }

    let lost = reasons.lost.load(std::sync::atomic::Ordering::SeqCst);
    let result = match outcome {
        _ if lost => {
            tracing::warn!(job.id = %id, "lease lost; another worker owns the job now");
            Ok(())
        }
        Ok(()) => {
            metrics::counter!("tradia_jobs_finished_total", "state" => "done").increment(1);
            state.jobs.finish_job(&id, worker, "done", None).await
        }
        Err(Stop::Cancelled) if state.shutdown.is_cancelled() => {
            tracing::info!(job.id = %id, "job put back in the queue (shutdown)");
            state.jobs.release_job(&id, worker).await
        }
        Err(Stop::Cancelled) => {
            metrics::counter!("tradia_jobs_finished_total", "state" => "cancelled").increment(1);
            state.jobs.finish_job(&id, worker, "cancelled", None).await
        }
        Err(Stop::Failed { code, message }) => {
            tracing::warn!(job.id = %id, error.code = code, error = %message, "job failed");
            metrics::counter!("tradia_jobs_finished_total", "state" => "failed").increment(1);
            state.jobs.finish_job(&id, worker, "failed", Some((code, message))).await
        }
    };
    if let Err(e) = result {
        tracing::error!(job.id = %id, error = %e, "cannot record the job's end");
    }
    tracing::info!(job.id = %id, duration_ms = started.elapsed().as_millis() as u64, "job stopped");
    publish(state, &id).await;
}

/// Renews the lease every third of its duration; raises the cancel flag when the user cancelled,
/// the lease was lost, or the service shuts down.
async fn keep_lease(
    state: Arc<AppState>,
    worker: String,
    id: String,
    cancel: CancelFlag,
    reasons: Arc<Reasons>,
) {
    let every = state.settings.lease / 3;
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                cancel.cancel();
                return;
            }
            _ = tokio::time::sleep(every) => {}
        }
        match state.jobs.renew_lease(&id, &worker, state.settings.lease).await {
            Ok(LeaseState::Held) => {}
            Ok(LeaseState::CancelRequested) => cancel.cancel(),
            Ok(LeaseState::Lost) => {
                reasons.lost.store(true, std::sync::atomic::Ordering::SeqCst);
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(job.id = %id, error = %e, "lease renewal failed; retrying"),
        }
    }
}

async fn publish(state: &AppState, id: &str) {
    match state.jobs.get_job(id).await {
        Ok(Some(job)) => state.publish(job),
        Ok(None) => {}
        Err(e) => tracing::warn!(job.id = %id, error = %e, "cannot read job for progress"),
    }
}

/// Sends each finished segment to the writer task.
struct ChannelSink(mpsc::UnboundedSender<SegmentResult>);

impl ResultSink for ChannelSink {
    fn segment_done(&self, result: &SegmentResult) {
        let _ = self.0.send(result.clone());
    }
}

async fn translate_job(
    state: &Arc<AppState>,
    worker: &str,
    job: &ClaimedJob,
    cancel: &CancelFlag,
) -> Result<(), Stop> {
    let target = LanguageTag::parse(&job.target_lang)
        .map_err(|e| Stop::Failed { code: "invalid_language", message: e.to_string() })?;
    let mut source = match &job.source_lang {
        Some(s) => Some(
            LanguageTag::parse(s)
                .map_err(|e| Stop::Failed { code: "invalid_language", message: e.to_string() })?,
        ),
        None => None,
    };
    let engine = state.gateway.engine(job.model.as_deref());
    let mut any_done = false;
    let mut first_error: Option<(String, String)> = None;

    for file in &job.files {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        if file.done {
            any_done = true;
            continue;
        }
        if let Some((code, message)) = &file.error {
            first_error.get_or_insert((code.clone(), message.clone()));
            continue;
        }
        let input = state.jobs.read_input(&job.id, file.index).await.map_err(|e| Stop::Failed {
            code: "storage_error",
            message: format!("cannot read `{}`: {e}", file.name),
        })?;
        let name = file.name.clone();
        let extracted = tokio::task::spawn_blocking(move || {
            tradia_formats::extract(&name, &input, &ExtractOptions::default())
        })
        .await
        .map_err(|e| Stop::Failed { code: "internal_error", message: e.to_string() })?;
        let document = match extracted {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(job.id = %job.id, file.index = file.index, error = %e, "file cannot be read");
                let message = format!("`{}`: {e}", file.name);
                save_file_error(state, worker, job, file.index, e.code(), &message).await?;
                first_error.get_or_insert((e.code().to_string(), message));
                publish(state, &job.id).await;
                continue;
            }
        };
        let format = serde_json::to_value(document.format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        state
            .jobs
            .set_file_total(&job.id, worker, file.index, document.segments.len() as u64, &format)
            .await
            .map_err(storage)?;

        if source.is_none() {
            let mut sample = String::new();
            for segment in &document.segments {
                sample.push_str(&segment.content.plain_text());
                sample.push('\n');
                if sample.len() > 4000 {
                    break;
                }
            }
            if let Some(detected) = detect_language(&sample) {
                tracing::info!(job.id = %job.id, source = %detected, "source language detected");
                state
                    .jobs
                    .set_detected_source(&job.id, worker, detected.as_str())
                    .await
                    .map_err(storage)?;
                source = Some(detected);
            }
        }

        let mut results: HashMap<u32, SegmentResult> = state
            .jobs
            .saved_segments(&job.id, file.index)
            .await
            .map_err(storage)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let pending: Vec<u32> =
            document.segments.iter().map(|s| s.id).filter(|id| !results.contains_key(id)).collect();
        if !results.is_empty() {
            tracing::info!(job.id = %job.id, file.index = file.index, saved = results.len(), pending = pending.len(), "file resumed");
        }
        publish(state, &job.id).await;

        if !pending.is_empty() {
            let (tx, mut rx) = mpsc::unbounded_channel::<SegmentResult>();
            let writer_state = state.clone();
            let writer_job = job.id.clone();
            let writer_worker = worker.to_string();
            let file_index = file.index;
            let writer = tokio::spawn(async move {
                let mut last_publish = Instant::now();
                let mut failures = 0u32;
                while let Some(result) = rx.recv().await {
                    metrics::counter!("tradia_segments_translated_total").increment(1);
                    if result.kept.is_some() {
                        metrics::counter!("tradia_segments_kept_total").increment(1);
                    }
                    if let Err(e) = writer_state
                        .jobs
                        .save_segment(&writer_job, &writer_worker, file_index, &result)
                        .await
                    {
                        failures += 1;
                        tracing::error!(job.id = %writer_job, segment.id = result.id, error = %e, "cannot save a segment");
                    }
                    if last_publish.elapsed() >= PUBLISH_EVERY {
                        last_publish = Instant::now();
                        publish(&writer_state, &writer_job).await;
                    }
                }
                failures
            });
            let sink = ChannelSink(tx);
            let request = TranslateRequest {
                source: source.clone(),
                target: target.clone(),
                segments: &document.segments,
                pending,
                priority: Priority::Document,
                owner: job.id.clone(),
                cancel: cancel.clone(),
                sink: &sink,
            };
            let outcome = engine.translate(request).await;
            drop(sink);
            let failures = writer.await.unwrap_or(1);
            let translated = match outcome {
                Ok(r) => r,
                Err(EngineError::Cancelled) => return Err(Stop::Cancelled),
                Err(EngineError::Unavailable(m)) => {
                    return Err(Stop::Failed { code: "llm_unavailable", message: m });
                }
                Err(EngineError::Rejected(m)) => {
                    return Err(Stop::Failed { code: "request_rejected", message: m });
                }
            };
            if failures > 0 {
                return Err(Stop::Failed {
                    code: "storage_error",
                    message: format!("{failures} segment(s) could not be saved"),
                });
            }
            for r in translated {
                results.insert(r.id, r);
            }
        }

        let mut translations: Vec<Content> = Vec::with_capacity(document.segments.len());
        for segment in &document.segments {
            match results.remove(&segment.id) {
                Some(r) => translations.push(r.content),
                None => {
                    return Err(Stop::Failed {
                        code: "internal_error",
                        message: format!("segment {} of `{}` has no result", segment.id, file.name),
                    });
                }
            }
        }
        let options = MergeOptions { target: target.clone() };
        let merged = tokio::task::spawn_blocking(move || document.merge(&translations, &options))
            .await
            .map_err(|e| Stop::Failed { code: "internal_error", message: e.to_string() })?;
        match merged {
            Ok(bytes) => {
                state
                    .jobs
                    .store_output(&job.id, worker, file.index, bytes)
                    .await
                    .map_err(storage)?;
                any_done = true;
            }
            Err(e) => {
                let message = format!("`{}`: {e}", file.name);
                save_file_error(state, worker, job, file.index, e.code(), &message).await?;
                first_error.get_or_insert((e.code().to_string(), message));
            }
        }
        publish(state, &job.id).await;
    }

    if any_done {
        Ok(())
    } else {
        let (code, message) = first_error
            .unwrap_or_else(|| ("no_file".into(), "the job has no file to translate".into()));
        Err(Stop::Failed { code: leak_code(&code), message })
    }
}

/// Maps a file error code to a `'static` one (codes come from a closed set).
fn leak_code(code: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "unsupported_format",
        "malformed_document",
        "doctype_refused",
        "unsafe_archive_entry",
        "archive_limit_exceeded",
        "invalid_archive",
        "unknown_encoding",
        "translation_count_mismatch",
        "invalid_translation",
        "invalid_document",
    ];
    KNOWN.iter().find(|k| **k == code).copied().unwrap_or("file_failed")
}

async fn save_file_error(
    state: &AppState,
    worker: &str,
    job: &ClaimedJob,
    index: u32,
    code: &str,
    message: &str,
) -> Result<(), Stop> {
    state.jobs.set_file_error(&job.id, worker, index, code, message).await.map_err(storage)
}

fn storage(e: impl std::fmt::Display) -> Stop {
    Stop::Failed { code: "storage_error", message: e.to_string() }
}
