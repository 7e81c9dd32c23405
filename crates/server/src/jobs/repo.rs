//! Job storage as the service uses it: one facade over the store crate's [`Store`] (jobs, lease
//! queue, saved segments) and [`BlobStore`] (files), so handlers and the runner never see SQL or
//! file paths, and the store's records become the API's [`JobView`] in one place.

use std::sync::Arc;

use tradia_core::{Content, KeptReason, SegmentResult};
use tradia_store::{
    BlobKey, BlobStore, ErrorInfo, FsBlobStore, Job, JobId, Store, StoreError, StoredSegment,
};

use crate::error::ErrorDetail;
use crate::jobs::model::{FileView, JobStatus, JobView, Progress};

pub use tradia_store::{ClaimOptions, Claimed, FileExtracted, Lease, RenewOutcome};

/// Storage errors (database or files), for logs.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blob folder refused or failed.
    #[error(transparent)]
    Blob(#[from] tradia_store::BlobError),
    /// A stored segment could not be read back.
    #[error("stored segment {segment} of file {file} is unreadable: {message}")]
    Segment {
        /// File index.
        file: u32,
        /// Segment id.
        segment: u32,
        /// Parse error.
        message: String,
    },
}

impl RepoError {
    /// True when the worker's lease is gone (cancelled, deleted or taken over).
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, RepoError::Store(StoreError::LeaseLost(_)))
    }
}

/// Jobs, segments and files.
#[derive(Clone)]
pub struct JobRepo {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The files.
    pub blobs: Arc<dyn BlobStore>,
}

