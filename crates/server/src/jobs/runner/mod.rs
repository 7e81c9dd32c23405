//! The job runner: workers that claim queued jobs with a lease, translate them file by file and
//! persist every finished segment as it arrives.
//!
//! What makes a job survive anything:
//! - the lease is renewed while the job runs; a process that dies stops renewing, and once the
//!   lease expires any worker (this process after a restart, or another replica) claims it again;
//! - each segment result goes to the database the moment the engine reports it, and a resumed
//!   file only asks the engine for the segments not saved yet;
//! - on graceful shutdown the running jobs are put back in the queue at once, not left to expire.
//!
//! A claimed job (`run_job`) first reads every file (`read_file`: stages `extract`, the upload
//! with the format detected at upload, and `source`, the source language), so its total is known
//! before translation starts; then each file in turn passes `translate` (the segments not saved
//! yet, through LLM outages) and `merge` (the translated document, stored). A file already in
//! the target language is copied unchanged at reading.

mod extract;
mod merge;
mod source;
mod translate;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio_util::task::TaskTracker;
use tradia_core::CancelFlag;
use tradia_core::LanguageTag;
use tradia_formats::FormatError;
use tradia_store::{
    ClaimOptions, Claimed, ErrorInfo, FileExtracted, Job, JobFile, JobId, Lease, RenewOutcome,
};

use crate::error::ErrorCode;
use crate::jobs::repo::RepoError;
use crate::state::AppState;

/// How often expired files are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Claims this many times at most: a job that keeps killing its workers is failed.
const MAX_ATTEMPTS: u32 = 10;

/// How a job's run ended, short of success.
#[derive(Debug)]
enum Stop {
    /// The cancel flag was raised (user cancel, lost lease or shutdown).
    Cancelled,
    /// A write was refused because the lease is gone (cancelled, deleted, taken over).
    LeaseLost,
    /// The job cannot go on.
    Failed { code: ErrorCode, message: String },
}

impl Stop {
    fn internal(message: impl Into<String>) -> Self {
        Stop::Failed { code: ErrorCode::InternalError, message: message.into() }
    }
}

impl From<RepoError> for Stop {
    fn from(e: RepoError) -> Self {
        if e.is_lease_lost() {
            Stop::LeaseLost
        } else {
            Stop::Failed { code: ErrorCode::from(&e), message: e.to_string() }
        }
    }
}

/// One file of a claimed job, with what every stage needs.
struct FileTask<'a> {
    state: &'a Arc<AppState>,
    lease: &'a Lease,
    job: &'a Job,
    file: &'a JobFile,
    cancel: &'a CancelFlag,
}

/// How one file ended when the job can go on.
enum FileOutcome {
    /// Its translation is stored.
    Stored,
    /// It cannot be translated; the error is recorded on the file.
    Failed { code: ErrorCode, message: String },
}

impl FileTask<'_> {
    /// Records that the file cannot be read or written back, and why.
    async fn fail(&self, error: FormatError) -> Result<FileOutcome, Stop> {
        let code = ErrorCode::from(&error);
        let message = format!("`{}`: {error}", self.file.name);
        tracing::warn!(job.id = %self.job.id, file.index = self.file.index, error.code = %code, error = %error, "file cannot be translated");
        let info = ErrorInfo::new(code.as_str(), message.clone());
        self.state.jobs.set_file_failed(self.lease, self.file.index, info).await?;
        Ok(FileOutcome::Failed { code, message })
    }
}

/// Starts `settings.workers` workers and the purge task on `tracker`.
pub fn spawn_workers(state: &Arc<AppState>, tracker: &TaskTracker) {
    // Before any merge of this process: what crashed merges left in the spool goes.
    merge::clean_spool(&state.settings.data_dir);
    // `host:pid:…`: the store retakes at once a lease whose holder is a dead process of this host.
    let holder = tradia_store::process::holder_prefix();
    for n in 0..state.settings.workers {
        let worker = format!("{holder}:{}:{n}", uuid::Uuid::now_v7());
        tracker.spawn(worker_loop(state.clone(), worker));
    }
    tracker.spawn(purge_loop(state.clone()));
}

