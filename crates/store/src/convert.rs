//! Conversions from stored columns to the model, shared by both backends.
//!
//! Both backends read their rows into these plain structs first (with their own column types),
//! so the checks on stored text (status names, language tags, blob keys) are written once and a
//! bad value becomes [`StoreError::Corrupt`] naming the column, never a panic.

use time::OffsetDateTime;
use tradia_core::LanguageTag;

use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::model::{ErrorInfo, Job, JobFile, JobId, JobStatus, Progress, StoredSegment};

/// A `jobs` row, decoded.
pub(crate) struct JobRow {
    pub id: JobId,
    pub status: String,
    pub source_lang: Option<String>,
    pub target_lang: String,
    pub model: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
}

/// A `job_files` row with its segment counts, decoded.
pub(crate) struct FileRow {
    pub file_index: i64,
    pub name: String,
    pub format: Option<String>,
    pub input_blob: String,
    pub size: i64,
    pub extracted: bool,
    pub total: i64,
    pub detected_lang: Option<String>,
    pub output_blob: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub done: i64,
    pub kept: i64,
}

/// A `job_segments` row, decoded.
pub(crate) struct SegmentRow {
    pub file_index: i64,
    pub segment_id: i64,
    pub content: String,
    pub kept_code: Option<String>,
    pub kept_message: Option<String>,
}

fn corrupt(column: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("column {column} holds `{value}`"))
}

pub(crate) fn status(value: &str) -> Result<JobStatus, StoreError> {
    JobStatus::parse(value).ok_or_else(|| corrupt("status", value))
}

pub(crate) fn lang(column: &str, value: &str) -> Result<LanguageTag, StoreError> {
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

fn error_info(code: Option<String>, message: Option<String>) -> Option<ErrorInfo> {
    code.map(|code| ErrorInfo { code, message: message.unwrap_or_default() })
}

/// Converts a u64 to the i64 the databases store, refusing values that do not fit.
pub(crate) fn to_i64(what: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{what} {value} is too large")))
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
            output_blob: self.output_blob.map(|b| blob("output_blob", &b)).transpose()?,
            error: error_info(self.error_code, self.error_message),
        })
    }
}

impl JobRow {
    pub(crate) fn into_job(self, files: Vec<FileRow>) -> Result<Job, StoreError> {
        Ok(Job {
            id: self.id,
            status: status(&self.status)?,
            source_lang: opt_lang("source_lang", self.source_lang)?,
            target_lang: lang("target_lang", &self.target_lang)?,
            model: self.model,
            files: files.into_iter().map(FileRow::into_file).collect::<Result<_, _>>()?,
            error: error_info(self.error_code, self.error_message),
            attempts: unsigned("attempts", self.attempts)?,
            lease_owner: self.lease_owner,
            lease_expires_at: self.lease_expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
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
        })
    }
}

/// Checks a new job before it is written.
pub(crate) fn check_new_job(job: &crate::model::NewJob) -> Result<(), StoreError> {
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
