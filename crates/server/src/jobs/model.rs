//! The job as the API shows it, and its conversion from the store's record. These shapes are
//! relied on from outside (the web interface, scripts): fields may be added, never renamed or
//! removed (`tests/snapshots/` holds them as a visible contract).

use serde::{Deserialize, Serialize};
use tradia_store::{ErrorInfo, Job, JobFile, JobId};
use utoipa::ToSchema;

use crate::error::{ErrorCode, ErrorDetail};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker is translating it.
    Running,
    /// Finished; the result can be downloaded.
    Done,
    /// Stopped by an error (see `error`).
    Failed,
    /// Stopped at the user's request.
    Cancelled,
}

impl JobStatus {
    /// True once the job will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled)
    }
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

/// Segments done over segments in total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// Segments finished (translated or kept).
    pub done: u64,
    /// Segments in total (0 until extraction is done).
    pub total: u64,
}

/// What is happening to one file now, derived from what the store records (so every replica
/// and every reload tells the same): its states follow each other in this order, a file that
/// cannot be translated ends `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStage {
    /// Not read yet (the job is queued, or another file is being read).
    Waiting,
    /// Being read into segments (every file of a job is read before any is translated, so the
    /// job's total is known, and does not change, once translation starts).
    Reading,
    /// Read; `progress` says how many of its segments are translated (0 while it waits for its
    /// turn, files being translated one after the other).
    Translating,
    /// Every segment is translated; the translations are being written back into the document.
    Merging,
    /// Its translation is stored (or, already in the target language, its copy).
    Done,
    /// It cannot be translated (see `error`).
    Failed,
}

/// One file of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileView {
    /// Position in the job (upload order).
    pub index: u32,
    /// File name as uploaded (also the name of its translation).
    pub name: String,
    /// Size of the upload.
    pub size_bytes: u64,
    /// Detected format (`scenari`, `docx`, …), once known.
    pub format: Option<String>,
    /// This file's progress.
    pub progress: Progress,
    /// True once its translation is stored.
    pub done: bool,
    /// Why this file could not be translated.
    pub error: Option<ErrorDetail>,
    /// Segments of this file whose source was kept instead of a translation.
    pub kept: u64,
    /// Source language detected in this file (when the job asked for detection).
    pub detected_source_lang: Option<String>,
    /// The document's own title (and domain), when it records one: the brief the model was
    /// given for this file when the job has none of its user's (`null` until read, and for an
    /// administrator looking at another user's job).
    pub title: Option<String>,
    /// The language this file is translated from: the job's when given, else the one detected
    /// in it (`null` until it is read, or when its text does not tell).
    pub source_lang: Option<String>,
    /// What is happening to it now.
    pub stage: FileStage,
    /// True when its detected language is the target: it is copied unchanged, not translated.
    pub copied_unchanged: bool,
    /// The kept segments with their reasons (only in `GET /api/v1/jobs/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_segments: Option<Vec<KeptSegment>>,
}

/// A segment whose source text was kept instead of a translation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeptSegment {
    /// Segment id in its file (document order).
    pub segment: u32,
    /// Stable reason code (`invalid_codes`, `backend_failed`, …).
    pub code: String,
    /// The reason, for people.
    pub message: String,
}

/// Why a job that is not moving is not moving, when the service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobNotice {
    /// Every backend of the translation model is unreachable: the job waits and resumes by
    /// itself once one answers again.
    WaitingForModel,
    /// The worker running it stopped (a crash or restart): the job is taken up again, from the
    /// segments saved, once its lease runs out (or at once after a clean shutdown).
    Resuming,
    /// Taken up again after a restart; the segments saved before were kept.
    Resumed,
}

/// A document translation job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// Job id.
    #[schema(value_type = String)]
    pub id: JobId,
    /// State.
    pub status: JobStatus,
    /// Source language (given, or detected in the first file read; `null` until then).
    pub source_lang: Option<String>,
    /// True when the source language was detected.
    pub source_detected: bool,
    /// Target language.
    pub target_lang: String,
    /// Model asked for (`null`: the default).
    pub model: Option<String>,
    /// Segments over all files.
    pub progress: Progress,
    /// Files, in upload order.
    pub files: Vec<FileView>,
    /// Segments kept as source, over all files.
    pub kept_segments: u64,
    /// Set on a `done` job whose translation mostly failed: more than `TRADIA_MAX_KEPT_PERCENT`
    /// of the segments of its translated files were kept as source.
    pub warning: Option<JobWarning>,
    /// Why the job failed.
    pub error: Option<ErrorDetail>,
    /// Why a running job is not moving, when the service knows (`null` otherwise).
    pub notice: Option<JobNotice>,
    /// How many times a worker took the job (2 and more: taken up again after a restart).
    pub attempts: u32,
    /// Until when the worker running it holds it (what tells a stopped worker: no renewal).
    #[serde(skip)]
    pub lease_expires_at: Option<time::OffsetDateTime>,
    /// The options chosen at its creation; only in `GET /api/v1/jobs/{id}` answered to the
    /// job's owner (absent from lists and for administrators: instructions and brief are
    /// content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<JobOptions>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When a worker first started it.
    pub started_at: Option<String>,
    /// When it reached a final state.
    pub finished_at: Option<String>,
    /// Last change.
    pub updated_at: String,
}

