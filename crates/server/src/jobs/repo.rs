//! Job storage as the service uses it: one facade over the store crate, so handlers and the
//! runner never see SQL or blob paths.
//!
//! TEMPORARY in-memory implementation until the store crate's API lands; replaced by the
//! SQLite/PostgreSQL store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use time::OffsetDateTime;
use tradia_core::SegmentResult;

use crate::error::ErrorDetail;
use crate::jobs::model::{FileView, JobStatus, JobView, KeptSegment, Progress};
use crate::jobs::upload::NewJob;

/// A job claimed by a worker: what it needs to run it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// Job id.
    pub id: String,
    /// Source language (given or already detected).
    pub source_lang: Option<String>,
    /// Target language.
    pub target_lang: String,
    /// Model.
    pub model: Option<String>,
    /// Files in order.
    pub files: Vec<ClaimedFile>,
}

/// One file of a claimed job.
#[derive(Debug, Clone)]
pub struct ClaimedFile {
    /// Position.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Output already stored.
    pub done: bool,
    /// Error recorded earlier (code, message).
    pub error: Option<(String, String)>,
}

/// What a lease renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Still ours.
    Held,
    /// Still ours, and the user asked to cancel.
    CancelRequested,
    /// Taken over or gone.
    Lost,
}

#[derive(Debug, Clone)]
struct MemFile {
    name: String,
    size: u64,
    format: Option<String>,
    total: u64,
    segments: HashMap<u32, SegmentResult>,
    output: Option<PathBuf>,
    input: PathBuf,
    error: Option<(String, String)>,
}

#[derive(Debug, Clone)]
struct MemJob {
    id: String,
    status: JobStatus,
    source: Option<String>,
    detected: bool,
    target: String,
    model: Option<String>,
    files: Vec<MemFile>,
    error: Option<(String, String)>,
    created: OffsetDateTime,
    started: Option<OffsetDateTime>,
    finished: Option<OffsetDateTime>,
    updated: OffsetDateTime,
    lease_owner: Option<String>,
    lease_expires: Option<OffsetDateTime>,
    cancel_requested: bool,
}

/// Access to jobs, segments and files.
pub struct JobRepo {
    dir: PathBuf,
    jobs: Mutex<Vec<MemJob>>,
}

fn ts(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn view(job: &MemJob) -> JobView {
    let files: Vec<FileView> = job
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut kept: Vec<KeptSegment> = f
                .segments
                .values()
                .filter_map(|r| {
                    r.kept.as_ref().map(|k| KeptSegment {
                        segment: r.id,
                        code: k.code.clone(),
                        message: k.message.clone(),
                    })
                })
                .collect();
            kept.sort_by_key(|k| k.segment);
            FileView {
                index: i as u32,
                name: f.name.clone(),
                size_bytes: f.size,
                format: f.format.clone(),
                progress: Progress { done: f.segments.len() as u64, total: f.total },
                done: f.output.is_some(),
                error: f
                    .error
                    .as_ref()
                    .map(|(c, m)| ErrorDetail { code: c.clone(), message: m.clone() }),
                kept,
            }
        })
        .collect();
    let progress = Progress {
        done: files.iter().map(|f| f.progress.done).sum(),
        total: files.iter().map(|f| f.progress.total).sum(),
    };
    JobView {
        id: job.id.clone(),
        status: job.status,
        source_lang: job.source.clone(),
        source_detected: job.detected,
        target_lang: job.target.clone(),
        model: job.model.clone(),
        progress,
        kept_segments: files.iter().map(|f| f.kept.len() as u64).sum(),
        files,
        error: job.error.as_ref().map(|(c, m)| ErrorDetail { code: c.clone(), message: m.clone() }),
        created_at: ts(job.created),
        started_at: job.started.map(ts),
        finished_at: job.finished.map(ts),
        updated_at: ts(job.updated),
    }
}

