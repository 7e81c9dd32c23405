//! The PostgreSQL backend, for several replicas sharing one database.
//!
//! Times come from the database clock (`now()`), so replicas agree on lease expiry whatever their
//! own clocks say. The claim selects its job with `FOR UPDATE SKIP LOCKED`: concurrent claimers
//! skip each other's candidate rows instead of waiting or taking the same one, and the transaction
//! ends right after the claim (no lock is held while the job runs). Fenced writes lock the job row
//! (`FOR NO KEY UPDATE`) while they check the lease, so a cancel or a takeover cannot slip between
//! the check and the write.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};
use time::OffsetDateTime;
use tradia_core::BoxFuture;
use uuid::Uuid;

use crate::blob::BlobKey;
use crate::convert::{
    FileRow, JobRow, SegmentRow, check_limit, check_new_job, to_i64, too_many_attempts,
};
use crate::error::StoreError;
use crate::model::{
    ClaimOptions, Claimed, ErrorInfo, FileExtracted, Job, JobId, JobPage, JobStatus, Lease, NewJob,
    RenewOutcome, StatusCounts, StoredSegment,
};
use crate::store::{Purged, Store, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A [`Store`] in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn job_row(row: &PgRow) -> Result<JobRow, StoreError> {
    Ok(JobRow {
        id: JobId(row.try_get::<Uuid, _>("id")?),
        status: row.try_get("status")?,
        source_lang: row.try_get("source_lang")?,
        target_lang: row.try_get("target_lang")?,
        model: row.try_get("model")?,
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        attempts: row.try_get("attempts")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row.try_get("lease_expires_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn file_row(row: &PgRow) -> Result<FileRow, StoreError> {
    Ok(FileRow {
        file_index: row.try_get("file_index")?,
        name: row.try_get("name")?,
        format: row.try_get("format")?,
        input_blob: row.try_get("input_blob")?,
        size: row.try_get("size")?,
        extracted: row.try_get("extracted")?,
        total: row.try_get("total")?,
        detected_lang: row.try_get("detected_lang")?,
        output_blob: row.try_get("output_blob")?,
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        done: row.try_get("done")?,
        kept: row.try_get("kept")?,
    })
}

fn segment_row(row: &PgRow) -> Result<SegmentRow, StoreError> {
    Ok(SegmentRow {
        file_index: row.try_get("file_index")?,
        segment_id: row.try_get("segment_id")?,
        content: row.try_get("content")?,
        kept_code: row.try_get("kept_code")?,
        kept_message: row.try_get("kept_message")?,
    })
}

const JOB_BY_ID: &str = "SELECT id, status, source_lang, target_lang, model, error_code, \
     error_message, attempts, lease_owner, lease_expires_at, created_at, updated_at, started_at, \
     finished_at FROM jobs WHERE id = $1";

const SELECT_FILES: &str = "SELECT f.file_index, f.name, f.format, f.input_blob, f.size, \
     f.extracted, f.total, f.detected_lang, f.output_blob, f.error_code, f.error_message, \
     (SELECT COUNT(*) FROM job_segments s \
        WHERE s.job_id = f.job_id AND s.file_index = f.file_index) AS done, \
     (SELECT COUNT(*) FROM job_segments s \
        WHERE s.job_id = f.job_id AND s.file_index = f.file_index \
          AND s.kept_code IS NOT NULL) AS kept \
     FROM job_files f WHERE f.job_id = $1 ORDER BY f.file_index";

async fn load_files(conn: &mut PgConnection, id: JobId) -> Result<Vec<FileRow>, StoreError> {
    let rows = sqlx::query(SELECT_FILES).bind(id.0).fetch_all(&mut *conn).await?;
    rows.iter().map(file_row).collect()
}

async fn load_job(conn: &mut PgConnection, id: JobId) -> Result<Job, StoreError> {
    let row = sqlx::query(JOB_BY_ID)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound(id))?;
    let job = job_row(&row)?;
    let files = load_files(conn, id).await?;
    job.into_job(files)
}

/// Begins a transaction, locks the job row and checks that `lease` still holds it.
async fn fenced(
    pool: &PgPool,
    lease: &Lease,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    let mut tx = pool.begin().await?;
    let held = sqlx::query(
        "SELECT 1 FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 \
         AND attempts = $3 FOR NO KEY UPDATE",
    )
    .bind(lease.job.0)
    .bind(&lease.worker)
    .bind(i64::from(lease.attempt))
    .fetch_optional(&mut *tx)
    .await?;
    if held.is_none() {
        return Err(StoreError::LeaseLost(lease.job));
    }
    Ok(tx)
}

fn file_missing(err: sqlx::Error, job: JobId, index: u32) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::FileNotFound { job, index }
        }
        _ => StoreError::Database(err),
    }
}

