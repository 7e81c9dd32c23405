//! The storage trait: one narrow interface for jobs, their lease queue and their saved segments,
//! implemented for SQLite and PostgreSQL.
//!
//! The server holds an `Arc<dyn Store>` and never sees SQL. Methods return boxed futures (the
//! same [`BoxFuture`] as the engine trait) so the trait stays object-safe without a macro.
//!
//! ## The lease queue
//! A job row is also the queue entry: [`Store::claim_next_job`] turns a `queued` job (or a
//! `running` job whose lease expired, such as one left by a killed process or replica) into
//! `running` under a lease held by one worker until `lease_expires_at`. The worker renews the
//! lease ([`Store::renew_lease`]) well before it expires, and presents its [`Lease`] on every write;
//! a write from a worker that lost the lease fails with [`StoreError::LeaseLost`]. Claims are
//! exclusive: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, SQLite a `BEGIN IMMEDIATE` transaction.
//! Nothing is held open while a job runs.
//!
//! ## Resuming
//! Each finished segment is saved by [`Store::save_segment`] as it arrives. A worker that claims a
//! job again reads [`Store::saved_segments`] per file and only translates the others.
//!
//! ## Owners
//! A job created by [`Store::create_job_for`] belongs to its caller. The `…_for` methods take the
//! [`Caller`] and see only what it may: a user their own jobs, an administrator every job. Another
//! user's job is [`StoreError::NotFound`], exactly like a job that does not exist, and
//! [`Store::delete_job_for`] / [`Store::cancel_job_for`] leave it untouched. The methods without
//! a caller (the worker's, and the first ones the server used) see every job.

use std::time::Duration;

use tradia_core::BoxFuture;

use crate::accounts::AccountStore;
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::glossaries::GlossaryStore;
use crate::model::{
    Caller, ClaimOptions, Claimed, ErrorInfo, FileExtracted, InProgress, Job, JobId, JobPage,
    Lease, NewJob, RenewOutcome, StatusCounts, StoredSegment, UserId,
};

/// How long [`Store::ping`] waits for the database.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Result of [`Store::purge_expired`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Purged {
    /// Jobs deleted.
    pub jobs: Vec<JobId>,
    /// Blobs those jobs referenced: delete them from the blob store.
    pub blobs: Vec<BlobKey>,
}

