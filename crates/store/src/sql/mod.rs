//! The half of the SQL that the SQLite and PostgreSQL stores share.
//!
//! Why this module exists: both backends have the same tables with the same columns, so reading a
//! job, listing jobs, writing files and segments, every account statement, and turning rows into
//! the model are the same statements and the same code on both. They are written here once, so a
//! new column is added in one row struct ([`rows`], [`account_rows`]) and one statement, not
//! twice.
//!
//! What stays in each backend (`sqlite.rs`, `postgres.rs`) is what truly differs:
//! - **claiming** a job (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL);
//! - **fencing**: the lease check that opens every worker write, and which pool or lock it uses;
//! - **job times**: SQLite stores Unix milliseconds from this process's clock, PostgreSQL
//!   `TIMESTAMPTZ` from the database clock (`now()`), so every job statement that writes a time;
//! - **how a write transaction begins** ([`SqlBackend`]), which is all the account statements
//!   need from a backend.
//!
//! The trait methods that only forward (to a shared helper, or to the backend's own claim, fence
//! or clock) are written once too, by `shared_job_methods!` and `impl_account_store!`.
//!
//! The account tables (users, sessions, keys, audit, usage, failures) take their times from this
//! process on both backends ([`now`]), bound as parameters like any value: that is what lets
//! their statements be shared. Only leases need the one database clock (they fence workers on
//! several replicas against each other within seconds); a session's expiry or an audit entry's
//! time is not hurt by the few milliseconds replicas' clocks differ under NTP.
//!
//! The shared helpers take the connection or open transaction to run on: the backend decides
//! what is locked and fenced, this module only what is read and written. Both dialects write
//! `$1`-style placeholders (SQLite accepts them too), so the statement texts are identical.

mod account_rows;
mod account_store;
mod credentials;
mod glossaries;
mod glossary_rows;
mod job_methods;
mod memory;
mod queries;
mod records;
mod rows;
mod users;

use std::future::Future;

use sqlx::{Pool, Transaction};
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::store::StoreResult;

pub(crate) use account_store::{Accounts, impl_account_store};
pub(crate) use glossaries::{Glossaries, impl_glossary_store};
pub(crate) use job_methods::shared_job_methods;
pub(crate) use memory::{Memories, MemoryDialect, impl_memory_store};
pub(crate) use queries::{FileUpdate, JobScope, Queries};
pub(crate) use rows::{check_new_job, corrupt, too_many_attempts};

/// The few things a backend's database does differently that the shared helpers need to know.
pub(crate) trait Dialect: sqlx::Database {
    /// How the backend's columns hold a point in time (`Send + Unpin` like every value sqlx
    /// fetches).
    type Time: StoredTime + Send + Unpin;

    /// Selects the ids of a user's jobs (`$1`), locking them where the database can lock rows
    /// (a worker's fenced write then waits, and cannot add a blob after they were collected).
    const JOBS_OF_OWNER_TO_DELETE: &'static str;

    /// Rows changed by a statement (sqlx has no driver-independent accessor for it).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// A stored point in time.
pub(crate) trait StoredTime: Sized {
    /// The time `self` stands for; [`StoreError::Corrupt`] naming `column` when it is none.
    fn into_time(self, column: &str) -> Result<OffsetDateTime, StoreError>;

    /// How `time`, already at millisecond precision ([`to_millis`]), is stored.
    fn from_time(time: OffsetDateTime) -> Self;
}

/// What the account statements need from a backend: where to read, and how a write transaction
/// begins there.
pub(crate) trait SqlBackend: Sync {
    /// The backend's database.
    type Db: Dialect;

    /// The pool reads run on.
    fn reader(&self) -> &Pool<Self::Db>;

    /// The pool a write of one statement runs on, outside any transaction.
    fn writer(&self) -> &Pool<Self::Db>;

    /// Begins a write transaction.
    fn begin_write(
        &self,
    ) -> impl Future<Output = StoreResult<Transaction<'static, Self::Db>>> + Send;

    /// Begins a write transaction that may change who is an active administrator: such
    /// transactions never run at the same time, so two of them cannot each demote "one of two"
    /// administrators and leave none.
    fn begin_admin_write(
        &self,
    ) -> impl Future<Output = StoreResult<Transaction<'static, Self::Db>>> + Send;

    /// Runs after a transaction that deleted document text committed: SQLite moves the
    /// overwritten pages out of its write-ahead log (see `SqliteStore`), PostgreSQL does nothing.
    fn after_deletion(&self) -> impl Future<Output = ()> + Send;
}

/// `time` truncated to whole milliseconds: the precision both databases keep, so a time reads
/// back as it was written on either.
pub(crate) fn to_millis(time: OffsetDateTime) -> OffsetDateTime {
    let millis = time.nanosecond() / 1_000_000 * 1_000_000;
    time.replace_nanosecond(millis).unwrap_or(time)
}

/// This process's clock, at the precision stored: the time of every account record.
pub(crate) fn now() -> OffsetDateTime {
    to_millis(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests;
