//! The half of the SQL that the SQLite and PostgreSQL stores share.
//!
//! Why this module exists: both backends have the same three tables with the same columns, so
//! reading a job, listing jobs, writing files and segments, and turning rows into the model are
//! the same statements and the same code on both. They are written here once, so a new column is
//! added in one row struct ([`rows`]) and one statement ([`queries`]), not twice.
//!
//! What stays in each backend (`sqlite.rs`, `postgres.rs`) is what truly differs:
//! - **claiming** a job (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL);
//! - **fencing**: the lease check that opens every worker write, and which pool or lock it uses;
//! - **time**: SQLite stores Unix milliseconds from this process's clock, PostgreSQL
//!   `TIMESTAMPTZ` from the database clock (`now()`), so every statement that writes a time.
//!
//! The shared helpers in [`Queries`] take the connection or open transaction to run on: the
//! backend decides what is locked and fenced, this module only what is read and written. Both
//! dialects write `$1`-style placeholders (SQLite accepts them too), so the statement texts are
//! identical.

mod queries;
mod rows;

use time::OffsetDateTime;

use crate::error::StoreError;

pub(crate) use queries::{FileUpdate, Queries};
pub(crate) use rows::{check_new_job, corrupt, too_many_attempts};

/// The few things a backend's database does differently that the shared helpers need to know.
pub(crate) trait Dialect: sqlx::Database {
    /// How the backend's columns hold a point in time (`Send + Unpin` like every value sqlx
    /// fetches).
    type Time: StoredTime + Send + Unpin;

    /// Rows changed by a statement (sqlx has no driver-independent accessor for it).
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// A stored point in time, read back.
pub(crate) trait StoredTime {
    /// The time `self` stands for; [`StoreError::Corrupt`] naming `column` when it is none.
    fn into_time(self, column: &str) -> Result<OffsetDateTime, StoreError>;
}

#[cfg(test)]
mod tests;