fn ts(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn detail(e: &ErrorInfo) -> ErrorDetail {
    ErrorDetail { code: e.code.clone(), message: e.message.clone() }
}

/// The API view of a stored job.
pub fn job_view(job: &Job) -> JobView {
    let files = job
        .files
        .iter()
        .map(|f| FileView {
            index: f.index,
            name: f.name.clone(),
            size_bytes: f.size,
            format: f.format.clone(),
            progress: Progress { done: f.progress.done, total: f.progress.total },
            done: f.output_blob.is_some(),
            error: f.error.as_ref().map(detail),
            kept: f.kept,
            detected_source_lang: f.detected_source_lang.as_ref().map(|l| l.to_string()),
            kept_segments: None,
        })
        .collect();
    let progress = job.progress();
    let status = match job.status {
        tradia_store::JobStatus::Queued => JobStatus::Queued,
        tradia_store::JobStatus::Running => JobStatus::Running,
        tradia_store::JobStatus::Done => JobStatus::Done,
        tradia_store::JobStatus::Failed => JobStatus::Failed,
        tradia_store::JobStatus::Cancelled => JobStatus::Cancelled,
    };
    let detected = job.source_lang.is_none();
    JobView {
        id: job.id.to_string(),
        status,
        source_lang: job
            .source_lang
            .as_ref()
            .or_else(|| job.detected_source_lang())
            .map(|l| l.to_string()),
        source_detected: detected,
        target_lang: job.target_lang.to_string(),
        model: job.model.clone(),
        progress: Progress { done: progress.done, total: progress.total },
        files,
        kept_segments: job.kept(),
        error: job.error.as_ref().map(detail),
        created_at: ts(job.created_at),
        started_at: job.started_at.map(ts),
        finished_at: job.finished_at.map(ts),
        updated_at: ts(job.updated_at),
    }
}

/// Parses a job id from a URL; `None` for anything that is not one (answered as not found).
pub fn parse_id(id: &str) -> Option<JobId> {
    id.parse().ok()
}

/// A stored segment back as a result.
pub fn segment_result(s: &StoredSegment) -> Result<SegmentResult, RepoError> {
    let content = Content::parse(&s.content).map_err(|e| RepoError::Segment {
        file: s.file_index,
        segment: s.segment_id,
        message: e.to_string(),
    })?;
    let kept = s.kept_code.as_ref().map(|code| KeptReason {
        code: code.clone(),
        message: s.kept_message.clone().unwrap_or_default(),
    });
    Ok(SegmentResult { id: s.segment_id, content, kept })
}

/// A result as a stored segment.
pub fn stored_segment(file_index: u32, r: &SegmentResult) -> StoredSegment {
    StoredSegment {
        file_index,
        segment_id: r.id,
        content: r.content.render(),
        kept_code: r.kept.as_ref().map(|k| k.code.clone()),
        kept_message: r.kept.as_ref().map(|k| k.message.clone()),
    }
}

impl JobRepo {
    /// Opens the database at `url` (applying migrations) and the blob folder `data_dir/files`.
    pub async fn open(url: &str, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let store = tradia_store::connect(url).await?;
        let blobs = FsBlobStore::open(data_dir.join("files")).await?;
        Ok(JobRepo { store, blobs: Arc::new(blobs) })
    }

    /// Ok when the database answers.
    pub async fn ping(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    /// One job; `None` when unknown (or not a job id).
    pub async fn get_job(&self, id: &str) -> Result<Option<JobView>, RepoError> {
        let Some(id) = parse_id(id) else { return Ok(None) };
        match self.store.get_job(id).await {
            Ok(job) => Ok(Some(job_view(&job))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Cancels a job; `None` when unknown.
    pub async fn cancel_job(&self, id: &str) -> Result<Option<JobView>, RepoError> {
        let Some(id) = parse_id(id) else { return Ok(None) };
        match self.store.cancel_job(id).await {
            Ok(job) => Ok(Some(job_view(&job))),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a job and its files; false when unknown.
    pub async fn delete_job(&self, id: &str) -> Result<bool, RepoError> {
        let Some(id) = parse_id(id) else { return Ok(false) };
        match self.store.delete_job(id).await {
            Ok(keys) => {
                self.delete_blobs(&keys).await;
                Ok(true)
            }
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes blobs, logging (not failing on) errors: a leftover file is purged later.
    pub async fn delete_blobs(&self, keys: &[BlobKey]) {
        for key in keys {
            if let Err(e) = self.blobs.delete(key).await {
                tracing::warn!(blob.key = %key, error = %e, "cannot delete a file");
            }
        }
    }

    /// The saved segments of one file, as results.
    pub async fn saved_results(
        &self,
        job: JobId,
        index: u32,
    ) -> Result<Vec<SegmentResult>, RepoError> {
        let saved = self.store.saved_segments(job, index).await?;
        saved.iter().map(segment_result).collect()
    }

    /// Fills each file's `kept_segments` (the reasons) for files that kept any.
    pub async fn add_kept_details(&self, job: &mut JobView) -> Result<(), RepoError> {
        let Some(id) = parse_id(&job.id) else { return Ok(()) };
        for file in job.files.iter_mut().filter(|f| f.kept > 0) {
            let saved = self.store.saved_segments(id, file.index).await?;
            let kept = saved
                .iter()
                .filter_map(|s| {
                    s.kept_code.as_ref().map(|code| crate::jobs::model::KeptSegment {
                        segment: s.segment_id,
                        code: code.clone(),
                        message: s.kept_message.clone().unwrap_or_default(),
                    })
                })
                .collect();
            file.kept_segments = Some(kept);
        }
        Ok(())
    }

    /// A blob's bytes.
    pub async fn read_blob(&self, key: &BlobKey) -> Result<Vec<u8>, RepoError> {
        Ok(self.blobs.read(key).await?)
    }

    /// The output of file `index` of job `id`, with its name; `None` if not produced.
    pub async fn read_output(&self, id: &str, index: u32) -> Result<Option<Vec<u8>>, RepoError> {
        let Some(jid) = parse_id(id) else { return Ok(None) };
        let job = match self.store.get_job(jid).await {
            Ok(job) => job,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(key) =
            job.files.iter().find(|f| f.index == index).and_then(|f| f.output_blob.clone())
        else {
            return Ok(None);
        };
        Ok(Some(self.blobs.read(&key).await?))
    }
}