/// Durable state of the translation service: jobs here, people in the [`AccountStore`] and
/// glossaries in the [`GlossaryStore`] every store also is.
pub trait Store: AccountStore + GlossaryStore + Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and `--check-config`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers (readiness probe); fails after [`PING_TIMEOUT`] at most.
    fn ping(&self) -> BoxFuture<'_, StoreResult<()>>;

    /// Checks that a write works now (readiness while the disk is full or read-only): writes
    /// one small row within [`PING_TIMEOUT`] (SQLite also a 64 KiB file beside the database).
    /// Fails with [`StoreError::StorageFull`] or [`StoreError::StorageUnavailable`] when it
    /// does not. A write that needs more room than the probe can still fail on a nearly full
    /// disk.
    fn check_writable(&self) -> BoxFuture<'_, StoreResult<()>>;

    /// Every blob key a job refers to (inputs and outputs): what the blob store must keep. A
    /// blob in the blob store and not here belongs to no job (see [`crate::orphan_blobs`]).
    fn referenced_blobs(&self) -> BoxFuture<'_, StoreResult<Vec<BlobKey>>>;

    /// Closes the connections, waiting for those in use (graceful shutdown, after the jobs were
    /// requeued). Operations after this fail.
    fn close(&self) -> BoxFuture<'_, ()>;

    /// Creates a `queued` job with its files. Fails with [`StoreError::Invalid`] without files.
    fn create_job(&self, job: NewJob) -> BoxFuture<'_, StoreResult<Job>>;

    /// One job with its files and progress; [`StoreError::NotFound`] if absent.
    fn get_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Job>>;

    /// Jobs newest first: at most `limit` (1 to 1000) jobs created before the job `before`
    /// (`None`: from the newest). [`JobPage::next`] is the cursor for the next page.
    fn list_jobs(&self, limit: u32, before: Option<JobId>) -> BoxFuture<'_, StoreResult<JobPage>>;

    /// Cancels a `queued` or `running` job (its lease is dropped: the worker's next renewal says
    /// [`RenewOutcome::Cancelled`] and its writes fail). A job already finished is returned
    /// unchanged. Returns the job as it now is.
    fn cancel_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Job>>;

    /// Deletes a job, whatever its status, with its files and segments. Returns the blob keys it
    /// referenced, for the caller to delete from the blob store.
    fn delete_job(&self, id: JobId) -> BoxFuture<'_, StoreResult<Vec<BlobKey>>>;

    /// Creates a `queued` job owned by `caller` (see [`Store::create_job`]).
    fn create_job_for<'a>(
        &'a self,
        caller: &'a Caller,
        job: NewJob,
    ) -> BoxFuture<'a, StoreResult<Job>>;

    /// One job the caller may see; [`StoreError::NotFound`] for another user's job, as for a
    /// missing one.
    fn get_job_for<'a>(&'a self, caller: &'a Caller, id: JobId) -> BoxFuture<'a, StoreResult<Job>>;

    /// The jobs the caller may see (a user's own, or every job for an administrator), newest
    /// first, paginated like [`Store::list_jobs`].
    fn list_jobs_for<'a>(
        &'a self,
        caller: &'a Caller,
        limit: u32,
        before: Option<JobId>,
    ) -> BoxFuture<'a, StoreResult<JobPage>>;

    /// [`Store::cancel_job`] on a job the caller may see; another user's job is
    /// [`StoreError::NotFound`] and stays as it is.
    fn cancel_job_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: JobId,
    ) -> BoxFuture<'a, StoreResult<Job>>;

    /// [`Store::delete_job`] on a job the caller may see; another user's job is
    /// [`StoreError::NotFound`] and stays as it is.
    fn delete_job_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: JobId,
    ) -> BoxFuture<'a, StoreResult<Vec<BlobKey>>>;

    /// A user's `queued` and `running` jobs and their files (the "documents in progress" quota).
    fn jobs_in_progress(&self, user: UserId) -> BoxFuture<'_, StoreResult<InProgress>>;

    /// Claims a claimable job: `queued`, or `running` with an expired lease. Owners take turns
    /// (round robin): the job comes from the owner with the fewest running jobs, then from the
    /// one served least recently (whose latest job started longest ago, or never), and is that
    /// owner's oldest; the ownerless jobs count as one owner. So one user's hundred queued jobs
    /// do not make another's wait behind all of them. The job
    /// becomes `running`, its `attempts` grows by one and the lease holds `lease_ttl`. A job
    /// already claimed `max_attempts` times is failed (`too_many_attempts`) instead, and the
    /// search goes on. `None` when nothing is claimable.
    fn claim_next_job<'a>(
        &'a self,
        options: &'a ClaimOptions,
    ) -> BoxFuture<'a, StoreResult<Option<Claimed>>>;

    /// Extends a held lease to now + `ttl`.
    fn renew_lease<'a>(
        &'a self,
        lease: &'a Lease,
        ttl: Duration,
    ) -> BoxFuture<'a, StoreResult<RenewOutcome>>;

    /// Puts one held job back to `queued` (graceful shutdown of one job); its saved segments stay.
    fn requeue_job<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, StoreResult<()>>;

    /// Puts every job held by `worker` back to `queued`, whatever its lease expiry; returns how many.
    /// Call it on graceful shutdown, and at start-up when worker ids are stable per replica (so a
    /// restarted process takes its jobs back without waiting for the leases to expire).
    fn requeue_worker_jobs<'a>(&'a self, worker: &'a str) -> BoxFuture<'a, StoreResult<u64>>;

    /// Records what extraction found in file `index`: segment count, format, detected language.
    fn set_file_extracted<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        extracted: FileExtracted,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Saves one finished segment (insert, or replace the same `(file, segment)`): call it as each
    /// result arrives. Idempotent: saving the same segment twice leaves one row.
    fn save_segment<'a>(
        &'a self,
        lease: &'a Lease,
        segment: StoredSegment,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Saves several finished segments in one transaction (same semantics as
    /// [`Store::save_segment`]).
    fn save_segments<'a>(
        &'a self,
        lease: &'a Lease,
        segments: Vec<StoredSegment>,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// The segments saved for one file, by segment id: what a resumed job need not translate.
    fn saved_segments(
        &self,
        job: JobId,
        index: u32,
    ) -> BoxFuture<'_, StoreResult<Vec<StoredSegment>>>;

    /// Records the produced file for file `index`.
    fn set_file_output<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        output: BlobKey,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Records that file `index` could not be translated (the job may go on with the others).
    fn set_file_failed<'a>(
        &'a self,
        lease: &'a Lease,
        index: u32,
        error: ErrorInfo,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Marks a held job `done` and drops the lease.
    fn finish_job<'a>(&'a self, lease: &'a Lease) -> BoxFuture<'a, StoreResult<Job>>;

    /// Marks a held job `failed` with `error` and drops the lease.
    fn fail_job<'a>(
        &'a self,
        lease: &'a Lease,
        error: ErrorInfo,
    ) -> BoxFuture<'a, StoreResult<Job>>;

    /// Deletes jobs that finished (done, failed, cancelled) more than `older_than` ago, and
    /// returns them with the blobs to delete.
    fn purge_expired(&self, older_than: Duration) -> BoxFuture<'_, StoreResult<Purged>>;

    /// Jobs per status (metrics: jobs by state, queue depth).
    fn count_by_status(&self) -> BoxFuture<'_, StoreResult<StatusCounts>>;
}
