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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;
use tradia_core::{
    CancelFlag, Content, EngineError, LanguageTag, Priority, ResultSink, SegmentResult,
    TranslateRequest,
};
use tradia_formats::{ExtractOptions, MergeOptions};
use tradia_store::{ClaimOptions, Claimed, ErrorInfo, FileExtracted, Job, Lease, RenewOutcome};

use crate::detect::detect_language;
use crate::jobs::repo::{RepoError, stored_segment};
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
    /// A write was refused because the lease is gone (cancelled, deleted, taken over).
    LeaseLost,
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

/// Claims this many times at most: a job that keeps killing its workers is failed.
const MAX_ATTEMPTS: u32 = 10;

async fn worker_loop(state: Arc<AppState>, worker: String) {
    tracing::debug!(worker, "worker started");
    let options = ClaimOptions {
        worker: worker.clone(),
        lease_ttl: state.settings.lease,
        max_attempts: MAX_ATTEMPTS,
    };
    while !state.shutdown.is_cancelled() {
        match state.jobs.store.claim_next_job(&options).await {
            Ok(Some(claimed)) => run_job(&state, claimed).await,
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
        match state.jobs.store.purge_expired(state.settings.retention).await {
            Ok(purged) if purged.jobs.is_empty() => {}
            Ok(purged) => {
                state.jobs.delete_blobs(&purged.blobs).await;
                tracing::info!(
                    jobs = purged.jobs.len(),
                    files = purged.blobs.len(),
                    "purged expired jobs and their files"
                );
            }
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
    /// The user cancelled (the store already marked the job cancelled).
    cancelled: AtomicBool,
    /// The lease is gone: another worker owns the job, or it was deleted.
    lost: AtomicBool,
}

async fn run_job(state: &Arc<AppState>, claimed: Claimed) {
    let Claimed { job, lease } = claimed;
    let id = job.id.to_string();
    let started = Instant::now();
    tracing::info!(job.id = %id, worker = %lease.worker, attempt = lease.attempt, files = job.files.len(), "job started");
    let cancel = CancelFlag::new();
    if let Ok(mut running) = state.running.lock() {
        running.insert(id.clone(), cancel.clone());
    }
    let reasons = Arc::new(Reasons::default());
    let keeper =
        tokio::spawn(keep_lease(state.clone(), lease.clone(), cancel.clone(), reasons.clone()));
    publish(state, &id).await;

    let outcome = translate_job(state, &lease, &job, &cancel).await;
    keeper.abort();
    if let Ok(mut running) = state.running.lock() {
        running.remove(&id);
    }

    let lost = reasons.lost.load(Ordering::SeqCst);
    let cancelled = reasons.cancelled.load(Ordering::SeqCst);
    let result: Result<(), RepoError> = match outcome {
        Err(Stop::Cancelled) | Err(Stop::LeaseLost)
            if state.shutdown.is_cancelled() && !lost && !cancelled =>
        {
            tracing::info!(job.id = %id, "job put back in the queue (shutdown)");
            state.jobs.store.requeue_job(&lease).await.map_err(Into::into)
        }
        _ if lost => {
            tracing::warn!(job.id = %id, "lease lost; the job is no longer this worker's");
            Ok(())
        }
        Err(Stop::Cancelled) | Err(Stop::LeaseLost) => {
            // The store marked the job cancelled (or deleted it) when the user asked.
            metrics::counter!("tradia_jobs_finished_total", "state" => "cancelled").increment(1);
            tracing::info!(job.id = %id, "job cancelled");
            Ok(())
        }
        Ok(()) => {
            metrics::counter!("tradia_jobs_finished_total", "state" => "done").increment(1);
            state.jobs.store.finish_job(&lease).await.map(drop).map_err(Into::into)
        }
        Err(Stop::Failed { code, message }) => {
            tracing::warn!(job.id = %id, error.code = code, error = %message, "job failed");
            metrics::counter!("tradia_jobs_finished_total", "state" => "failed").increment(1);
            state
                .jobs
                .store
                .fail_job(&lease, ErrorInfo::new(code, message))
                .await
                .map(drop)
                .map_err(Into::into)
        }
    };
    match result {
        Err(e) if e.is_lease_lost() => {
            tracing::info!(job.id = %id, "job ended elsewhere (cancelled or taken over)")
        }
        Err(e) => tracing::error!(job.id = %id, error = %e, "cannot record the job's end"),
        Ok(()) => {}
    }
    tracing::info!(job.id = %id, duration_ms = started.elapsed().as_millis() as u64, "job stopped");
    publish(state, &id).await;
}

/// Renews the lease every third of its duration; raises the cancel flag when the user cancelled,
/// the lease was lost, or the service shuts down.
async fn keep_lease(state: Arc<AppState>, lease: Lease, cancel: CancelFlag, reasons: Arc<Reasons>) {
    let every = state.settings.lease / 3;
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                cancel.cancel();
                return;
            }
            _ = tokio::time::sleep(every) => {}
        }
        match state.jobs.store.renew_lease(&lease, state.settings.lease).await {
            Ok(RenewOutcome::Renewed(_)) => {}
            Ok(RenewOutcome::Cancelled) => {
                reasons.cancelled.store(true, Ordering::SeqCst);
                cancel.cancel();
                return;
            }
            Ok(RenewOutcome::Lost) => {
                reasons.lost.store(true, Ordering::SeqCst);
                cancel.cancel();
                return;
            }
            Err(e) => {
                tracing::warn!(job.id = %lease.job, error = %e, "lease renewal failed; retrying")
            }
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
    lease: &Lease,
    job: &Job,
    cancel: &CancelFlag,
) -> Result<(), Stop> {
    let id = job.id.to_string();
    let target = job.target_lang.clone();
    let engine = state.gateway.engine(job.model.as_deref());
    let mut any_done = false;
    let mut first_error: Option<(String, String)> = None;

    for file in &job.files {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        if file.output_blob.is_some() {
            any_done = true;
            continue;
        }
        if let Some(e) = &file.error {
            first_error.get_or_insert((e.code.clone(), e.message.clone()));
            continue;
        }
        let input = state.jobs.read_blob(&file.input_blob).await.map_err(|e| Stop::Failed {
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
                tracing::warn!(job.id = %id, file.index = file.index, error = %e, "file cannot be read");
                let message = format!("`{}`: {e}", file.name);
                file_failed(state, lease, file.index, e.code(), &message).await?;
                first_error.get_or_insert((e.code().to_string(), message));
                publish(state, &id).await;
                continue;
            }
        };
        let format =
            serde_json::to_value(document.format).ok().and_then(|v| v.as_str().map(str::to_string));

        // The source language: given for the job, or detected per file on its own text.
        let source: Option<LanguageTag> = match (&job.source_lang, &file.detected_source_lang) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(d)) => Some(d.clone()),
            (None, None) => {
                let mut sample = String::new();
                for segment in &document.segments {
                    sample.push_str(&segment.content.plain_text());
                    sample.push('\n');
                    if sample.len() > 4000 {
                        break;
                    }
                }
                let detected = detect_language(&sample);
                if let Some(d) = &detected {
                    tracing::info!(job.id = %id, file.index = file.index, source = %d, "source language detected");
                }
                detected
            }
        };
        let extracted_info = FileExtracted {
            total: document.segments.len() as u64,
            format,
            detected_source_lang: if job.source_lang.is_none() { source.clone() } else { None },
        };
        state
            .jobs
            .store
            .set_file_extracted(lease, file.index, extracted_info)
            .await
            .map_err(|e| stop_from(e.into()))?;

        // An LLM outage (Ollama restarting, a GPU server rebooting) does not fail the job at once:
        // what was translated is saved, the job waits and tries again, and only an outage that
        // outlasts every pause fails it. Each try starts from the segments saved so far.
        let mut outage_pauses = 0u32;
        let mut results: HashMap<u32, SegmentResult>;
        loop {
            results = state
                .jobs
                .saved_results(job.id, file.index)
                .await
                .map_err(stop_from)?
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
            let pending: Vec<u32> = document
                .segments
                .iter()
                .map(|s| s.id)
                .filter(|sid| !results.contains_key(sid))
                .collect();
            if !results.is_empty() && outage_pauses == 0 {
                metrics::counter!("tradia_segments_resumed_total").increment(results.len() as u64);
                tracing::info!(job.id = %id, file.index = file.index, saved = results.len(), pending = pending.len(), "file resumed");
            }
            publish(state, &id).await;
            if pending.is_empty() {
                break;
            }
            let (tx, rx) = mpsc::unbounded_channel::<SegmentResult>();
            let writer = tokio::spawn(write_segments(
                state.clone(),
                lease.clone(),
                file.index,
                rx,
                cancel.clone(),
            ));
            let sink = ChannelSink(tx);
            let request = TranslateRequest {
                source: source.clone(),
                target: target.clone(),
                segments: &document.segments,
                pending,
                priority: Priority::Document,
                owner: id.clone(),
                cancel: cancel.clone(),
                sink: &sink,
            };
            let outcome = engine.translate(request).await;
            drop(sink);
            let written = writer.await.unwrap_or(Err(Stop::Failed {
                code: "internal_error",
                message: "the segment writer stopped".into(),
            }));
            match outcome {
                Ok(translated) => {
                    written?;
                    for r in translated {
                        results.insert(r.id, r);
                    }
                    break;
                }
                Err(EngineError::Cancelled) => return Err(Stop::Cancelled),
                Err(EngineError::Unavailable(m)) => {
                    written?;
                    if outage_pauses >= state.settings.outage_pauses {
                        return Err(Stop::Failed { code: "llm_unavailable", message: m });
                    }
                    outage_pauses += 1;
                    tracing::warn!(job.id = %id, file.index = file.index, pause = outage_pauses, error = %m, "LLM unavailable: the job waits, then resumes");
                    pause_unless_cancelled(cancel, state.settings.outage_pause).await?;
                }
                Err(EngineError::Rejected(m)) => {
                    return Err(Stop::Failed { code: "request_rejected", message: m });
                }
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
                let stored =
                    state.jobs.blobs.put_bytes(bytes).await.map_err(|e| stop_from(e.into()))?;
                if let Err(e) =
                    state.jobs.store.set_file_output(lease, file.index, stored.key.clone()).await
                {
                    state.jobs.delete_blobs(&[stored.key]).await;
                    return Err(stop_from(e.into()));
                }
                any_done = true;
            }
            Err(e) => {
                let message = format!("`{}`: {e}", file.name);
                file_failed(state, lease, file.index, e.code(), &message).await?;
                first_error.get_or_insert((e.code().to_string(), message));
            }
        }
        publish(state, &id).await;
    }

    if any_done {
        Ok(())
    } else {
        let (code, message) = first_error
            .unwrap_or_else(|| ("no_file".into(), "the job has no file to translate".into()));
        Err(Stop::Failed { code: leak_code(&code), message })
    }
}

