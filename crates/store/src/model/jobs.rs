//! Jobs, their files, saved segments and leases.
//!
//! Everything the server needs to resume a job after a crash is here: the per-file extraction
//! results and one [`StoredSegment`] per finished segment.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tradia_core::{LanguageTag, SegmentFlag, SegmentId};

use super::ids::{JobId, UserId};
use crate::blob::BlobKey;

/// Where a job stands. Stored as the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Every file was produced.
    Done,
    /// Stopped by an error (see [`Job::error`]).
    Failed,
    /// Stopped by a user.
    Cancelled,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// The stored and serialised name: `queued`, `running`, `done`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// True for `done`, `failed` and `cancelled`: nothing will change the job any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A machine-readable code plus a message for people, for a failed job or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable snake_case code (`malformed`, `backend_failed`, `worker_lost`…).
    pub code: String,
    /// What went wrong, in words a user understands.
    pub message: String,
}

impl ErrorInfo {
    /// Builds an error from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorInfo { code: code.into(), message: message.into() }
    }
}

/// What a caller submits to create a job: everything is already validated and the uploaded files
/// are already in the blob store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Source language; `None` means "detect".
    pub source_lang: Option<LanguageTag>,
    /// Target language.
    pub target_lang: LanguageTag,
    /// Model asked for; `None` means the default model.
    pub model: Option<String>,
    /// The files, in the order they were uploaded (at least one).
    pub files: Vec<NewJobFile>,
}

/// One uploaded file of a [`NewJob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJobFile {
    /// The file's name as uploaded (used again for the result).
    pub name: String,
    /// The detected format's name, when known at upload time.
    pub format: Option<String>,
    /// Where the uploaded bytes are.
    pub input_blob: BlobKey,
    /// Size of the upload in bytes.
    pub size: u64,
}

/// Segments finished over segments to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Segments saved so far.
    pub done: u64,
    /// Segments in the file(s); 0 until extraction is done.
    pub total: u64,
}

/// One file of a job, with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFile {
    /// Position in the job (0-based, upload order).
    pub index: u32,
    /// Name as uploaded.
    pub name: String,
    /// Format name (from upload, or from extraction).
    pub format: Option<String>,
    /// The uploaded bytes.
    pub input_blob: BlobKey,
    /// Upload size in bytes.
    pub size: u64,
    /// True once [`Store::set_file_extracted`](crate::Store::set_file_extracted) was called.
    pub extracted: bool,
    /// Saved segments over the file's segment count.
    pub progress: Progress,
    /// Saved segments whose source was kept instead of a translation.
    pub kept: u64,
    /// Source language detected for this file, when the job asked for detection.
    pub detected_source_lang: Option<LanguageTag>,
    /// The document's own title, read at extraction (the brief when the job has none).
    pub title: Option<String>,
    /// The produced file, once merged.
    pub output_blob: Option<BlobKey>,
    /// Why this file could not be translated, if so.
    pub error: Option<ErrorInfo>,
}

/// A translation job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Identifier.
    pub id: JobId,
    /// Who created it; `None` for a job created before accounts existed (the first administrator
    /// adopts those) or through the unscoped [`Store::create_job`](crate::Store::create_job).
    pub owner: Option<UserId>,
    /// Current status.
    pub status: JobStatus,
    /// Source language asked for; `None`: detect.
    pub source_lang: Option<LanguageTag>,
    /// Target language.
    pub target_lang: LanguageTag,
    /// Model asked for; `None`: default.
    pub model: Option<String>,
    /// Files in upload order.
    pub files: Vec<JobFile>,
    /// Why the job failed (or was stopped), if so.
    pub error: Option<ErrorInfo>,
    /// How many times a worker claimed the job (1 for a job run once).
    pub attempts: u32,
    /// Which worker holds the job, while it is running.
    pub lease_owner: Option<String>,
    /// Until when that worker's lease holds.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// When the job was created.
    pub created_at: OffsetDateTime,
    /// Last change of the job row or of a file row (not of each saved segment).
    pub updated_at: OffsetDateTime,
    /// When a worker first claimed it.
    pub started_at: Option<OffsetDateTime>,
    /// When it reached a terminal status.
    pub finished_at: Option<OffsetDateTime>,
}

impl Job {
    /// Progress over all files.
    pub fn progress(&self) -> Progress {
        self.files.iter().fold(Progress::default(), |acc, f| Progress {
            done: acc.done + f.progress.done,
            total: acc.total + f.progress.total,
        })
    }

