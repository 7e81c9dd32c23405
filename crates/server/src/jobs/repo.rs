//! Job storage as the service uses it: one facade over the store crate's [`Store`] (jobs, lease
//! queue, saved segments) and [`BlobStore`] (files), so handlers and the runner never see SQL or
//! file paths, and each operation that touches both (a job and its files) is done in one place:
//! creating a job removes its uploads if the row cannot be written, deleting or purging jobs
//! removes their files, storing an output removes the file again if the row refuses it.
//!
//! The fields are private: what the service does with jobs is the list of methods below.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncRead;
use tradia_core::{Content, KeptReason, SegmentResult};
use tradia_store::{
    BlobError, BlobKey, BlobStore, Caller, ErrorInfo, FsBlobStore, Job, JobId, NewJob,
    StatusCounts, Store, StoreError, StoredBlob, StoredSegment,
};

use crate::error::ErrorCode;
use crate::jobs::model::{JobList, JobView, KeptSegment, job_view};

pub use tradia_store::{ClaimOptions, Claimed, FileExtracted, Lease, RenewOutcome};

/// A blob as a file on this machine (see [`JobRepo::blob_file`]).
#[derive(Debug)]
pub enum BlobFile {
    /// The blob's own file.
    Local(std::path::PathBuf),
    /// A temporary copy, deleted on drop.
    Spooled(tempfile::TempPath),
}

impl BlobFile {
    /// Where the file is.
    pub fn path(&self) -> &std::path::Path {
        match self {
            BlobFile::Local(path) => path,
            BlobFile::Spooled(path) => path,
        }
    }
}

/// Storage errors (database or files), for logs.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blob folder refused or failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
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

impl From<&RepoError> for ErrorCode {
    fn from(error: &RepoError) -> Self {
        match error {
            RepoError::Store(e) => e.into(),
            RepoError::Blob(e) => e.into(),
            RepoError::Segment { .. } => ErrorCode::StorageError,
        }
    }
}

/// A translated file read back for download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its index in the job.
    pub index: u32,
    /// Its name (the uploaded file's).
    pub name: String,
    /// Its format's name (`docx`, `scenari`…), when known.
    pub format: Option<String>,
    /// The translated document.
    pub bytes: Vec<u8>,
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeCount {
    /// Jobs deleted.
    pub jobs: usize,
    /// Files deleted with them.
    pub files: usize,
}

/// Jobs, segments and files.
#[derive(Clone)]
pub struct JobRepo {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    /// A `done` job with more of its segments kept as source than this (percent) is shown with
    /// a `mostly_kept` warning (`TRADIA_MAX_KEPT_PERCENT`).
    max_kept_percent: u8,
}

/// `Ok(None)` for a job that does not exist.
fn found<T>(result: Result<T, StoreError>) -> Result<Option<T>, RepoError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
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
    Ok(SegmentResult { id: s.segment_id, content, kept, flags: s.flags.clone() })
}

/// A result as a stored segment.
pub fn stored_segment(file_index: u32, r: &SegmentResult) -> StoredSegment {
    StoredSegment {
        file_index,
        segment_id: r.id,
        content: r.content.render(),
        kept_code: r.kept.as_ref().map(|k| k.code.clone()),
        kept_message: r.kept.as_ref().map(|k| k.message.clone()),
        flags: r.flags.clone(),
    }
}

