//! Storage errors, with stable codes.
//!
//! Database driver errors never leave the crate as "row not found" or "unique violation": a
//! missing job is [`StoreError::NotFound`], a login already used is [`StoreError::LoginTaken`],
//! decided at the boundary, so the server maps them to HTTP answers without knowing SQL.

use crate::model::{ApiKeyId, JobId, JobStatus, TeamId, UserId};

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
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database could not be reached or refused a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
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
            StoreError::Database(_) => "database_error",
            StoreError::Io(_) => "io_error",
        }
    }

    /// True when the database is unreachable or overloaded, as opposed to a wrong request: the
    /// operation may succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            )
        )
    }
}