    /// Segments kept as source over all files.
    pub fn kept(&self) -> u64 {
        self.files.iter().map(|f| f.kept).sum()
    }

    /// The first language detected among the files, if any.
    pub fn detected_source_lang(&self) -> Option<&LanguageTag> {
        self.files.iter().find_map(|f| f.detected_source_lang.as_ref())
    }

    /// Blob keys of every input and output file of the job.
    pub fn blob_keys(&self) -> Vec<BlobKey> {
        let mut keys = Vec::new();
        for f in &self.files {
            keys.push(f.input_blob.clone());
            keys.extend(f.output_blob.clone());
        }
        keys
    }
}

/// What extraction found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileExtracted {
    /// Number of segments in the file.
    pub total: u64,
    /// Detected format name (replaces the upload-time guess when `Some`).
    pub format: Option<String>,
    /// Source language detected for the file, when detection was asked for.
    pub detected_source_lang: Option<LanguageTag>,
    /// The document's own title, if it records one (at most
    /// [`MAX_BRIEF_CHARS`](crate::MAX_BRIEF_CHARS) characters are kept).
    pub title: Option<String>,
}

/// One finished segment, saved as soon as the engine returns it, so a restarted job does not
/// ask the model again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSegment {
    /// File index in the job.
    pub file_index: u32,
    /// Segment id in the file (document order).
    pub segment_id: SegmentId,
    /// The result content, rendered (`Content::render`); parse it back with `Content::parse`.
    pub content: String,
    /// When the source was kept: the reason's code.
    pub kept_code: Option<String>,
    /// When the source was kept: the reason's message.
    pub kept_message: Option<String>,
    /// What happened to it on its way (memory reuse, repairs, checks), for the quality report.
    pub flags: Vec<SegmentFlag>,
}

/// Proof that a worker holds a job. Every write a worker makes is checked against it, so a worker
/// whose lease expired (and whose job another worker took over) cannot overwrite anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job held.
    pub job: JobId,
    /// The worker holding it.
    pub worker: String,
    /// The claim number ([`Job::attempts`] at claim time): a later claim of the same job by the
    /// same worker id (after a restart) gets another number, which fences the earlier one.
    pub attempt: u32,
}

/// A job handed to a worker by [`Store::claim_next_job`](crate::Store::claim_next_job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The job, status `running`.
    pub job: Job,
    /// The lease to present on every write and to renew.
    pub lease: Lease,
}

/// Options for claiming jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimOptions {
    /// The claiming worker: unique per process (or stable per replica, with
    /// [`Store::requeue_worker_jobs`](crate::Store::requeue_worker_jobs) called at start-up).
    pub worker: String,
    /// How long the lease holds without renewal.
    pub lease_ttl: std::time::Duration,
    /// A job already claimed this many times is failed with code `too_many_attempts` instead of
    /// being claimed again (it keeps killing its workers). Graceful requeues count too, so leave
    /// room for restarts (10 is a sensible value).
    pub max_attempts: u32,
    /// Jobs of one owner running at once, across every worker and replica (0: no cap). A job
    /// keeps every LLM slot busy on its own, so a second job of the same owner adds no
    /// throughput, only takes a worker that another owner's job would have started on.
    pub max_running_per_owner: u32,
}

/// What renewing a lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewOutcome {
    /// Still held, now until this time.
    Renewed(OffsetDateTime),
    /// A user cancelled the job: stop working on it.
    Cancelled,
    /// The lease is gone (expired and taken over, deleted, or requeued): stop working on it.
    Lost,
}

/// One page of [`Store::list_jobs`](crate::Store::list_jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPage {
    /// Jobs, newest first.
    pub jobs: Vec<Job>,
    /// Pass as `before` to get the next page; `None` on the last page.
    pub next: Option<JobId>,
}

/// Number of jobs in each status (every status present, zero included).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusCounts {
    /// Count per status, in [`JobStatus::ALL`] order.
    pub counts: Vec<(JobStatus, u64)>,
}

impl StatusCounts {
    /// The count for one status.
    pub fn get(&self, status: JobStatus) -> u64 {
        self.counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n)
    }
}

/// A user's unfinished work, for the "documents in progress" quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InProgress {
    /// Their `queued` and `running` jobs.
    pub jobs: u64,
    /// The files of those jobs.
    pub files: u64,
}