async fn worker_loop(state: Arc<AppState>, worker: String) {
    tracing::debug!(worker, "worker started");
    let options = ClaimOptions {
        worker: worker.clone(),
        lease_ttl: state.settings.lease,
        max_attempts: MAX_ATTEMPTS,
        max_running_per_owner: state.settings.max_running_jobs_per_user,
    };
    while !state.shutdown.is_cancelled() {
        match state.jobs.claim_next_job(&options).await {
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
        match state.jobs.purge_expired(state.settings.retention).await {
            Ok(purged) if purged.jobs == 0 => {}
            Ok(purged) => {
                tracing::info!(
                    jobs = purged.jobs,
                    files = purged.files,
                    "purged expired jobs and their files"
                );
            }
            Err(e) => tracing::error!(error = %e, "purge of expired jobs failed"),
        }
        crate::accounts::audit::purge_expired(&state).await;
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
    let id = job.id;
    let started = Instant::now();
    tracing::info!(job.id = %id, worker = %lease.worker, attempt = lease.attempt, files = job.files.len(), "job started");
    let cancel = CancelFlag::new();
    state.track_running(id, cancel.clone());
    let reasons = Arc::new(Reasons::default());
    let keeper =
        tokio::spawn(keep_lease(state.clone(), lease.clone(), cancel.clone(), reasons.clone()));
    publish(state, id).await;

    let outcome = translate_job(state, &lease, &job, &cancel).await;
    keeper.abort();
    state.untrack_running(id);

    let lost = reasons.lost.load(Ordering::SeqCst);
    let cancelled = reasons.cancelled.load(Ordering::SeqCst);
    let result: Result<(), RepoError> = match outcome {
        Err(Stop::Cancelled) | Err(Stop::LeaseLost)
            if state.shutdown.is_cancelled() && !lost && !cancelled =>
        {
            tracing::info!(job.id = %id, "job put back in the queue (shutdown)");
            state.jobs.requeue_job(&lease).await
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
            state.jobs.finish_job(&lease).await
        }
        Err(Stop::Failed { code, message }) => {
            tracing::warn!(job.id = %id, error.code = %code, error = %message, "job failed");
            metrics::counter!("tradia_jobs_finished_total", "state" => "failed").increment(1);
            state.jobs.fail_job(&lease, ErrorInfo::new(code.as_str(), message)).await
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
    publish(state, id).await;
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
        match state.jobs.renew_lease(&lease, state.settings.lease).await {
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

/// Sends the job as it is now to its SSE subscribers.
async fn publish(state: &AppState, id: JobId) {
    match state.jobs.get_job(id).await {
        Ok(Some(job)) => state.publish(job),
        Ok(None) => {}
        Err(e) => tracing::warn!(job.id = %id, error = %e, "cannot read job for progress"),
    }
}

/// Reads every file not done yet, then translates them one after the other: the job's total is
/// known before translation starts and does not change after. One file failing does not stop
/// the others; the job fails when none could be translated (with the first file's error).
async fn translate_job(
    state: &Arc<AppState>,
    lease: &Lease,
    job: &Job,
    cancel: &CancelFlag,
) -> Result<(), Stop> {
    let mut any_done = false;
    let mut first_error: Option<(ErrorCode, String)> = None;
    let mut read = Vec::new();
    // Segments of the files translated by an earlier run count toward the job's limit.
    let mut counted: u64 =
        job.files.iter().filter(|f| f.output_blob.is_some()).map(|f| f.progress.total).sum();
    for file in &job.files {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        if file.output_blob.is_some() {
            any_done = true;
            continue;
        }
        if let Some(e) = &file.error {
            first_error.get_or_insert((ErrorCode::from_stored(&e.code), e.message.clone()));
            continue;
        }
        let task = FileTask { state, lease, job, file, cancel };
        match read_file(&task, &mut counted).await? {
            Read::Ready(extracted, source) => read.push((file, *extracted, source)),
            Read::Done(FileOutcome::Stored) => any_done = true,
            Read::Done(FileOutcome::Failed { code, message }) => {
                first_error.get_or_insert((code, message));
            }
        }
        publish(state, job.id).await;
    }
    for (file, extracted, source) in read {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let task = FileTask { state, lease, job, file, cancel };
        let translations =
            translate::translate_segments(&task, &extracted.document, source).await?;
        // Every segment is saved: the file shows `merging` while it is written back.
        publish(state, job.id).await;
        match merge::merge_and_store(&task, extracted, translations).await? {
            FileOutcome::Stored => any_done = true,
            FileOutcome::Failed { code, message } => {
                first_error.get_or_insert((code, message));
            }
        }
        publish(state, job.id).await;
    }
    if any_done {
        return Ok(());
    }
    let (code, message) = first_error
        .unwrap_or_else(|| (ErrorCode::NoFile, "the job has no file to translate".into()));
    Err(Stop::Failed { code, message })
}

/// A file after its first two stages.
enum Read {
    /// Read, with its source language: to translate.
    Ready(Box<extract::Extracted>, Option<LanguageTag>),
    /// Nothing to translate: it could not be read, or it is already in the target language
    /// and was copied unchanged.
    Done(FileOutcome),
}

/// Stages 1 and 2 of a file: extract it, choose its source language, and record both with its
/// segment total. A file detected as already in the target language is copied unchanged (the
/// service never stops to ask; the job shows it as `copied_unchanged`).
///
/// `counted` is the job's segments so far (`TRADIA_MAX_SEGMENTS_PER_JOB`); the file's are added
/// once it passes the limit.
async fn read_file(task: &FileTask<'_>, counted: &mut u64) -> Result<Read, Stop> {
    let extracted = match extract::extract_file(task).await? {
        Ok(extracted) => extracted,
        Err(error) => return task.fail(error).await.map(Read::Done),
    };
    let document = &extracted.document;
    if let Some(outcome) = job_limit(task, counted, document.segments.len()).await? {
        return Ok(Read::Done(outcome));
    }
    *counted += document.segments.len() as u64;
    let source = source::choose_source(task, document);
    let unchanged = task.job.source_lang.is_none()
        && source.as_ref().is_some_and(|s| s.same_language(&task.job.target_lang));
    let recorded = FileExtracted {
        total: if unchanged { 0 } else { document.segments.len() as u64 },
        format: Some(document.format.as_str().to_string()),
        detected_source_lang: if task.job.source_lang.is_none() { source.clone() } else { None },
        title: document.brief(),
    };
    task.state.jobs.set_file_extracted(task.lease, task.file.index, recorded).await?;
    if unchanged {
        tracing::info!(job.id = %task.job.id, file.index = task.file.index, target = %task.job.target_lang, "file already in the target language; copied unchanged");
        let input = extracted.input.path();
        task.state.jobs.store_output_file(task.lease, task.file.index, input).await?;
        return Ok(Read::Done(FileOutcome::Stored));
    }
    // A document's characters count in its owner's usage once, when first extracted (a job
    // resumed after a restart extracts again, and is not counted again).
    if let Some(owner) = task.job.owner
        && !task.file.extracted
    {
        let chars: usize =
            document.segments.iter().map(|s| s.content.plain_text().chars().count()).sum();
        crate::accounts::quota::add_usage(
            task.state,
            owner,
            u64::try_from(chars).unwrap_or(u64::MAX),
        )
        .await;
    }
    Ok(Read::Ready(Box::new(extracted), source))
}

/// Fails the file (`Some`) when its `segments` would take the job past
/// `TRADIA_MAX_SEGMENTS_PER_JOB`, with `counted` segments in the job's other files (those
/// translated by an earlier run and those extracted before it in this one).
async fn job_limit(
    task: &FileTask<'_>,
    counted: &u64,
    segments: usize,
) -> Result<Option<FileOutcome>, Stop> {
    let limit = task.state.settings.limits.max_segments_per_job;
    let total = counted.saturating_add(segments as u64);
    if total <= limit as u64 {
        return Ok(None);
    }
    let code = ErrorCode::JobSegmentLimitExceeded;
    let message = format!(
        "`{}`: the job's files have {total} segments together, more than {limit} \
         (TRADIA_MAX_SEGMENTS_PER_JOB); send this file in another job or raise the limit",
        task.file.name
    );
    tracing::warn!(job.id = %task.job.id, file.index = task.file.index, error.code = %code, "file past the job's segment limit");
    let info = ErrorInfo::new(code.as_str(), message.clone());
    task.state.jobs.set_file_failed(task.lease, task.file.index, info).await?;
    Ok(Some(FileOutcome::Failed { code, message }))
}
