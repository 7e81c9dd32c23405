//! The embedded backend: one SQLite file under the data folder, nothing to install.
//!
//! SQLite has a single writer, so every write that reads first (the claim, every fenced write)
//! runs in a `BEGIN IMMEDIATE` transaction: it takes the write lock up front, which makes the
//! claim exclusive and avoids `SQLITE_BUSY` on a lock upgrade. WAL lets readers (progress
//! polling, SSE) run beside the writer. Times are Unix milliseconds from this process's clock
//! (one process owns the file).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A [`Store`] in a SQLite database file.
///
/// Writes go through a pool of one connection, so concurrent writers queue in order inside this
/// process instead of spinning in SQLite's busy handler; reads use a separate pool and run beside
/// the writer (WAL).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Readers.
    pool: SqlitePool,
    /// The single writer.
    writer: SqlitePool,
}

fn now_ms() -> i64 {
    ms(OffsetDateTime::now_utc())
}

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(column: &str, value: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(value) * 1_000_000)
        .map_err(|_| StoreError::Corrupt(format!("column {column} holds `{value}`")))
}

fn opt_from_ms(column: &str, value: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    value.map(|v| from_ms(column, v)).transpose()
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn job_row(row: &SqliteRow) -> Result<JobRow, StoreError> {
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
        lease_expires_at: opt_from_ms("lease_expires_at", row.try_get("lease_expires_at")?)?,
        created_at: from_ms("created_at", row.try_get("created_at")?)?,
        updated_at: from_ms("updated_at", row.try_get("updated_at")?)?,
        started_at: opt_from_ms("started_at", row.try_get("started_at")?)?,
        finished_at: opt_from_ms("finished_at", row.try_get("finished_at")?)?,
    })
}

