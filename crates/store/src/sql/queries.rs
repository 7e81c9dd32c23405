//! The statements both backends run word for word, and the helpers that run them.
//!
//! None of these statements reads the clock or takes a lock: those are the backends' own (see the
//! parent module). Each helper runs on the connection or transaction it is given, so the same
//! helper serves a plain read on the reader pool and a fenced write inside the lease check's
//! transaction.

use std::marker::PhantomData;

use sqlx::{Encode, Executor, FromRow, IntoArguments, Pool, Type};
use tradia_core::LanguageTag;
use uuid::Uuid;

use super::Dialect;
use super::rows::{
    FileRow, JobRow, SegmentRow, StatusCountRow, check_limit, encode_flags, status_counts, to_i64,
};
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::model::{
    Caller, ErrorInfo, FileExtracted, InProgress, Job, JobId, JobPage, JobStatus, NewJobFile,
    RenewOutcome, StatusCounts, StoredSegment, UserId,
};
use crate::store::{PING_TIMEOUT, Purged, StoreResult};

/// The columns of [`JobRow`], as a literal for `concat!`.
macro_rules! job_columns {
    () => {
        "id, owner, status, source_lang, target_lang, model, error_code, error_message, \
         attempts, lease_owner, lease_expires_at, created_at, updated_at, started_at, finished_at"
    };
}

const JOB_BY_ID: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");

const NEWEST_JOBS: &str =
    concat!("SELECT ", job_columns!(), " FROM jobs ORDER BY id DESC LIMIT $1");

const JOBS_BEFORE: &str =
    concat!("SELECT ", job_columns!(), " FROM jobs WHERE id < $1 ORDER BY id DESC LIMIT $2");

const IS_OWNED_BY: &str = "SELECT CAST(1 AS BIGINT) FROM jobs WHERE id = $1 AND owner = $2";

const NEWEST_JOBS_OF_OWNER: &str =
    concat!("SELECT ", job_columns!(), " FROM jobs WHERE owner = $2 ORDER BY id DESC LIMIT $1");

const JOBS_OF_OWNER_BEFORE: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE owner = $3 AND id < $1 ORDER BY id DESC LIMIT $2"
);

const IN_PROGRESS_OF_OWNER: &str = "SELECT COUNT(DISTINCT j.id) AS jobs, COUNT(*) AS files \
     FROM jobs j JOIN job_files f ON f.job_id = j.id \
     WHERE j.owner = $1 AND j.status IN ('queued', 'running')";

/// The columns of [`FileRow`]: a file with its saved and kept segment counts.
const FILES_OF_JOB: &str = "SELECT f.file_index, f.name, f.format, f.input_blob, f.size, \
     f.extracted, f.total, f.detected_lang, f.title, f.output_blob, f.error_code, f.error_message, \
     (SELECT COUNT(*) FROM job_segments s \
        WHERE s.job_id = f.job_id AND s.file_index = f.file_index) AS done, \
     (SELECT COUNT(*) FROM job_segments s \
        WHERE s.job_id = f.job_id AND s.file_index = f.file_index \
          AND s.kept_code IS NOT NULL) AS kept \
     FROM job_files f WHERE f.job_id = $1 ORDER BY f.file_index";

const INSERT_FILE: &str = "INSERT INTO job_files \
     (job_id, file_index, name, format, input_blob, size) VALUES ($1, $2, $3, $4, $5, $6)";

const DELETE_JOB: &str = "DELETE FROM jobs WHERE id = $1";

/// The probe of [`Store::check_writable`](crate::Store::check_writable): one row, rewritten.
const PROBE_WRITE: &str = "INSERT INTO storage_probe (id, checked_at) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at";

const REFERENCED_BLOBS: &str = "SELECT input_blob FROM job_files \
     UNION SELECT output_blob FROM job_files WHERE output_blob IS NOT NULL";

const STATUS_OF_JOB: &str = "SELECT status FROM jobs WHERE id = $1";

const COUNT_BY_STATUS: &str = "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status";

/// Saving a segment again replaces it (a retried write, or a job resumed after the result was
/// saved but before the worker knew).
const UPSERT_SEGMENT: &str = "INSERT INTO job_segments \
       (job_id, file_index, segment_id, content, kept_code, kept_message, flags) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (job_id, file_index, segment_id) DO UPDATE SET \
       content = excluded.content, kept_code = excluded.kept_code, \
       kept_message = excluded.kept_message, flags = excluded.flags";

