//! Storage errors, with stable codes.
//!
//! Database driver errors never leave the crate as "row not found" or "unique violation": a
//! missing job is [`StoreError::NotFound`], a login already used is [`StoreError::LoginTaken`],
//! decided at the boundary, so the server maps them to HTTP answers without knowing SQL.
//!
//! Storage faults are classified the same way (see [`classify`]): a full disk is
//! [`StoreError::StorageFull`], a read-only file, an I/O error or a lost database connection
//! [`StoreError::StorageUnavailable`], a damaged SQLite file [`StoreError::DatabaseDamaged`], so
//! the server can answer `storage_full` / `storage_unavailable` and its probes can say why.

use crate::model::{ApiKeyId, GlossaryId, JobId, JobStatus, TeamId, UserId};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No job with this identifier (or none the caller may see: the two are not told apart).
    #[error("job {0} not found")]
    NotFound(JobId),
    /// No user with this identifier.
    #[error("user {0} not found")]
    UserNotFound(UserId),
    /// No team with this identifier.
    #[error("team {0} not found")]
    TeamNotFound(TeamId),
    /// No API key with this identifier (or none of the caller's).
    #[error("API key {0} not found")]
    ApiKeyNotFound(ApiKeyId),
    /// No glossary with this identifier (or none the caller may read: the two are not told
    /// apart).
    #[error("glossary {0} not found")]
    GlossaryNotFound(GlossaryId),
    /// Another user already has this login (whatever its letter case).
    #[error("the login `{0}` is already taken")]
    LoginTaken(String),
    /// Another user already signs in with this OpenID Connect identity.
    #[error("this OpenID Connect identity already belongs to another user")]
    IdentityTaken,
    /// Another team already has this name (whatever its letter case).
    #[error("the team name `{0}` is already taken")]
    TeamNameTaken(String),
    /// The change would leave no active administrator: demote, disable or delete another one
    /// only after naming a new one.
    #[error("the last active administrator cannot be demoted, disabled or deleted")]
    LastAdmin,
    /// The job has no file with this index.
    #[error("job {job} has no file #{index}")]
    FileNotFound {
        /// The job.
        job: JobId,
        /// The missing file index.
        index: u32,
    },
    /// The caller no longer holds the job's lease (expired and taken over, cancelled, deleted or
    /// requeued): its write was refused.
    #[error("the lease on job {0} is no longer held by this worker")]
    LeaseLost(JobId),
    /// The operation does not apply to a job in this status.
    #[error("job {job} is {status}: {action} is not possible")]
    WrongStatus {
        /// The job.
        job: JobId,
        /// Its status.
        status: JobStatus,
        /// What was attempted.
        action: &'static str,
    },
    /// The request itself is invalid (a job without files, a negative size…).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The database URL's scheme is neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL `{0}`: expected sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// A stored value could not be read back (edited by hand, or written by a newer version).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// Applying the migrations at start-up failed.
    #[error("database migration failed: {0}")]
    Migration(sqlx::migrate::MigrateError),
    /// The storage has no space left (SQLite `SQLITE_FULL`, PostgreSQL `53100 disk_full`): the
    /// write was refused and nothing of it kept; writes work again once space is freed.
    #[error("the storage is full: {0}")]
    StorageFull(#[source] sqlx::Error),
    /// The storage cannot be written or reached now: a read-only file or file system, an I/O
    /// error, a lost or refused database connection (or none free in time). May succeed later.
    #[error("the storage is unavailable: {0}")]
    StorageUnavailable(#[source] sqlx::Error),
    /// The SQLite database file is damaged (a failed integrity check, `SQLITE_CORRUPT`, not a
    /// database): the service must not run on it.
    #[error(
        "the database is damaged: {0}. Stop the service, move the database file (and its -wal \
         and -shm files) aside, and restore the last backup (`tradia restore BACKUP_DIR`)"
    )]
    DatabaseDamaged(String),
    /// The database refused a statement for another reason.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Creating the data folder failed.
    #[error("cannot prepare the database location: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// A stable snake_case code for logs and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound(_) => "job_not_found",
            StoreError::UserNotFound(_) => "user_not_found",
            StoreError::TeamNotFound(_) => "team_not_found",
            StoreError::ApiKeyNotFound(_) => "api_key_not_found",
            StoreError::GlossaryNotFound(_) => "glossary_not_found",
            StoreError::LoginTaken(_) => "login_taken",
            StoreError::IdentityTaken => "identity_taken",
            StoreError::TeamNameTaken(_) => "team_name_taken",
            StoreError::LastAdmin => "last_admin",
            StoreError::FileNotFound { .. } => "file_not_found",
            StoreError::LeaseLost(_) => "lease_lost",
            StoreError::WrongStatus { .. } => "wrong_status",
            StoreError::Invalid(_) => "invalid_request",
            StoreError::UnsupportedUrl(_) => "unsupported_database_url",
            StoreError::Corrupt(_) => "corrupt_data",
            StoreError::Migration(_) => "migration_failed",
            StoreError::StorageFull(_) => "storage_full",
            StoreError::StorageUnavailable(_) => "storage_unavailable",
            StoreError::DatabaseDamaged(_) => "database_damaged",
            StoreError::Database(_) => "database_error",
            StoreError::Io(_) => "io_error",
        }
    }

    /// True when the database is unreachable or overloaded, as opposed to a wrong request: the
    /// operation may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::StorageFull(_)
                | StoreError::StorageUnavailable(_)
                | StoreError::Database(
                    sqlx::Error::Io(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                )
        )
    }
}

