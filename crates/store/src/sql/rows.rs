//! Rows as both backends read them, and their conversion to the model.
//!
//! Each struct is one statement's result, decoded by sqlx (`FromRow`, one derive for both
//! drivers: a column is listed once, here). The checks on stored text (status names, language
//! tags, blob keys, counts that must not be negative) are then written once too, and a bad value
//! becomes [`StoreError::Corrupt`] naming the column, never a panic. Times are the one column type
//! that differs, hence [`JobRow`]'s parameter (see [`StoredTime`]).

use tradia_core::{LanguageTag, SegmentFlag};
use uuid::Uuid;

use super::StoredTime;
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::model::{
    ErrorInfo, Job, JobFile, JobId, JobStatus, NewJob, Progress, StatusCounts, StoredSegment,
    UserId,
};

/// A `jobs` row; `T` is how the backend stores a time.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct JobRow<T> {
    pub id: Uuid,
    pub owner: Option<Uuid>,
    pub status: String,
    pub source_lang: Option<String>,
    pub target_lang: String,
    pub model: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<T>,
    pub created_at: T,
    pub updated_at: T,
    pub started_at: Option<T>,
    pub finished_at: Option<T>,
}

/// A `job_files` row with its segment counts.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FileRow {
    pub file_index: i64,
    pub name: String,
    pub format: Option<String>,
    pub input_blob: String,
    pub size: i64,
    pub extracted: bool,
    pub total: i64,
    pub detected_lang: Option<String>,
    pub title: Option<String>,
    pub output_blob: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub done: i64,
    pub kept: i64,
}

/// A `job_segments` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SegmentRow {
    pub file_index: i64,
    pub segment_id: i64,
    pub content: String,
    pub kept_code: Option<String>,
    pub kept_message: Option<String>,
    /// JSON array of `SegmentFlag`s.
    pub flags: String,
}

/// One line of the jobs-per-status count.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StatusCountRow {
    pub status: String,
    pub n: i64,
}

/// The error for a stored `value` the model cannot hold.
pub(crate) fn corrupt(column: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds `{value}`"))
}

pub(crate) fn status(value: &str) -> Result<JobStatus, StoreError> {
    JobStatus::parse(value).ok_or_else(|| corrupt("status", value))
}

fn lang(column: &str, value: &str) -> Result<LanguageTag, StoreError> {
    LanguageTag::parse(value).map_err(|_| corrupt(column, value))
}

fn opt_lang(column: &str, value: Option<String>) -> Result<Option<LanguageTag>, StoreError> {
    value.map(|v| lang(column, &v)).transpose()
}

fn blob(column: &str, value: &str) -> Result<BlobKey, StoreError> {
    BlobKey::parse(value).map_err(|_| corrupt(column, value))
}

fn unsigned<T: TryFrom<i64>>(column: &str, value: i64) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| corrupt(column, value))
}

fn opt_time<T: StoredTime>(
    column: &str,
    value: Option<T>,
) -> Result<Option<time::OffsetDateTime>, StoreError> {
    value.map(|v| v.into_time(column)).transpose()
}

fn error_info(code: Option<String>, message: Option<String>) -> Option<ErrorInfo> {
    code.map(|code| ErrorInfo { code, message: message.unwrap_or_default() })
}

impl FileRow {
    pub(crate) fn into_file(self) -> Result<JobFile, StoreError> {
        Ok(JobFile {
            index: unsigned("file_index", self.file_index)?,
            name: self.name,
            format: self.format,
            input_blob: blob("input_blob", &self.input_blob)?,
            size: unsigned("size", self.size)?,
            extracted: self.extracted,
            progress: Progress {
                done: unsigned("done", self.done)?,
                total: unsigned("total", self.total)?,
            },
            kept: unsigned("kept", self.kept)?,
            detected_source_lang: opt_lang("detected_lang", self.detected_lang)?,
            title: self.title,
            output_blob: self.output_blob.map(|b| blob("output_blob", &b)).transpose()?,
            error: error_info(self.error_code, self.error_message),
        })
    }
}