/// A job's translation-memory, glossary and style options, as chosen at its creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobOptions {
    /// The memory read and written: `own`, `teams`, `team:<id>` or `off`.
    pub memory: String,
    /// Deleting the job keeps the memory entries it recorded.
    pub keep_memory: bool,
    /// The glossary named at creation (`null`: the owner's default for the pair, if any).
    pub glossary_id: Option<String>,
    /// `default`, `more` or `less`.
    pub formality: String,
    /// Free-form instructions.
    pub instructions: Option<String>,
    /// What the user said the documents are (`null`: each file's `title` is its brief).
    pub brief: Option<String>,
}

impl JobOptions {
    /// The options as stored.
    pub fn new(memory: tradia_store::JobMemory, guidance: tradia_store::JobGuidance) -> Self {
        JobOptions {
            memory: memory.scope.as_string(),
            keep_memory: memory.keep,
            glossary_id: guidance.glossary.map(|g| g.to_string()),
            formality: guidance.formality.as_str().to_string(),
            instructions: guidance.instructions,
            brief: guidance.brief,
        }
    }
}

/// Why a finished job is not a plain success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobWarning {
    /// Stable code: `mostly_kept`.
    pub code: String,
    /// For people (how many segments were kept, over which limit).
    pub message: String,
}

/// The warning of a `done` job, from the files it translated.
fn warning(job: &Job, max_kept_percent: u8) -> Option<JobWarning> {
    if job.status != tradia_store::JobStatus::Done {
        return None;
    }
    let translated = job.files.iter().filter(|f| f.output_blob.is_some());
    let (kept, total) = translated.fold((0, 0), |(k, t), f| (k + f.kept, t + f.progress.total));
    tradia_core::outcome::over_kept_share(kept, total, max_kept_percent).then(|| {
        let w = tradia_core::RunWarning::MostlyKept { kept, total, max_percent: max_kept_percent };
        JobWarning { code: w.code().to_string(), message: w.message() }
    })
}

/// Answer of `GET /api/v1/jobs`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobList {
    /// Jobs, newest first.
    pub jobs: Vec<JobView>,
    /// Pass as `before` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn ts(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// A stored error as the API shows it; a stored code this version does not know is answered
/// as [`ErrorCode::from_stored`] says.
fn detail(e: &ErrorInfo) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::from_stored(&e.code), e.message.clone())
}

fn status(status: tradia_store::JobStatus) -> JobStatus {
    match status {
        tradia_store::JobStatus::Queued => JobStatus::Queued,
        tradia_store::JobStatus::Running => JobStatus::Running,
        tradia_store::JobStatus::Done => JobStatus::Done,
        tradia_store::JobStatus::Failed => JobStatus::Failed,
        tradia_store::JobStatus::Cancelled => JobStatus::Cancelled,
    }
}

/// The API view of a stored job (without the kept segments' details); `max_kept_percent`
/// decides its [`JobWarning`].
pub fn job_view(job: &Job, max_kept_percent: u8) -> JobView {
    // Every file is read before any is translated: the first file not read yet is the one
    // being read while the job runs.
    let reading = job
        .files
        .iter()
        .find(|f| !f.extracted && f.error.is_none() && f.output_blob.is_none())
        .map(|f| f.index);
    let files = job
        .files
        .iter()
        .map(|f| FileView {
            source_lang: job
                .source_lang
                .as_ref()
                .or(f.detected_source_lang.as_ref())
                .map(|l| l.to_string()),
            stage: file_stage(job, f, reading),
            copied_unchanged: copied_unchanged(job, f),
            index: f.index,
            name: f.name.clone(),
            size_bytes: f.size,
            format: f.format.clone(),
            progress: Progress { done: f.progress.done, total: f.progress.total },
            done: f.output_blob.is_some(),
            error: f.error.as_ref().map(detail),
            kept: f.kept,
            detected_source_lang: f.detected_source_lang.as_ref().map(|l| l.to_string()),
            title: f.title.clone(),
            kept_segments: None,
        })
        .collect();
    let progress = job.progress();
    JobView {
        id: job.id,
        status: status(job.status),
        source_lang: job
            .source_lang
            .as_ref()
            .or_else(|| job.detected_source_lang())
            .map(|l| l.to_string()),
        source_detected: job.source_lang.is_none(),
        target_lang: job.target_lang.to_string(),
        model: job.model.clone(),
        progress: Progress { done: progress.done, total: progress.total },
        files,
        kept_segments: job.kept(),
        warning: warning(job, max_kept_percent),
        error: job.error.as_ref().map(detail),
        notice: None,
        attempts: job.attempts,
        lease_expires_at: job.lease_expires_at,
        options: None,
        created_at: ts(job.created_at),
        started_at: job.started_at.map(ts),
        finished_at: job.finished_at.map(ts),
        updated_at: ts(job.updated_at),
    }
}

/// True when the file's detected language is the target: the runner copies it unchanged.
pub fn copied_unchanged(job: &Job, file: &JobFile) -> bool {
    job.source_lang.is_none()
        && file.detected_source_lang.as_ref().is_some_and(|d| d.same_language(&job.target_lang))
}

/// The stage of `file`, from the store's record; `reading` is the file being read, if any.
fn file_stage(job: &Job, file: &JobFile, reading: Option<u32>) -> FileStage {
    if file.error.is_some() {
        return FileStage::Failed;
    }
    if file.output_blob.is_some() {
        return FileStage::Done;
    }
    let running = job.status == tradia_store::JobStatus::Running;
    if !file.extracted {
        return if running && reading == Some(file.index) {
            FileStage::Reading
        } else {
            FileStage::Waiting
        };
    }
    if running && file.progress.done >= file.progress.total {
        FileStage::Merging
    } else {
        FileStage::Translating
    }
}
