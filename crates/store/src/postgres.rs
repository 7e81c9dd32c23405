//! The PostgreSQL backend, for several replicas sharing one database.
//!
//! Times come from the database clock (`now()`), so replicas agree on lease expiry whatever their
//! own clocks say. The claim selects its job with `FOR UPDATE SKIP LOCKED`: concurrent claimers
//! skip each other's candidate rows instead of waiting or taking the same one, and the transaction
//! ends right after the claim (no lock is held while the job runs). Fenced writes lock the job row
//! (`FOR NO KEY UPDATE`) while they check the lease, so a cancel or a takeover cannot slip between
//! the check and the write. The statements that neither read the clock nor lock are shared with
//! SQLite (`crate::sql`).

mod memory;

pub use memory::MEMORY_TIDY_EVERY;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgQueryResult};
use sqlx::{Postgres, Row, Transaction};
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
    Dialect, FileUpdate, JobScope, SqlBackend, StoredTime, check_new_job, impl_account_store,
    impl_glossary_store, shared_job_methods, to_millis, too_many_attempts,
};
use crate::store::{Purged, Store, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The statements PostgreSQL shares with SQLite.
type Queries = crate::sql::Queries<Postgres>;

/// A [`Store`] in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// When the memory's tables are next vacuumed (see [`PgStore::with_memory_tidy_every`]).
    memory_tidy: std::sync::Arc<memory::Tidy>,
}

/// The advisory lock that serialises the transactions which may change who is an active
/// administrator (an arbitrary constant, "tradia" in ASCII).
const ADMIN_LOCK: i64 = 0x7472_6164_6961;

impl Dialect for Postgres {
    type Time = OffsetDateTime;

    const JOBS_OF_OWNER_TO_DELETE: &'static str =
        "SELECT id FROM jobs WHERE owner = $1 ORDER BY id FOR UPDATE";

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// PostgreSQL stores a point in time as `TIMESTAMPTZ`, which sqlx reads as the time itself.
impl StoredTime for OffsetDateTime {
    fn into_time(self, _column: &str) -> Result<OffsetDateTime, StoreError> {
        Ok(self)
    }

    fn from_time(time: OffsetDateTime) -> Self {
        to_millis(time)
    }
}

impl SqlBackend for PgStore {
    type Db = Postgres;

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Takes the administrators' advisory lock, held until the transaction ends.
    async fn begin_admin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(ADMIN_LOCK).execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Nothing to do: a deleted row's bytes stay in its page until `VACUUM` reuses the space
    /// (see the crate documentation, "Deleted means gone").
    async fn after_deletion(&self) {}
}

impl_account_store!(PgStore, Postgres);
impl_glossary_store!(PgStore, Postgres);

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
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

async fn touch(tx: &mut PgConnection, job: JobId) -> Result<(), StoreError> {
    sqlx::query("UPDATE jobs SET updated_at = now() WHERE id = $1")
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The claimable job to take next: round robin by owner (see [`Store::claim_next_job`]). An
/// owner's load counts its running jobs whose lease holds; `IS NOT DISTINCT FROM` also matches
/// two `NULL`s, so the ownerless jobs are one owner. Only the chosen job row is locked.
const FAIREST_CANDIDATE: &str = "WITH owner_load AS ( \
       SELECT owner, \
         COUNT(*) FILTER (WHERE status = 'running' AND lease_expires_at > now()) AS running, \
         MAX(started_at) AS last_started \
       FROM jobs GROUP BY owner) \
     SELECT j.id, j.attempts FROM jobs j JOIN owner_load l ON l.owner IS NOT DISTINCT FROM j.owner \
     WHERE (j.status = 'queued' OR (j.status = 'running' AND j.lease_expires_at <= now())) \
       AND ($1 = 0 OR l.running < $1) \
     ORDER BY l.running, l.last_started NULLS FIRST, j.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED";

/// The advisory lock key claims take when running jobs are capped per owner ("tradia-claim").
const CLAIM_LOCK: i64 = 0x7472_6164_6961_636c;

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
        let store = PgStore { pool, memory_tidy: std::sync::Arc::new(memory::Tidy::default()) };
        crate::sql::Memories::<Postgres>::index_pending_terms(&store).await?;
        Ok(store)
    }