const SEGMENTS_OF_FILE: &str = "SELECT file_index, segment_id, content, kept_code, \
     kept_message, flags FROM job_segments WHERE job_id = $1 AND file_index = $2 ORDER BY segment_id";

// A new format replaces the upload-time guess; no format keeps it.
const SET_FILE_EXTRACTED: &str = "UPDATE job_files SET extracted = TRUE, total = $3, \
     format = COALESCE($4, format), detected_lang = $5, title = $6 \
     WHERE job_id = $1 AND file_index = $2";

const SET_FILE_OUTPUT: &str =
    "UPDATE job_files SET output_blob = $3 WHERE job_id = $1 AND file_index = $2";

const SET_FILE_FAILED: &str = "UPDATE job_files SET error_code = $3, error_message = $4 \
     WHERE job_id = $1 AND file_index = $2";

/// Which jobs a query may see: every job (the worker's and the unscoped methods, and an
/// administrator's), or one owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobScope {
    /// Every job.
    All,
    /// Only the jobs this user owns.
    Owner(UserId),
}

impl From<&Caller> for JobScope {
    fn from(caller: &Caller) -> Self {
        if caller.is_admin() { JobScope::All } else { JobScope::Owner(caller.user) }
    }
}

/// A change a worker makes to one file of the job it holds.
#[derive(Debug)]
pub(crate) enum FileUpdate {
    /// What extraction found ([`Store::set_file_extracted`](crate::Store::set_file_extracted)).
    Extracted {
        /// The segment count, already checked to fit the column.
        total: i64,
        /// The detected format, replacing the upload-time one when `Some`.
        format: Option<String>,
        /// The language detected in the file.
        detected_lang: Option<LanguageTag>,
        /// The document's own title.
        title: Option<String>,
    },
    /// The produced file.
    Output(BlobKey),
    /// Why the file could not be translated.
    Failed(ErrorInfo),
}

impl FileUpdate {
    /// The update recording `extracted`; fails when its segment count does not fit the column.
    pub(crate) fn extracted(extracted: FileExtracted) -> StoreResult<Self> {
        Ok(FileUpdate::Extracted {
            total: to_i64("segment count", extracted.total)?,
            format: extracted.format,
            detected_lang: extracted.detected_source_lang,
            title: extracted.title,
        })
    }
}

/// A segment insert that hit the foreign key names a file the job does not have.
fn file_missing(err: sqlx::Error, job: JobId, index: u32) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::FileNotFound { job, index }
        }
        _ => StoreError::from(err),
    }
}

/// The shared helpers for one dialect: `Queries<Sqlite>` and `Queries<Postgres>`.
pub(crate) struct Queries<D>(PhantomData<D>);