impl JobRepo {
    /// Opens the store at `url`, files under `data_dir`.
    pub async fn open(_url: &str, data_dir: &Path) -> anyhow::Result<Self> {
        let dir = data_dir.join("files");
        std::fs::create_dir_all(&dir)?;
        Ok(JobRepo { dir, jobs: Mutex::new(Vec::new()) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Vec<MemJob>) -> T) -> anyhow::Result<T> {
        let mut guard = self.jobs.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(f(&mut guard))
    }

    fn with_job<T>(&self, id: &str, f: impl FnOnce(&mut MemJob) -> T) -> anyhow::Result<T> {
        self.with(|jobs| jobs.iter_mut().find(|j| j.id == id).map(f))?
            .with_context(|| format!("job {id} not found"))
    }

    /// Ok when the database answers.
    pub async fn ping(&self) -> Result<(), String> {
        Ok(())
    }

    /// Stores a checked upload as a queued job.
    pub async fn create_job(&self, new: NewJob) -> anyhow::Result<JobView> {
        let id = uuid::Uuid::now_v7().to_string();
        let now = OffsetDateTime::now_utc();
        let mut files = Vec::new();
        for (i, f) in new.files.into_iter().enumerate() {
            let input = self.dir.join(format!("{id}-{i}.in"));
            f.temp.persist(&input)?;
            files.push(MemFile {
                name: f.name,
                size: f.size,
                format: Some(f.format),
                total: 0,
                segments: HashMap::new(),
                output: None,
                input,
                error: None,
            });
        }
        let job = MemJob {
            id,
            status: JobStatus::Queued,
            source: new.source.map(|s| s.to_string()),
            detected: false,
            target: new.target.to_string(),
            model: new.model,
            files,
            error: None,
            created: now,
            started: None,
            finished: None,
            updated: now,
            lease_owner: None,
            lease_expires: None,
            cancel_requested: false,
        };
        let v = view(&job);
        self.with(|jobs| jobs.push(job))?;
        Ok(v)
    }

    /// Jobs, newest first.
    pub async fn list_jobs(&self, limit: u64, offset: u64) -> anyhow::Result<Vec<JobView>> {
        self.with(|jobs| {
            jobs.iter().rev().skip(offset as usize).take(limit as usize).map(view).collect()
        })
    }

    /// One job.
    pub async fn get_job(&self, id: &str) -> anyhow::Result<Option<JobView>> {
        self.with(|jobs| jobs.iter().find(|j| j.id == id).map(view))
    }

    /// Cancels a queued job, flags a running one; `None` when unknown.
    pub async fn request_cancel(&self, id: &str) -> anyhow::Result<Option<JobView>> {
        self.with(|jobs| {
            jobs.iter_mut().find(|j| j.id == id).map(|j| {
                match j.status {
                    JobStatus::Queued => {
                        j.status = JobStatus::Cancelled;
                        j.finished = Some(OffsetDateTime::now_utc());
                    }
                    JobStatus::Running => j.cancel_requested = true,
                    _ => {}
                }
                j.updated = OffsetDateTime::now_utc();
                view(j)
            })
        })
    }

    /// Deletes a job and its files; false when unknown.
    pub async fn delete_job(&self, id: &str) -> anyhow::Result<bool> {
        let removed = self.with(|jobs| {
            let pos = jobs.iter().position(|j| j.id == id)?;
            Some(jobs.remove(pos))
        })?;
        match removed {
            Some(job) => {
                for f in job.files {
                    let _ = std::fs::remove_file(&f.input);
                    if let Some(o) = f.output {
                        let _ = std::fs::remove_file(o);
                    }
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Claims the oldest queued job (or one whose lease expired).
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
    ) -> anyhow::Result<Option<ClaimedJob>> {
        let now = OffsetDateTime::now_utc();
        self.with(|jobs| {
            let job = jobs.iter_mut().find(|j| {
                j.status == JobStatus::Queued
                    || (j.status == JobStatus::Running && j.lease_expires.is_some_and(|e| e < now))
            })?;
            job.status = JobStatus::Running;
            job.lease_owner = Some(worker.to_string());
            job.lease_expires = Some(now + lease);
            job.started.get_or_insert(now);
            job.updated = now;
            Some(ClaimedJob {
                id: job.id.clone(),
                source_lang: job.source.clone(),
                target_lang: job.target.clone(),
                model: job.model.clone(),
                files: job
                    .files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| ClaimedFile {
                        index: i as u32,
                        name: f.name.clone(),
                        done: f.output.is_some(),
                        error: f.error.clone(),
                    })
                    .collect(),
            })
        })
    }

    /// Extends the lease.
    pub async fn renew_lease(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
    ) -> anyhow::Result<LeaseState> {
        self.with(|jobs| match jobs.iter_mut().find(|j| j.id == id) {
            Some(j)
                if j.lease_owner.as_deref() == Some(worker) && j.status == JobStatus::Running =>
            {
                j.lease_expires = Some(OffsetDateTime::now_utc() + lease);
                if j.cancel_requested { LeaseState::CancelRequested } else { LeaseState::Held }
            }
            _ => LeaseState::Lost,
        })
    }

    /// Puts a running job back in the queue.
    pub async fn release_job(&self, id: &str, worker: &str) -> anyhow::Result<()> {
        self.with_job(id, |j| {
            if j.lease_owner.as_deref() == Some(worker) {
                j.status = JobStatus::Queued;
                j.lease_owner = None;
                j.lease_expires = None;
            }
        })
    }

    /// Records a job's final state.
    pub async fn finish_job(
        &self,
        id: &str,
        worker: &str,
        status: &str,
        error: Option<(&str, String)>,
    ) -> anyhow::Result<()> {
        let status = match status {
            "done" => JobStatus::Done,
            "cancelled" => JobStatus::Cancelled,
            _ => JobStatus::Failed,
        };
        self.with_job(id, |j| {
            if j.lease_owner.as_deref() == Some(worker) {
                j.status = status;
                j.error = error.map(|(c, m)| (c.to_string(), m));
                j.finished = Some(OffsetDateTime::now_utc());
                j.updated = OffsetDateTime::now_utc();
                j.lease_owner = None;
            }
        })
    }

    /// The uploaded bytes of a file.
    pub async fn read_input(&self, id: &str, index: u32) -> anyhow::Result<Vec<u8>> {
        let path = self.with_job(id, |j| j.files.get(index as usize).map(|f| f.input.clone()))?;
        Ok(tokio::fs::read(path.context("no such file")?).await?)
    }

    /// Records a file's segment count and format.
    pub async fn set_file_total(
        &self,
        id: &str,
        _worker: &str,
        index: u32,
        total: u64,
        format: &str,
    ) -> anyhow::Result<()> {
        self.with_job(id, |j| {
            if let Some(f) = j.files.get_mut(index as usize) {
                f.total = total;
                f.format = Some(format.to_string());
            }
        })
    }

    /// Records the detected source language.
    pub async fn set_detected_source(
        &self,
        id: &str,
        _worker: &str,
        lang: &str,
    ) -> anyhow::Result<()> {
        self.with_job(id, |j| {
            j.source = Some(lang.to_string());
            j.detected = true;
        })
    }

    /// Segment results saved so far for a file.
    pub async fn saved_segments(&self, id: &str, index: u32) -> anyhow::Result<Vec<SegmentResult>> {
        self.with_job(id, |j| {
            j.files
                .get(index as usize)
                .map(|f| f.segments.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Saves one finished segment.
    pub async fn save_segment(
        &self,
        id: &str,
        _worker: &str,
        index: u32,
        result: &SegmentResult,
    ) -> anyhow::Result<()> {
        self.with_job(id, |j| {
            if let Some(f) = j.files.get_mut(index as usize) {
                f.segments.insert(result.id, result.clone());
            }
            j.updated = OffsetDateTime::now_utc();
        })
    }

    /// Stores a file's translation.
    pub async fn store_output(
        &self,
        id: &str,
        _worker: &str,
        index: u32,
        bytes: Vec<u8>,
    ) -> anyhow::Result<()> {
        let path = self.dir.join(format!("{id}-{index}.out"));
        tokio::fs::write(&path, bytes).await?;
        self.with_job(id, |j| {
            if let Some(f) = j.files.get_mut(index as usize) {
                f.output = Some(path);
            }
        })
    }

    /// A file's translation.
    pub async fn read_output(&self, id: &str, index: u32) -> anyhow::Result<Vec<u8>> {
        let path =
            self.with_job(id, |j| j.files.get(index as usize).and_then(|f| f.output.clone()))?;
        Ok(tokio::fs::read(path.context("no output")?).await?)
    }

    /// Records why a file could not be translated.
    pub async fn set_file_error(
        &self,
        id: &str,
        _worker: &str,
        index: u32,
        code: &str,
        message: &str,
    ) -> anyhow::Result<()> {
        self.with_job(id, |j| {
            if let Some(f) = j.files.get_mut(index as usize) {
                f.error = Some((code.to_string(), message.to_string()));
            }
        })
    }

    /// Deletes jobs (and files) created before `cutoff`.
    pub async fn purge_expired(&self, cutoff: OffsetDateTime) -> anyhow::Result<u64> {
        let ids: Vec<String> = self.with(|jobs| {
            jobs.iter()
                .filter(|j| j.created < cutoff && j.status.is_terminal())
                .map(|j| j.id.clone())
                .collect()
        })?;
        for id in &ids {
            self.delete_job(id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Job counts by status name.
    pub async fn count_by_status(&self) -> anyhow::Result<Vec<(String, u64)>> {
        self.with(|jobs| {
            let mut counts: HashMap<&'static str, u64> = HashMap::new();
            for s in ["queued", "running", "done", "failed", "cancelled"] {
                counts.insert(s, 0);
            }
            for j in jobs.iter() {
                *counts.entry(j.status.as_str()).or_default() += 1;
            }
            counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        })
    }
}