impl<T: StoredTime> JobRow<T> {
    /// The job, with `files` (its [`FileRow`]s, in index order).
    pub(crate) fn into_job(self, files: Vec<FileRow>) -> Result<Job, StoreError> {
        Ok(Job {
            id: JobId(self.id),
            owner: self.owner.map(UserId),
            status: status(&self.status)?,
            source_lang: opt_lang("source_lang", self.source_lang)?,
            target_lang: lang("target_lang", &self.target_lang)?,
            model: self.model,
            files: files.into_iter().map(FileRow::into_file).collect::<Result<_, _>>()?,
            error: error_info(self.error_code, self.error_message),
            attempts: unsigned("attempts", self.attempts)?,
            lease_owner: self.lease_owner,
            lease_expires_at: opt_time("lease_expires_at", self.lease_expires_at)?,
            created_at: self.created_at.into_time("created_at")?,
            updated_at: self.updated_at.into_time("updated_at")?,
            started_at: opt_time("started_at", self.started_at)?,
            finished_at: opt_time("finished_at", self.finished_at)?,
        })
    }
}

impl SegmentRow {
    pub(crate) fn into_segment(self) -> Result<StoredSegment, StoreError> {
        Ok(StoredSegment {
            file_index: unsigned("file_index", self.file_index)?,
            segment_id: unsigned("segment_id", self.segment_id)?,
            content: self.content,
            kept_code: self.kept_code,
            kept_message: self.kept_message,
            flags: decode_flags(&self.flags)?,
        })
    }
}

/// The `flags` column of a segment: a JSON array of [`SegmentFlag`]s.
pub(crate) fn encode_flags(flags: &[SegmentFlag]) -> String {
    serde_json::to_string(flags).unwrap_or_else(|_| "[]".to_string())
}

/// The flags of a `flags` column. An entry this version does not know (written by a newer one)
/// is left out rather than making the segment unreadable; a column that is not a JSON array is
/// corrupt.
fn decode_flags(column: &str) -> Result<Vec<SegmentFlag>, StoreError> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_str(column).map_err(|_| corrupt("flags", column))?;
    Ok(entries.into_iter().filter_map(|e| serde_json::from_value(e).ok()).collect())
}

/// Every status with its count, zero for those absent from `rows`.
pub(crate) fn status_counts(rows: Vec<StatusCountRow>) -> Result<StatusCounts, StoreError> {
    let mut counts: Vec<(JobStatus, u64)> = JobStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        let status = status(&row.status)?;
        if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
            slot.1 = unsigned("n", row.n)?;
        }
    }
    Ok(StatusCounts { counts })
}

// ---- Values on their way in.

/// Converts a u64 to the i64 the databases store, refusing values that do not fit.
pub(crate) fn to_i64(what: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{what} {value} is too large")))
}

/// Checks a new job before it is written.
pub(crate) fn check_new_job(job: &NewJob) -> Result<(), StoreError> {
    if job.files.is_empty() {
        return Err(StoreError::Invalid("a job needs at least one file".into()));
    }
    if u32::try_from(job.files.len()).is_err() {
        return Err(StoreError::Invalid("too many files".into()));
    }
    for f in &job.files {
        to_i64("file size", f.size)?;
    }
    Ok(())
}

/// Page size bounds for `list_jobs`.
pub(crate) fn check_limit(limit: u32) -> Result<i64, StoreError> {
    if (1..=1000).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(StoreError::Invalid(format!("page size {limit} is not between 1 and 1000")))
    }
}

/// The error recorded on a job given up after too many claims.
pub(crate) fn too_many_attempts(attempts: i64) -> ErrorInfo {
    ErrorInfo::new(
        "too_many_attempts",
        format!("the job was started {attempts} times without finishing; giving up"),
    )
}