fn file_row(row: &SqliteRow) -> Result<FileRow, StoreError> {
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

fn segment_row(row: &SqliteRow) -> Result<SegmentRow, StoreError> {
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

async fn load_files(conn: &mut SqliteConnection, id: JobId) -> Result<Vec<FileRow>, StoreError> {
    let rows = sqlx::query(SELECT_FILES).bind(id.0).fetch_all(&mut *conn).await?;
    rows.iter().map(file_row).collect()
}

async fn load_job(conn: &mut SqliteConnection, id: JobId) -> Result<Job, StoreError> {
    let row = sqlx::query(JOB_BY_ID)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound(id))?;
    let job = job_row(&row)?;
    let files = load_files(conn, id).await?;
    job.into_job(files)
}

/// Begins a write transaction and checks that `lease` still holds the job.
async fn fenced(
    pool: &SqlitePool,
    lease: &Lease,
) -> Result<Transaction<'static, Sqlite>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let held = sqlx::query(
        "SELECT 1 FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 \
         AND attempts = $3",
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

async fn touch(tx: &mut SqliteConnection, job: JobId) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET updated_at = $2 WHERE id = $1")
        .bind(job.0)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn insert_segment(
    tx: &mut SqliteConnection,
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

impl SqliteStore {
    /// Opens (creating it if missing, with its folder) the database at `url` (`sqlite:PATH`,
    /// `sqlite://PATH` or `sqlite::memory:`), sets WAL, `synchronous=NORMAL`, foreign keys and a
    /// 5 s busy timeout, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(SqliteConnectOptions::from_str(url)?).await
    }

    /// Opens the database file at `path` (see [`SqliteStore::connect`]); any file name works,
    /// nothing is parsed as a URL.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::connect_with(SqliteConnectOptions::new().filename(path)).await
    }

    async fn connect_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let in_memory = options.get_filename() == Path::new(":memory:");
        if !in_memory
            && let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(parent).await?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if in_memory {
            // An in-memory database exists once per connection: keep exactly one, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            MIGRATOR.run(&pool).await?;
            return Ok(SqliteStore { writer: pool.clone(), pool });
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        Ok(SqliteStore { pool, writer })
    }

    async fn claim(&self, options: &ClaimOptions) -> StoreResult<Option<Claimed>> {
        // Idle workers poll: answer "nothing" from a reader without taking the write lock.
        let claimable: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM jobs \
             WHERE status = 'queued' OR (status = 'running' AND lease_expires_at <= $1))",
        )
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        if !claimable {
            return Ok(None);
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        loop {
            let now = now_ms();
            let candidate = sqlx::query(
                "SELECT id, attempts FROM jobs \
                 WHERE status = 'queued' OR (status = 'running' AND lease_expires_at <= $1) \
                 ORDER BY id LIMIT 1",
            )
            .bind(now)
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
                     lease_owner = NULL, lease_expires_at = NULL, finished_at = $4, \
                     updated_at = $4 WHERE id = $1",
                )
                .bind(id.0)
                .bind(&error.code)
                .bind(&error.message)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tracing::warn!(job = %id, attempts, "job failed: too many attempts");
                continue;
            }
            sqlx::query(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $2, \
                 lease_expires_at = $3, started_at = COALESCE(started_at, $4), updated_at = $4 \
                 WHERE id = $1",
            )
            .bind(id.0)
            .bind(&options.worker)
            .bind(now.saturating_add(duration_ms(options.lease_ttl)))
            .bind(now)
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
        let mut tx = fenced(&self.writer, lease).await?;
        let (code, message) = error.map(|e| (e.code, e.message)).unzip();
        sqlx::query(
            "UPDATE jobs SET status = $2, error_code = $3, error_message = $4, \
             lease_owner = NULL, lease_expires_at = NULL, finished_at = $5, updated_at = $5 \
             WHERE id = $1",
        )
        .bind(lease.job.0)
        .bind(status.as_str())
        .bind(code)
        .bind(message)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let job = load_job(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(job)
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
            self.writer.close().await;
            self.pool.close().await;
        })
    }

    fn create_job(&self, job: NewJob) -> BoxFuture<'_, StoreResult<Job>> {
        Box::pin(async move {
            check_new_job(&job)?;
            let id = JobId::new();
            let now = now_ms();
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query(
                "INSERT INTO jobs (id, status, source_lang, target_lang, model, created_at, \
                 updated_at) VALUES ($1, 'queued', $2, $3, $4, $5, $5)",
            )
            .bind(id.0)
            .bind(job.source_lang.as_ref().map(|l| l.as_str()))
            .bind(job.target_lang.as_str())
            .bind(&job.model)
            .bind(now)
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
            let rows = match before {
                Some(before) => {
                    sqlx::query(
                        "SELECT id, status, source_lang, target_lang, model, error_code, \
                         error_message, attempts, lease_owner, lease_expires_at, created_at, \
                         updated_at, started_at, finished_at FROM jobs WHERE id < $1 \
                         ORDER BY id DESC LIMIT $2",
                    )
                    .bind(before.0)
                    .bind(limit + 1)
                    .fetch_all(&mut *conn)
                    .await?
                }
                None => {
                    sqlx::query(
                        "SELECT id, status, source_lang, target_lang, model, error_code, \
                         error_message, attempts, lease_owner, lease_expires_at, created_at, \
                         updated_at, started_at, finished_at FROM jobs \
                         ORDER BY id DESC LIMIT $1",
                    )
                    .bind(limit + 1)
                    .fetch_all(&mut *conn)
                    .await?
                }
            };
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
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, \
                 lease_expires_at = NULL, finished_at = $2, updated_at = $2 \
                 WHERE id = $1 AND status IN ('queued', 'running')",
            )
            .bind(id.0)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            let job = load_job(&mut tx, id).await?;
            tx.commit().await?;
            Ok(job)
        })
    }

    fn delete_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Vec<BlobKey>>> {
        Box::pin(async move {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
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
            let now = now_ms();
            let expires = now.saturating_add(duration_ms(ttl));
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let updated = sqlx::query(
                "UPDATE jobs SET lease_expires_at = $4 WHERE id = $1 AND status = 'running' \
                 AND lease_owner = $2 AND attempts = $3",
            )
            .bind(lease.job.0)
            .bind(&lease.worker)
            .bind(i64::from(lease.attempt))
            .bind(expires)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let outcome = if updated == 1 {
                RenewOutcome::Renewed(from_ms("lease_expires_at", expires)?)
            } else {
                let status: Option<String> =
                    sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
                        .bind(lease.job.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                if status.as_deref() == Some("cancelled") {
                    RenewOutcome::Cancelled
                } else {
                    RenewOutcome::Lost
                }
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    fn requeue_job<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.writer, lease).await?;
            sqlx::query(
                "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, \
                 updated_at = $2 WHERE id = $1",
            )
            .bind(lease.job.0)
            .bind(now_ms())
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
                 updated_at = $2 WHERE status = 'running' AND lease_owner = $1",
            )
            .bind(worker)
            .bind(now_ms())
            .execute(&self.writer)
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
            let mut tx = fenced(&self.writer, lease).await?;
            let updated = sqlx::query(
                "UPDATE job_files SET extracted = 1, total = $3, format = COALESCE($4, format), \
                 detected_lang = $5 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(total)
            .bind(&extracted.format)
            .bind(extracted.detected_source_lang.as_ref().map(|l| l.as_str()))
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::FileNotFound { job: lease.job, index });
            }
            touch(&mut tx, lease.job).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn save_segment<'a>(
        &'a self,
        lease: &'a Lease,
        segment: StoredSegment,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.writer, lease).await?;
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
            let mut tx = fenced(&self.writer, lease).await?;
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
            let mut tx = fenced(&self.writer, lease).await?;
            let updated = sqlx::query(
                "UPDATE job_files SET output_blob = $3 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(output.as_str())
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::FileNotFound { job: lease.job, index });
            }
            touch(&mut tx, lease.job).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_file_failed<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        error: ErrorInfo,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut tx = fenced(&self.writer, lease).await?;
            let updated = sqlx::query(
                "UPDATE job_files SET error_code = $3, error_message = $4 \
                 WHERE job_id = $1 AND file_index = $2",
            )
            .bind(lease.job.0)
            .bind(i64::from(index))
            .bind(&error.code)
            .bind(&error.message)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::FileNotFound { job: lease.job, index });
            }
            touch(&mut tx, lease.job).await?;
            tx.commit().await?;
            Ok(())
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
            let cutoff = now_ms().saturating_sub(duration_ms(older_than));
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') \
                 AND finished_at <= $1 ORDER BY id",
            )
            .bind(cutoff)
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
