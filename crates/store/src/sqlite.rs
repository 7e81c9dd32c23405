//! The embedded backend: one SQLite file under the data folder, nothing to install.
//!
//! SQLite has a single writer, so every write that reads first (the claim, every fenced write)
//! runs in a `BEGIN IMMEDIATE` transaction: it takes the write lock up front, which makes the
//! claim exclusive and avoids `SQLITE_BUSY` on a lock upgrade. WAL lets readers (progress
//! polling, SSE) run beside the writer. Times are Unix milliseconds from this process's clock
//! (one process owns the file).
//!
//! What keeps the file sound and the store usable through faults, deletions and damage is in
//! `sqlite/upkeep.rs`.
//!

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use time::OffsetDateTime;
use tradia_core::BoxFuture;
use uuid::Uuid;

use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::model::{
    ClaimOptions, Claimed, ErrorInfo, Job, JobId, JobStatus, Lease, NewJob, RenewOutcome,
    StoredSegment, UserId,
};
use crate::sql::{
    Dialect, FileUpdate, JobScope, SqlBackend, StoredTime, check_new_job, corrupt,
    impl_account_store, impl_glossary_store, shared_job_methods, too_many_attempts,
};
use crate::store::{Purged, Store, StoreResult};

mod holders;
mod memory;
mod upkeep;

use upkeep::{release_clean, run_check};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The statements SQLite shares with PostgreSQL.
type Queries = crate::sql::Queries<Sqlite>;

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
    /// The database file (`None` in memory).
    path: Option<PathBuf>,
}

impl Dialect for Sqlite {
    type Time = UnixMillis;

    // No row locks: the transaction that runs it began with `BEGIN IMMEDIATE` and holds the one
    // write lock.
    const JOBS_OF_OWNER_TO_DELETE: &'static str = "SELECT id FROM jobs WHERE owner = $1";

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// How SQLite stores a point in time: Unix milliseconds in an `INTEGER` column.
#[derive(Debug, Clone, Copy, sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct UnixMillis(i64);

impl StoredTime for UnixMillis {
    fn into_time(self, column: &str) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .map_err(|_| corrupt(column, self.0))
    }

    fn from_time(time: OffsetDateTime) -> Self {
        UnixMillis(i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
    }
}

impl SqlBackend for SqliteStore {
    type Db = Sqlite;

    fn reader(&self) -> &SqlitePool {
        &self.pool
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Any write transaction: with one writer connection, none runs beside another.
    async fn begin_admin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.begin_write().await
    }