impl<D> Queries<D>
where
    D: Dialect,
    // What the statements bind and read, in sqlx's terms; both drivers provide all of it.
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'r> JobRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> FileRow: FromRow<'r, D::Row>,
    for<'r> SegmentRow: FromRow<'r, D::Row>,
    for<'r> StatusCountRow: FromRow<'r, D::Row>,
    for<'r> (String,): FromRow<'r, D::Row>,
    for<'r> (i64,): FromRow<'r, D::Row>,
    for<'r> (i64, i64): FromRow<'r, D::Row>,
{
    /// Checks that the database answers within [`PING_TIMEOUT`].
    pub(crate) async fn ping(pool: &Pool<D>) -> StoreResult<()> {
        let probe = sqlx::query("SELECT 1").execute(pool);
        match tokio::time::timeout(PING_TIMEOUT, probe).await {
            Ok(result) => result.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::StorageUnavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Writes the probe row within [`PING_TIMEOUT`] (a writer busy that long counts as
    /// unavailable).
    pub(crate) async fn probe_write(pool: &Pool<D>) -> StoreResult<()> {
        let at = super::now().unix_timestamp();
        let probe = sqlx::query(PROBE_WRITE).bind(at).execute(pool);
        match tokio::time::timeout(PING_TIMEOUT, probe).await {
            Ok(result) => result.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::StorageUnavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// The blob keys of every job's files, inputs and outputs.
    pub(crate) async fn referenced_blobs(conn: &mut D::Connection) -> StoreResult<Vec<BlobKey>> {
        let rows: Vec<(String,)> = sqlx::query_as(REFERENCED_BLOBS).fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|(key,)| BlobKey::parse(&key).map_err(|_| super::corrupt("blob key", &key)))
            .collect()
    }

    /// One job with its files; [`StoreError::NotFound`] if absent.
    pub(crate) async fn load_job(conn: &mut D::Connection, id: JobId) -> StoreResult<Job> {
        let job: JobRow<D::Time> = sqlx::query_as(JOB_BY_ID)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound(id))?;
        let files = Self::load_files(conn, id).await?;
        job.into_job(files)
    }

    /// Fails with [`StoreError::NotFound`] unless `scope` may see job `id` (which must then still
    /// be looked up: an absent job passes under [`JobScope::All`]).
    pub(crate) async fn check_visible(
        conn: &mut D::Connection,
        scope: JobScope,
        id: JobId,
    ) -> StoreResult<()> {
        let JobScope::Owner(owner) = scope else { return Ok(()) };
        let owned: Option<(i64,)> =
            sqlx::query_as(IS_OWNED_BY).bind(id.0).bind(owner.0).fetch_optional(&mut *conn).await?;
        match owned {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(id)),
        }
    }

    /// Job `id` if `scope` may see it; [`StoreError::NotFound`] otherwise, as if it were absent.
    pub(crate) async fn load_job_in(
        conn: &mut D::Connection,
        scope: JobScope,
        id: JobId,
    ) -> StoreResult<Job> {
        Self::check_visible(conn, scope, id).await?;
        Self::load_job(conn, id).await
    }

    /// A user's unfinished jobs and their files.
    pub(crate) async fn in_progress(
        conn: &mut D::Connection,
        owner: UserId,
    ) -> StoreResult<InProgress> {
        let (jobs, files): (i64, i64) =
            sqlx::query_as(IN_PROGRESS_OF_OWNER).bind(owner.0).fetch_one(&mut *conn).await?;
        Ok(InProgress {
            jobs: u64::try_from(jobs).map_err(|_| super::corrupt("jobs", jobs))?,
            files: u64::try_from(files).map_err(|_| super::corrupt("files", files))?,
        })
    }

    async fn load_files(conn: &mut D::Connection, id: JobId) -> StoreResult<Vec<FileRow>> {
        Ok(sqlx::query_as(FILES_OF_JOB).bind(id.0).fetch_all(&mut *conn).await?)
    }

    /// A page of the jobs `scope` sees, newest first (see
    /// [`Store::list_jobs`](crate::Store::list_jobs)).
    pub(crate) async fn list_jobs(
        conn: &mut D::Connection,
        scope: JobScope,
        limit: u32,
        before: Option<JobId>,
    ) -> StoreResult<JobPage> {
        let limit = check_limit(limit)?;
        // Placeholders: `before` is $1 when present, then the limit, then the owner.
        let query = match (scope, before) {
            (JobScope::All, Some(before)) => sqlx::query_as(JOBS_BEFORE).bind(before.0),
            (JobScope::All, None) => sqlx::query_as(NEWEST_JOBS),
            (JobScope::Owner(_), Some(before)) => {
                sqlx::query_as(JOBS_OF_OWNER_BEFORE).bind(before.0)
            }
            (JobScope::Owner(_), None) => sqlx::query_as(NEWEST_JOBS_OF_OWNER),
        };
        // One row more than asked says whether there is a next page.
        let query = query.bind(limit + 1);
        let query = match scope {
            JobScope::All => query,
            JobScope::Owner(owner) => query.bind(owner.0),
        };
        let mut rows: Vec<JobRow<D::Time>> = query.fetch_all(&mut *conn).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let files = Self::load_files(conn, JobId(row.id)).await?;
            jobs.push(row.into_job(files)?);
        }
        let next = if more { jobs.last().map(|j| j.id) } else { None };
        Ok(JobPage { jobs, next })
    }

    /// Inserts the files of the new job `job`, indexed in upload order.
    pub(crate) async fn insert_files(
        conn: &mut D::Connection,
        job: JobId,
        files: &[NewJobFile],
    ) -> StoreResult<()> {
        for (index, file) in (0_i64..).zip(files) {
            sqlx::query(INSERT_FILE)
                .bind(job.0)
                .bind(index)
                .bind(file.name.as_str())
                .bind(file.format.as_deref())
                .bind(file.input_blob.as_str())
                .bind(to_i64("file size", file.size)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Deletes a job with its files and segments, and returns it as it was (its blob keys are
    /// the caller's to delete); [`StoreError::NotFound`] if absent.
    pub(crate) async fn delete_job(conn: &mut D::Connection, id: JobId) -> StoreResult<Job> {
        let job = Self::load_job(conn, id).await?;
        sqlx::query(DELETE_JOB).bind(id.0).execute(&mut *conn).await?;
        Ok(job)
    }

    /// Deletes the jobs `ids` (chosen by the backend's purge) and collects their blobs.
    pub(crate) async fn purge(conn: &mut D::Connection, ids: Vec<Uuid>) -> StoreResult<Purged> {
        let mut purged = Purged::default();
        for id in ids.into_iter().map(JobId) {
            let job = Self::delete_job(conn, id).await?;
            purged.blobs.extend(job.blob_keys());
            purged.jobs.push(id);
        }
        Ok(purged)
    }

    /// Applies `update` to file `index` of `job`; [`StoreError::FileNotFound`] if there is none.
    pub(crate) async fn update_file(
        conn: &mut D::Connection,
        job: JobId,
        index: u32,
        update: &FileUpdate,
    ) -> StoreResult<()> {
        let query = match update {
            FileUpdate::Extracted { total, format, detected_lang, title } => {
                sqlx::query(SET_FILE_EXTRACTED)
                    .bind(job.0)
                    .bind(i64::from(index))
                    .bind(*total)
                    .bind(format.as_deref())
                    .bind(detected_lang.as_ref().map(LanguageTag::as_str))
                    .bind(title.as_deref())
            }
            FileUpdate::Output(output) => sqlx::query(SET_FILE_OUTPUT)
                .bind(job.0)
                .bind(i64::from(index))
                .bind(output.as_str()),
            FileUpdate::Failed(error) => sqlx::query(SET_FILE_FAILED)
                .bind(job.0)
                .bind(i64::from(index))
                .bind(error.code.as_str())
                .bind(error.message.as_str()),
        };
        let done = query.execute(&mut *conn).await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::FileNotFound { job, index });
        }
        Ok(())
    }

    /// Saves finished segments of `job`, replacing any saved before under the same ids.
    pub(crate) async fn save_segments(
        conn: &mut D::Connection,
        job: JobId,
        segments: &[StoredSegment],
    ) -> StoreResult<()> {
        for segment in segments {
            let flags = encode_flags(&segment.flags);
            sqlx::query(UPSERT_SEGMENT)
                .bind(job.0)
                .bind(i64::from(segment.file_index))
                .bind(i64::from(segment.segment_id))
                .bind(segment.content.as_str())
                .bind(segment.kept_code.as_deref())
                .bind(segment.kept_message.as_deref())
                .bind(flags.as_str())
                .execute(&mut *conn)
                .await
                .map_err(|e| file_missing(e, job, segment.file_index))?;
        }
        Ok(())
    }

    /// The segments saved for file `index` of `job`, by segment id.
    pub(crate) async fn saved_segments(
        conn: &mut D::Connection,
        job: JobId,
        index: u32,
    ) -> StoreResult<Vec<StoredSegment>> {
        let rows: Vec<SegmentRow> = sqlx::query_as(SEGMENTS_OF_FILE)
            .bind(job.0)
            .bind(i64::from(index))
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter().map(SegmentRow::into_segment).collect()
    }

    /// Jobs per status, every status present.
    pub(crate) async fn count_by_status(conn: &mut D::Connection) -> StoreResult<StatusCounts> {
        let rows: Vec<StatusCountRow> =
            sqlx::query_as(COUNT_BY_STATUS).fetch_all(&mut *conn).await?;
        status_counts(rows)
    }

    /// What a refused lease renewal means: the job was cancelled, or the lease is gone (taken
    /// over, requeued, finished or deleted).
    pub(crate) async fn renewal_refused(
        conn: &mut D::Connection,
        job: JobId,
    ) -> StoreResult<RenewOutcome> {
        let stored: Option<(String,)> =
            sqlx::query_as(STATUS_OF_JOB).bind(job.0).fetch_optional(&mut *conn).await?;
        Ok(match stored {
            Some((name,)) if name == JobStatus::Cancelled.as_str() => RenewOutcome::Cancelled,
            _ => RenewOutcome::Lost,
        })
    }
}