/// Saves each finished segment as it arrives and publishes progress now and then. A refused
/// write (lease lost: the job was cancelled or taken over) raises the cancel flag so the engine
/// stops asking the model.
/// Sleeps for `pause`, or stops early with [`Stop::Cancelled`] when the job is cancelled or the
/// process shuts down.
async fn pause_unless_cancelled(cancel: &CancelFlag, pause: Duration) -> Result<(), Stop> {
    let deadline = Instant::now() + pause;
    while Instant::now() < deadline {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

async fn write_segments(
    state: Arc<AppState>,
    lease: Lease,
    file_index: u32,
    mut rx: mpsc::UnboundedReceiver<SegmentResult>,
    cancel: CancelFlag,
) -> Result<(), Stop> {
    let id = lease.job.to_string();
    let mut last_publish = Instant::now();
    let mut outcome = Ok(());
    while let Some(result) = rx.recv().await {
        if outcome.is_err() {
            continue;
        }
        let segment = stored_segment(file_index, &result);
        let mut attempt = 0;
        loop {
            match state.jobs.store.save_segment(&lease, segment.clone()).await {
                Ok(()) => break,
                Err(e) => {
                    let e = RepoError::from(e);
                    attempt += 1;
                    if e.is_lease_lost() || attempt >= 3 {
                        tracing::warn!(job.id = %id, segment.id = result.id, error = %e, "cannot save a segment");
                        cancel.cancel();
                        outcome = Err(stop_from(e));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        if outcome.is_ok() {
            metrics::counter!("tradia_segments_translated_total").increment(1);
            if result.kept.is_some() {
                metrics::counter!("tradia_segments_kept_total").increment(1);
            }
            if last_publish.elapsed() >= PUBLISH_EVERY {
                last_publish = Instant::now();
                publish(&state, &id).await;
            }
        }
    }
    outcome
}

fn stop_from(e: RepoError) -> Stop {
    if e.is_lease_lost() {
        Stop::LeaseLost
    } else {
        Stop::Failed { code: "storage_error", message: e.to_string() }
    }
}

async fn file_failed(
    state: &AppState,
    lease: &Lease,
    index: u32,
    code: &str,
    message: &str,
) -> Result<(), Stop> {
    state
        .jobs
        .store
        .set_file_failed(lease, index, ErrorInfo::new(code, message))
        .await
        .map_err(|e| stop_from(e.into()))
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