    async fn after_deletion(&self) {
        self.checkpoint_soon();
    }
}

impl_account_store!(SqliteStore, Sqlite);
impl_glossary_store!(SqliteStore, Sqlite);

fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
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

async fn touch(tx: &mut SqliteConnection, job: JobId) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET updated_at = $2 WHERE id = $1")
        .bind(job.0)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The claimable job to take next: round robin by owner (see [`Store::claim_next_job`]). An
/// owner's load counts its running jobs whose lease holds; `owner IS owner` also matches two
/// `NULL`s, so the ownerless jobs are one owner.
const FAIREST_CANDIDATE: &str = "WITH owner_load AS ( \
       SELECT owner, \
         SUM(CASE WHEN status = 'running' AND lease_expires_at > $1 THEN 1 ELSE 0 END) AS running, \
         MAX(started_at) AS last_started \
       FROM jobs GROUP BY owner) \
     SELECT j.id, j.attempts FROM jobs j JOIN owner_load l ON l.owner IS j.owner \
     WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_expires_at <= $1)) \
       AND ($2 = 0 OR l.running < $2) \
     ORDER BY l.running, l.last_started NULLS FIRST, j.id LIMIT 1";

/// The writer connection's page cache (`PRAGMA cache_size`: negative, in KiB): 64 MiB.
const WRITER_CACHE: &str = "-65536";

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
        // sqlx renames `sqlite::memory:` to a shared-cache `file:sqlx-in-memory-N`.
        let name = options.get_filename();
        let in_memory = name == Path::new(":memory:")
            || name.to_str().is_some_and(|n| n.starts_with("file:sqlx-in-memory-"));
        if !in_memory
            && let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(parent).await?;
        }
        let path = (!in_memory).then(|| options.get_filename().to_path_buf());
        let options = options
            .create_if_missing(true)
            .pragma("secure_delete", "ON")
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
            return Ok(SqliteStore { writer: pool.clone(), pool, path });
        }
        let damaged = |problem: String| {
            let file = options.get_filename().display();
            StoreError::DatabaseDamaged(format!("{file}: {problem}"))
        };
        // The one writer gets a larger page cache than SQLite's 2 MiB: a batch of memory entries
        // touches many pages of the word index, which otherwise spill to the WAL again and again
        // within one transaction.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_release(release_clean)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE))
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::DatabaseDamaged(problem) => damaged(problem),
                other => other,
            })?;
        let problems = match run_check(&writer, "quick_check").await {
            Ok(problems) => problems,
            Err(StoreError::DatabaseDamaged(problem)) => vec![problem],
            Err(other) => return Err(other),
        };
        if !problems.is_empty() {
            writer.close().await;
            return Err(damaged(problems.join("; ")));
        }
        MIGRATOR.run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .after_release(release_clean)
            .connect_with(options)
            .await?;
        let store = SqliteStore { pool, writer, path };
        crate::sql::Memories::<Sqlite>::index_pending_terms(&store).await?;
        Ok(store)
    }

    async fn claim(&self, options: &ClaimOptions) -> StoreResult<Option<Claimed>> {
        self.expire_dead_leases().await?;
        // Idle workers poll: answer "nothing" from a reader without taking the write lock
        // (nothing queued, or only jobs of owners already at their cap).
        let claimable = sqlx::query(FAIREST_CANDIDATE)
            .bind(now_ms())
            .bind(i64::from(options.max_running_per_owner))
            .fetch_optional(&self.pool)
            .await?;
        if claimable.is_none() {
            return Ok(None);
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        loop {
            let now = now_ms();
            let candidate = sqlx::query(FAIREST_CANDIDATE)
                .bind(now)
                .bind(i64::from(options.max_running_per_owner))
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
            let job = Queries::load_job(&mut tx, id).await?;
            tx.commit().await?;
            let lease = Lease { job: id, worker: options.worker.clone(), attempt: job.attempts };
            return Ok(Some(Claimed { job, lease }));
        }
    }

    async fn insert_job(&self, owner: Option<UserId>, job: NewJob) -> StoreResult<Job> {
        check_new_job(&job)?;
        let id = JobId::new();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO jobs (id, owner, status, source_lang, target_lang, model, created_at, \
             updated_at) VALUES ($1, $2, 'queued', $3, $4, $5, $6, $6)",
        )
        .bind(id.0)
        .bind(owner.map(|o| o.0))
        .bind(job.source_lang.as_ref().map(|l| l.as_str()))
        .bind(job.target_lang.as_str())
        .bind(&job.model)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        Queries::insert_files(&mut tx, id, &job.files).await?;
        let created = Queries::load_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn cancel(&self, scope: JobScope, id: JobId) -> StoreResult<Job> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Queries::check_visible(&mut tx, scope, id).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = $2, updated_at = $2 \
             WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id.0)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let job = Queries::load_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn delete(&self, scope: JobScope, id: JobId) -> StoreResult<Vec<BlobKey>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Queries::check_visible(&mut tx, scope, id).await?;
        let deleted = Queries::delete_job(&mut tx, id).await?;
        tx.commit().await?;
        self.checkpoint_soon();
        Ok(deleted.blob_keys())
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
        let job = Queries::load_job(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Applies `update` to file `index` of the held job, and marks the job updated.
    async fn update_file(&self, lease: &Lease, index: u32, update: FileUpdate) -> StoreResult<()> {
        let mut tx = fenced(&self.writer, lease).await?;
        Queries::update_file(&mut tx, lease.job, index, &update).await?;
        touch(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save(&self, lease: &Lease, segments: &[StoredSegment]) -> StoreResult<()> {
        let mut tx = fenced(&self.writer, lease).await?;
        Queries::save_segments(&mut tx, lease.job, segments).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store for SqliteStore {
    // Every method that only forwards (reads, job creation, cancel, delete, worker writes).
    shared_job_methods!(Sqlite);

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// The probe row, then a file beside the database (see `probe_disk`).
    fn check_writable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            Queries::probe_write(&self.writer).await?;
            self.probe_disk().await
        })
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.writer.close().await;
            self.pool.close().await;
        })
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
                RenewOutcome::Renewed(UnixMillis(expires).into_time("lease_expires_at")?)
            } else {
                Queries::renewal_refused(&mut tx, lease.job).await?
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
            let purged = Queries::purge(&mut tx, ids).await?;
            tx.commit().await?;
            if !purged.jobs.is_empty() {
                self.checkpoint_soon();
            }
            Ok(purged)
        })
    }
}