async fn touch(tx: &mut PgConnection, job: JobId) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET updated_at = now() WHERE id = $1")
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn insert_segment(
    tx: &mut PgConnection,
    job: JobId,
    segment: &StoredSegment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_segments \
           (job_id, file_index, segment_id, content, kept_code, kept_message) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (job_id, file_index, segment_id) DO UPDATE SET \
           content = excluded.content, kept_code = excluded.kept_code, \
           kept_message = excluded.kept_message",
    )
    .bind(job.0)
    .bind(i64::from(segment.file_index))
    .bind(i64::from(segment.segment_id))
    .bind(&segment.content)
    .bind(&segment.kept_code)
    .bind(&segment.kept_message)
    .execute(&mut *tx)
    .await
    .map_err(|e| file_missing(e, job, segment.file_index))?;
    Ok(())
}

impl PgStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and applies the migrations (under
    /// sqlx's advisory lock, so replicas starting together do not race).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with explicit options and applies the migrations.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    async fn claim(&self, options: &ClaimOptions) -> StoreResult<Option<Claimed>> {
        loop {
            let mut tx = self.pool.begin().await?;
            let candidate = sqlx::query(
                "SELECT id, attempts FROM jobs \
                 WHERE status = 'queued' OR (status = 'running' AND lease_expires_at <= now()) \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let Some(candidate) = candidate else {
                tx.commit().await?;
                return Ok(None);
            };
            let id = JobId(candidate.try_get::<Uuid, _>("id")?);
            let attempts: i64 = candidate.try_get("attempts")?;
            if attempts >= i64::from(options.max_attempts) {
                let error = too_many_attempts(attempts);
                sqlx::query(
                    "UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, \
                     lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), \
                     updated_at = now() WHERE id = $1",
                )
                .bind(id.0)
                .bind(&error.code)
                .bind(&error.message)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                tracing::warn!(job = %id, attempts, "job failed: too many attempts");
                continue;
            }
            sqlx::query(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $2, \
                 lease_expires_at = now() + make_interval(secs => $3), \
                 started_at = COALESCE(started_at, now()), updated_at = now() WHERE id = $1",
            )
            .bind(id.0)
            .bind(&options.worker)
            .bind(seconds(options.lease_ttl))
            .execute(&mut *tx)
            .await?;
            let job = load_job(&mut tx, id).await?;
            tx.commit().await?;
            let lease = Lease { job: id, worker: options.worker.clone(), attempt: job.attempts };
            return Ok(Some(Claimed { job, lease }));
        }
    }

    async fn end_job(
        &self,
        lease: &Lease,
        status: JobStatus,
        error: Option<ErrorInfo>,
    ) -> StoreResult<Job> {
        let mut tx = fenced(&self.pool, lease).await?;
        let (code, message) = error.map(|e| (e.code, e.message)).unzip();
        sqlx::query(
            "UPDATE jobs SET status = $2, error_code = $3, error_message = $4, \
             lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now() \
             WHERE id = $1",
        )
        .bind(lease.job.0)
        .bind(status.as_str())
        .bind(code)
        .bind(message)
        .execute(&mut *tx)
        .await?;
        let job = load_job(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn update_file(
        &self,
        lease: &Lease,
        index: u32,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
    ) -> StoreResult<()> {
        let mut tx = fenced(&self.pool, lease).await?;
        let updated = query.execute(&mut *tx).await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::FileNotFound { job: lease.job, index });
        }
        touch(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn ping(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            let probe = sqlx::query("SELECT 1").execute(&self.pool);
            match tokio::time::timeout(crate::store::PING_TIMEOUT, probe).await {
                Ok(result) => result.map(|_| ()).map_err(StoreError::from),
                Err(_) => Err(StoreError::Database(sqlx::Error::PoolTimedOut)),
            }
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
        })
    }

    fn create_job(&self, job: NewJob) -> BoxFuture<'_, StoreResult<Job>> {
        Box::pin(async move {
            check_new_job(&job)?;
            let id = JobId::new();
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO jobs (id, status, source_lang, target_lang, model) \
                 VALUES ($1, 'queued', $2, $3, $4)",
            )
            .bind(id.0)
            .bind(job.source_lang.as_ref().map(|l| l.as_str()))
            .bind(job.target_lang.as_str())
            .bind(&job.model)
            .execute(&mut *tx)
            .await?;
            for (index, file) in job.files.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO job_files (job_id, file_index, name, format, input_blob, size) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id.0)
                .bind(i64::try_from(index).unwrap_or(i64::MAX))
                .bind(&file.name)
                .bind(&file.format)
                .bind(file.input_blob.as_str())
                .bind(to_i64("file size", file.size)?)
                .execute(&mut *tx)
                .await?;
            }
            let created = load_job(&mut tx, id).await?;
            tx.commit().await?;
            Ok(created)
        })
    }

    fn get_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Job>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            load_job(&mut conn, id).await
        })
    }

    fn list_jobs(&self, limit: u32, before: Option<JobId>) -> BoxFuture<'_, StoreResult<JobPage>> {
        Box::pin(async move {
            let limit = check_limit(limit)?;
            let mut conn = self.pool.acquire().await?;
            let rows = sqlx::query(
                "SELECT id, status, source_lang, target_lang, model, error_code, \
                 error_message, attempts, lease_owner, lease_expires_at, created_at, \
                 updated_at, started_at, finished_at FROM jobs \
                 WHERE $1::uuid IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(before.map(|b| b.0))
            .bind(limit + 1)
            .fetch_all(&mut *conn)
            .await?;
            let more = rows.len() as i64 > limit;
            let mut jobs = Vec::with_capacity(rows.len());
            for row in rows.iter().take(usize::try_from(limit).unwrap_or(usize::MAX)) {
                let job = job_row(row)?;
                let files = load_files(&mut conn, job.id).await?;
                jobs.push(job.into_job(files)?);
            }
            let next = if more { jobs.last().map(|j| j.id) } else { None };
            Ok(JobPage { jobs, next })
        })
    }

    fn cancel_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Job>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, \
                 lease_expires_at = NULL, finished_at = now(), updated_at = now() \
                 WHERE id = $1 AND status IN ('queued', 'running')",
            )
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            let job = load_job(&mut tx, id).await?;
            tx.commit().await?;
            Ok(job)
        })
    }

    fn delete_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Vec<BlobKey>>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let locked = sqlx::query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            if locked.is_none() {
                return Err(StoreError::NotFound(id));
            }
            let job = load_job(&mut tx, id).await?;
            sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(job.blob_keys())
        })
    }

    fn claim_next_job<'a>(
        &'a self,
        options: &'a ClaimOptions,
    ) -> BoxFuture<'a, StoreResult<Option<Claimed>>> {
        Box::pin(self.claim(options))
    }

    fn renew_lease<'a>(
        &'a self,
        lease: &'a Lease,
        ttl: Duration,
    ) -> BoxFuture<'a, StoreResult<RenewOutcome>> {
        Box::pin(async move {
            let renewed: Option<OffsetDateTime> = sqlx::query_scalar(
                "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $4) \
                 WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3 \
                 RETURNING lease_expires_at",
            )
            .bind(lease.job.0)
            .bind(&lease.worker)
            .bind(i64::from(lease.attempt))
            .bind(seconds(ttl))
            .fetch_optional(&self.pool)
            .await?;
            if let Some(expires) = renewed {
                return Ok(RenewOutcome::Renewed(expires));
            }
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
                    .bind(lease.job.0)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(if status.as_deref() == Some("cancelled") {
                RenewOutcome::Cancelled
            } else {
                RenewOutcome::Lost
            })
        })
    }

    fn requeue_job<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.pool, lease).await?;
            sqlx::query(
                "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
                 updated_at = now() WHERE id = $1",
            )
            .bind(lease.job.0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn requeue_worker_jobs<'a>(&'a self, worker: &'a str) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
                 updated_at = now() WHERE status = 'running' AND lease_owner = $1",
            )
            .bind(worker)
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    fn set_file_extracted<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        extracted: FileExtracted,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let total = to_i64("segment count", extracted.total)?;
            let query = sqlx::query(
                "UPDATE job_files SET extracted = TRUE, total = $3, \
                 format = COALESCE($4, format), detected_lang = $5 \
                 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(total)
            .bind(extracted.format)
            .bind(extracted.detected_source_lang.map(|l| l.as_str().to_string()));
            self.update_file(lease, index, query).await
        })
    }

    fn save_segment<'a>(
        &'a self,
        lease: &'a Lease,
        segment: StoredSegment,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.pool, lease).await?;
            insert_segment(&mut tx, lease.job, &segment).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn save_segments<'a>(
        &'a self,
        lease: &'a Lease,
        segments: Vec<StoredSegment>,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.pool, lease).await?;
            for segment in &segments {
                insert_segment(&mut tx, lease.job, segment).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn saved_segments(
        &self,
        job: JobId,
        index: u32,
    ) -> BoxFuture<'_, StoreResult<Vec<StoredSegment>>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT file_index, segment_id, content, kept_code, kept_message \
                 FROM job_segments WHERE job_id = $1 AND file_index = $2 ORDER BY segment_id",
            )
            .bind(job.0)
            .bind(i64::from(index))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| segment_row(r)?.into_segment()).collect()
        })
    }

    fn set_file_output<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        output: BlobKey,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let query = sqlx::query(
                "UPDATE job_files SET output_blob = $3 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(String::from(output));
            self.update_file(lease, index, query).await
        })
    }

    fn set_file_failed<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        error: ErrorInfo,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let query = sqlx::query(
                "UPDATE job_files SET error_code = $3, error_message = $4 \
                 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(error.code)
            .bind(error.message);
            self.update_file(lease, index, query).await
        })
    }

    fn finish_job<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, StoreResult<Job>> {
        Box::pin(self.end_job(lease, JobStatus::Done, None))
    }

    fn fail_job<'a>(
        &'a self,
        lease: &'a Lease,
        error: ErrorInfo,
    ) -> BoxFuture<'a, StoreResult<Job>> {
        Box::pin(self.end_job(lease, JobStatus::Failed, Some(error)))
    }

    fn purge_expired(&self, older_than: Duration) -> BoxFuture<'_, StoreResult<Purged>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') \
                 AND finished_at <= now() - make_interval(secs => $1) \
                 ORDER BY id FOR UPDATE SKIP LOCKED",
            )
            .bind(seconds(older_than))
            .fetch_all(&mut *tx)
            .await?;
            let mut purged = Purged::default();
            for id in ids {
                let id = JobId(id);
                let job = load_job(&mut tx, id).await?;
                sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
                purged.blobs.extend(job.blob_keys());
                purged.jobs.push(id);
            }
            tx.commit().await?;
            Ok(purged)
        })
    }

    fn count_by_status(&self) -> BoxFuture<'_, StoreResult<StatusCounts>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
                .fetch_all(&self.pool)
                .await?;
            let mut counts: Vec<(JobStatus, u64)> =
                JobStatus::ALL.iter().map(|s| (*s, 0)).collect();
            for row in rows {
                let status = crate::convert::status(&row.try_get::<String, _>("status")?)?;
                let n: i64 = row.try_get("n")?;
                if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == status) {
                    slot.1 = u64::try_from(n).unwrap_or(0);
                }
            }
            Ok(StatusCounts { counts })
        })
    }
}