impl JobRepo {
    /// The store itself, for the accounts (users, sessions, keys, audit, usage).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A repository over an open store and blob store.
    pub fn new(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> Self {
        JobRepo { store, blobs, max_kept_percent: tradia_core::DEFAULT_MAX_KEPT_PERCENT }
    }

    /// The same repository, warning about `done` jobs that kept more than `percent` percent of
    /// their segments as source.
    pub fn with_max_kept_percent(self, percent: u8) -> Self {
        JobRepo { max_kept_percent: percent, ..self }
    }

    /// A stored job as the API shows it.
    pub fn view(&self, job: &Job) -> JobView {
        job_view(job, self.max_kept_percent)
    }

    /// Opens the database at `url` (applying migrations) and the blob folder `data_dir/files`.
    pub async fn open(url: &str, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let store = tradia_store::connect(url).await?;
        let blobs = FsBlobStore::open(data_dir.join("files")).await?;
        Ok(JobRepo::new(store, Arc::new(blobs)))
    }

    /// Ok when the database answers.
    pub async fn ping(&self) -> Result<(), String> {
        self.store.ping().await.map_err(|e| e.to_string())
    }

    /// Ok when a write works now, in the database and in the blob folder (the health probe).
    pub async fn check_writable(&self) -> Result<(), RepoError> {
        self.store.check_writable().await?;
        self.blobs.check_writable().await?;
        Ok(())
    }

    // --- The API's side: uploads and job records ---

    /// Streams one uploaded file into blob storage, refusing more than `limit` bytes.
    pub async fn put_upload(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> Result<StoredBlob, BlobError> {
        self.blobs.put(reader, limit).await
    }

    /// Creates a job whose files are already stored; when the row cannot be written, the files
    /// are deleted before the error is returned.
    pub async fn create_job(&self, job: NewJob) -> Result<Job, RepoError> {
        let keys: Vec<BlobKey> = job.files.iter().map(|f| f.input_blob.clone()).collect();
        match self.store.create_job(job).await {
            Ok(job) => Ok(job),
            Err(e) => {
                self.delete_blobs(&keys).await;
                Err(e.into())
            }
        }
    }

    /// Creates a job owned by `caller` (see [`JobRepo::create_job`]).
    pub async fn create_job_for(&self, caller: &Caller, job: NewJob) -> Result<Job, RepoError> {
        let keys: Vec<BlobKey> = job.files.iter().map(|f| f.input_blob.clone()).collect();
        match self.store.create_job_for(caller, job).await {
            Ok(job) => Ok(job),
            Err(e) => {
                self.delete_blobs(&keys).await;
                Err(e.into())
            }
        }
    }

    /// A job `caller` may see (their own; any for an administrator); `None` otherwise.
    pub async fn find_job_for(&self, caller: &Caller, id: JobId) -> Result<Option<Job>, RepoError> {
        found(self.store.get_job_for(caller, id).await)
    }

    /// A page of the jobs `caller` may see, newest first.
    pub async fn list_jobs_for(
        &self,
        caller: &Caller,
        limit: u32,
        before: Option<JobId>,
    ) -> Result<JobList, RepoError> {
        let page = self.store.list_jobs_for(caller, limit, before).await?;
        Ok(JobList {
            jobs: page.jobs.iter().map(|j| self.view(j)).collect(),
            next: page.next.map(|id| id.to_string()),
        })
    }

    /// Cancels a job `caller` may see; `None` otherwise.
    pub async fn cancel_job_for(
        &self,
        caller: &Caller,
        id: JobId,
    ) -> Result<Option<JobView>, RepoError> {
        Ok(found(self.store.cancel_job_for(caller, id).await)?.as_ref().map(|j| self.view(j)))
    }

    /// Deletes a job `caller` may see, and its files, and the memory entries it recorded
    /// unless `keep_memory` (`None`: as the job was created); false otherwise.
    pub async fn delete_job_for(
        &self,
        caller: &Caller,
        id: JobId,
        keep_memory: Option<bool>,
    ) -> Result<bool, RepoError> {
        let deleted = self.store.delete_job_with_memory_for(caller, id, keep_memory).await;
        let Some(keys) = found(deleted)? else {
            return Ok(false);
        };
        self.delete_blobs(&keys).await;
        Ok(true)
    }

    /// The stored record of a job; `None` when unknown.
    pub async fn find_job(&self, id: JobId) -> Result<Option<Job>, RepoError> {
        found(self.store.get_job(id).await)
    }

    /// One job as the API shows it; `None` when unknown.
    pub async fn get_job(&self, id: JobId) -> Result<Option<JobView>, RepoError> {
        Ok(self.find_job(id).await?.as_ref().map(|j| self.view(j)))
    }

    /// Fills the job's `options` (memory, glossary, style, brief) from the store.
    pub async fn add_options(&self, job: &mut JobView) -> Result<(), RepoError> {
        let memory = self.store.job_memory(job.id).await?;
        let guidance = self.store.job_guidance(job.id).await?;
        job.options = Some(crate::jobs::model::JobOptions::new(memory, guidance));
        Ok(())
    }

    /// Fills each file's `kept_segments` (the reasons) for files that kept any.
    pub async fn add_kept_details(&self, job: &mut JobView) -> Result<(), RepoError> {
        for file in job.files.iter_mut().filter(|f| f.kept > 0) {
            let saved = self.store.saved_segments(job.id, file.index).await?;
            let kept = saved
                .iter()
                .filter_map(|s| {
                    s.kept_code.as_ref().map(|code| KeptSegment {
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

    /// The translated files of `job` (a record just read, so no query is repeated), in upload
    /// order; files without a translation are left out.
    pub async fn read_outputs(&self, job: &Job) -> Result<Vec<Output>, RepoError> {
        let mut outputs = Vec::new();
        for file in &job.files {
            let Some(key) = &file.output_blob else { continue };
            let bytes = self.blobs.read(key).await?;
            outputs.push(Output {
                index: file.index,
                name: file.name.clone(),
                format: file.format.clone(),
                bytes,
            });
        }
        Ok(outputs)
    }

    /// A blob as a file, for readers that stream from a file (archives): the blob's own file
    /// when blobs are local files, else a temporary copy, streamed there (deleted when the
    /// returned value is dropped).
    pub async fn blob_file(&self, key: &BlobKey) -> Result<BlobFile, RepoError> {
        if let Some(path) = self.blobs.local_path(key) {
            if tokio::fs::try_exists(&path).await.map_err(BlobError::Io)? {
                return Ok(BlobFile::Local(path));
            }
            return Err(BlobError::NotFound(key.clone()).into());
        }
        let mut blob = self.blobs.open(key).await?;
        let spooled = tempfile::Builder::new()
            .prefix(&format!("tradia-{}-", std::process::id()))
            .tempfile()
            .map_err(BlobError::Io)?;
        let (file, path) = spooled.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        tokio::io::copy(&mut blob.reader, &mut file).await.map_err(BlobError::Io)?;
        tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(BlobError::Io)?;
        Ok(BlobFile::Spooled(path))
    }

    /// Deletes blobs, logging (not failing on) errors: a leftover file is purged later.
    pub async fn delete_blobs(&self, keys: &[BlobKey]) {
        for key in keys {
            if let Err(e) = self.blobs.delete(key).await {
                tracing::warn!(blob.key = %key, error = %e, "cannot delete a file");
            }
        }
    }

    /// Jobs per status (for the gauges).
    pub async fn count_by_status(&self) -> Result<StatusCounts, RepoError> {
        Ok(self.store.count_by_status().await?)
    }

    /// Deletes the jobs finished (or created) longer than `retention` ago, and their files.
    pub async fn purge_expired(&self, retention: Duration) -> Result<PurgeCount, RepoError> {
        let purged = self.store.purge_expired(retention).await?;
        self.delete_blobs(&purged.blobs).await;
        Ok(PurgeCount { jobs: purged.jobs.len(), files: purged.blobs.len() })
    }

    // --- The runner's side: the lease queue and a job's progress ---

    /// Claims the next queued job (or one whose lease expired).
    pub async fn claim_next_job(
        &self,
        options: &ClaimOptions,
    ) -> Result<Option<Claimed>, RepoError> {
        Ok(self.store.claim_next_job(options).await?)
    }

    /// Renews a lease for `ttl`.
    pub async fn renew_lease(
        &self,
        lease: &Lease,
        ttl: Duration,
    ) -> Result<RenewOutcome, RepoError> {
        Ok(self.store.renew_lease(lease, ttl).await?)
    }

    /// Puts a running job back in the queue (shutdown).
    pub async fn requeue_job(&self, lease: &Lease) -> Result<(), RepoError> {
        Ok(self.store.requeue_job(lease).await?)
    }

    /// Marks a job done.
    pub async fn finish_job(&self, lease: &Lease) -> Result<(), RepoError> {
        self.store.finish_job(lease).await?;
        Ok(())
    }

    /// Marks a job failed with `error`.
    pub async fn fail_job(&self, lease: &Lease, error: ErrorInfo) -> Result<(), RepoError> {
        self.store.fail_job(lease, error).await?;
        Ok(())
    }

    /// Records what extraction found in file `index`.
    pub async fn set_file_extracted(
        &self,
        lease: &Lease,
        index: u32,
        extracted: FileExtracted,
    ) -> Result<(), RepoError> {
        Ok(self.store.set_file_extracted(lease, index, extracted).await?)
    }

    /// Records why file `index` cannot be translated.
    pub async fn set_file_failed(
        &self,
        lease: &Lease,
        index: u32,
        error: ErrorInfo,
    ) -> Result<(), RepoError> {
        Ok(self.store.set_file_failed(lease, index, error).await?)
    }

    /// Saves one finished segment of file `index`.
    pub async fn save_segment(
        &self,
        lease: &Lease,
        index: u32,
        result: &SegmentResult,
    ) -> Result<(), RepoError> {
        Ok(self.store.save_segment(lease, stored_segment(index, result)).await?)
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

    /// Stores the translation of file `index`, streamed into blob storage from the file at
    /// `path` (never read whole into memory); the blob is deleted again if the job refuses it
    /// (lease lost, job deleted).
    pub async fn store_output_file(
        &self,
        lease: &Lease,
        index: u32,
        path: &std::path::Path,
    ) -> Result<(), RepoError> {
        let mut file = tokio::fs::File::open(path).await.map_err(BlobError::Io)?;
        let stored = self.blobs.put(&mut file, u64::MAX).await?;
        self.record_output(lease, index, stored).await
    }

    async fn record_output(
        &self,
        lease: &Lease,
        index: u32,
        stored: StoredBlob,
    ) -> Result<(), RepoError> {
        if let Err(e) = self.store.set_file_output(lease, index, stored.key.clone()).await {
            self.delete_blobs(&[stored.key]).await;
            return Err(e.into());
        }
        Ok(())
    }
}