    /// Ends the unexpired leases whose holder is known dead (see [`crate::process`]): their
    /// jobs are claimable now instead of when the lease runs out.
    async fn expire_dead_leases(&self) -> StoreResult<()> {
        let owners: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT lease_owner FROM jobs WHERE status = 'running' \
             AND lease_owner IS NOT NULL AND lease_expires_at > now()",
        )
        .fetch_all(&self.pool)
        .await?;
        for owner in owners.iter().filter(|o| crate::process::holder_is_dead(o)) {
            let ended = sqlx::query(
                "UPDATE jobs SET lease_expires_at = now() WHERE status = 'running' \
                 AND lease_owner = $1 AND lease_expires_at > now()",
            )
            .bind(owner)
            .execute(&self.pool)
            .await?;
            tracing::info!(worker = %owner, jobs = ended.rows_affected(), "lease holder is gone; its jobs are taken over now");
        }
        Ok(())
    }

    async fn claim(&self, options: &ClaimOptions) -> StoreResult<Option<Claimed>> {
        self.expire_dead_leases().await?;
        loop {
            let mut tx = self.pool.begin().await?;
            if options.max_running_per_owner > 0 {
                // Claims of every replica one at a time, so that two replicas cannot both see
                // an owner below the cap and both claim (held until this transaction ends).
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(CLAIM_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            let candidate = sqlx::query(FAIREST_CANDIDATE)
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
            let job = Queries::load_job(&mut tx, id).await?;
            tx.commit().await?;
            let lease = Lease { job: id, worker: options.worker.clone(), attempt: job.attempts };
            return Ok(Some(Claimed { job, lease }));
        }
    }

    async fn insert_job(&self, owner: Option<UserId>, job: NewJob) -> StoreResult<Job> {
        check_new_job(&job)?;
        let id = JobId::new();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO jobs (id, owner, status, source_lang, target_lang, model) \
             VALUES ($1, $2, 'queued', $3, $4, $5)",
        )
        .bind(id.0)
        .bind(owner.map(|o| o.0))
        .bind(job.source_lang.as_ref().map(|l| l.as_str()))
        .bind(job.target_lang.as_str())
        .bind(&job.model)
        .execute(&mut *tx)
        .await?;
        Queries::insert_files(&mut tx, id, &job.files).await?;
        let created = Queries::load_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn cancel(&self, scope: JobScope, id: JobId) -> StoreResult<Job> {
        let mut tx = self.pool.begin().await?;
        Queries::check_visible(&mut tx, scope, id).await?;
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', lease_owner = NULL, \
             lease_expires_at = NULL, finished_at = now(), updated_at = now() \
             WHERE id = $1 AND status IN ('queued', 'running')",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        let job = Queries::load_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(job)
    }

    async fn delete(&self, scope: JobScope, id: JobId) -> StoreResult<Vec<BlobKey>> {
        let mut tx = self.pool.begin().await?;
        Queries::check_visible(&mut tx, scope, id).await?;
        // Lock the row first: a worker's fenced write then waits, and fails once it is gone.
        let locked = sqlx::query("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?;
        if locked.is_none() {
            return Err(StoreError::NotFound(id));
        }
        let deleted = Queries::delete_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(deleted.blob_keys())
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
        let job = Queries::load_job(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Applies `update` to file `index` of the held job, and marks the job updated.
    async fn update_file(&self, lease: &Lease, index: u32, update: FileUpdate) -> StoreResult<()> {
        let mut tx = fenced(&self.pool, lease).await?;
        Queries::update_file(&mut tx, lease.job, index, &update).await?;
        touch(&mut tx, lease.job).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save(&self, lease: &Lease, segments: &[StoredSegment]) -> StoreResult<()> {
        let mut tx = fenced(&self.pool, lease).await?;
        Queries::save_segments(&mut tx, lease.job, segments).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store for PgStore {
    // Every method that only forwards (reads, job creation, cancel, delete, worker writes).
    shared_job_methods!(Postgres);

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn check_writable(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(Queries::probe_write(&self.pool))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.pool.close().await;
        })
    }

    fn renew_lease<'a>(
        &'a self,
        lease: &'a Lease,
        ttl: Duration,
    ) -> BoxFuture<'a, StoreResult<RenewOutcome>> {
        Box::pin(async move {
            let mut conn = self.pool.acquire().await?;
            let renewed: Option<OffsetDateTime> = sqlx::query_scalar(
                "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $4) \
                 WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3 \
                 RETURNING lease_expires_at",
            )
            .bind(lease.job.0)
            .bind(&lease.worker)
            .bind(i64::from(lease.attempt))
            .bind(seconds(ttl))
            .fetch_optional(&mut *conn)
            .await?;
            match renewed {
                Some(expires) => Ok(RenewOutcome::Renewed(expires)),
                None => Queries::renewal_refused(&mut conn, lease.job).await,
            }
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
            let purged = Queries::purge(&mut tx, ids).await?;
            tx.commit().await?;
            Ok(purged)
        })
    }
}