/// The SQLite primary result codes this module tells apart (`sqlite3.h`; an extended code keeps
/// its primary code in the low byte).
mod sqlite_code {
    pub(super) const READONLY: i64 = 8;
    pub(super) const IOERR: i64 = 10;
    pub(super) const CORRUPT: i64 = 11;
    pub(super) const FULL: i64 = 13;
    pub(super) const CANTOPEN: i64 = 14;
    pub(super) const NOTADB: i64 = 26;
}

/// What kind of storage fault a driver error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Full,
    Unavailable,
    Damaged,
    Other,
}

/// Classifies a database error reported by SQLite (a numeric result code) or PostgreSQL (a
/// SQLSTATE): both drivers report their code as text, and the two never overlap in shape.
fn fault_of_code(code: &str) -> Fault {
    if let Ok(number) = code.parse::<i64>()
        && code.len() < 5
    {
        return match number & 0xff {
            sqlite_code::FULL => Fault::Full,
            sqlite_code::READONLY | sqlite_code::IOERR | sqlite_code::CANTOPEN => {
                Fault::Unavailable
            }
            sqlite_code::CORRUPT | sqlite_code::NOTADB => Fault::Damaged,
            _ => Fault::Other,
        };
    }
    match code {
        // disk_full.
        "53100" => Fault::Full,
        // insufficient_resources, out_of_memory, too_many_connections; read-only transaction (a
        // standby); system and I/O errors; the server shutting down or not yet accepting.
        "53000" | "53200" | "53300" | "25006" | "57P01" | "57P02" | "57P03" => Fault::Unavailable,
        _ if code.starts_with("08") || code.starts_with("58") => Fault::Unavailable,
        _ => Fault::Other,
    }
}

/// The typed error for a driver error: storage faults get their own variants, everything else is
/// [`StoreError::Database`].
pub fn classify(err: sqlx::Error) -> StoreError {
    let fault = match &err {
        sqlx::Error::Database(db) => db.code().map_or(Fault::Other, |code| fault_of_code(&code)),
        // A database that cannot be reached shows as the pool's wait for a connection timing
        // out (its connection attempts keep failing meanwhile).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::PoolTimedOut => Fault::Unavailable,
        _ => Fault::Other,
    };
    match fault {
        Fault::Full => StoreError::StorageFull(err),
        Fault::Unavailable => StoreError::StorageUnavailable(err),
        Fault::Damaged => StoreError::DatabaseDamaged(err.to_string()),
        Fault::Other => StoreError::Database(err),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        classify(err)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    /// A migration that failed on a storage fault is that fault (a full disk at start-up says
    /// so), any other failure [`StoreError::Migration`].
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError;
        match err {
            MigrateError::Execute(inner) => match classify(inner) {
                StoreError::Database(inner) => StoreError::Migration(MigrateError::Execute(inner)),
                fault => fault,
            },
            MigrateError::ExecuteMigration(inner, version) => match classify(inner) {
                StoreError::Database(inner) => {
                    StoreError::Migration(MigrateError::ExecuteMigration(inner, version))
                }
                fault => fault,
            },
            other => StoreError::Migration(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_codes_are_classified_by_their_primary_code() {
        assert_eq!(fault_of_code("13"), Fault::Full);
        assert_eq!(fault_of_code("8"), Fault::Unavailable);
        // SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC.
        for code in ["1032", "778", "1034"] {
            assert_eq!(fault_of_code(code), Fault::Unavailable, "{code}");
        }
        // SQLITE_CORRUPT, SQLITE_NOTADB.
        assert_eq!(fault_of_code("11"), Fault::Damaged);
        assert_eq!(fault_of_code("26"), Fault::Damaged);
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY.
        assert_eq!(fault_of_code("2067"), Fault::Other);
        assert_eq!(fault_of_code("5"), Fault::Other);
    }

    #[test]
    fn postgres_sqlstates_are_classified() {
        assert_eq!(fault_of_code("53100"), Fault::Full);
        for code in ["08006", "08001", "58030", "57P01", "25006", "53300"] {
            assert_eq!(fault_of_code(code), Fault::Unavailable, "{code}");
        }
        // unique_violation, foreign_key_violation, serialization_failure.
        for code in ["23505", "23503", "40001"] {
            assert_eq!(fault_of_code(code), Fault::Other, "{code}");
        }
    }

    #[test]
    fn driver_io_errors_are_unavailable_storage() {
        let err = classify(sqlx::Error::Io(std::io::Error::other("connection reset")));
        assert_eq!(err.code(), "storage_unavailable");
        assert!(err.is_transient());
        assert_eq!(classify(sqlx::Error::PoolTimedOut).code(), "storage_unavailable");
        assert_eq!(classify(sqlx::Error::RowNotFound).code(), "database_error");
    }
}
