//! Tradia's durable state: translation jobs, their lease queue and saved segments (in SQLite or
//! PostgreSQL), and the uploaded and produced files (in a blob folder).
//!
//! Why this shape: the service must survive a crash at any moment without asking the model again
//! for finished work, and must run either embedded (one SQLite file under the data folder, nothing
//! to install) or on PostgreSQL behind several replicas. So there is one narrow [`Store`] trait,
//! two implementations with their own migrations (applied at start-up), and one test suite run on
//! both. Only this crate knows SQL; the server holds an `Arc<dyn Store>` from [`connect`].
//!
//! The same store keeps the accounts ([`AccountStore`], which every [`Store`] also is): users and
//! teams, sessions and API keys (by the hash of their secret only), the audit log, usage for
//! quotas and sign-in failures for throttling. Every job has an owner, and the `…_for` job
//! methods take the [`Caller`] and show nobody another user's jobs.
//!
//! Files are not in the database: [`BlobStore`] keeps them in `<data dir>/files`, and the
//! database keeps their [`BlobKey`]s.
//!
//! ## When storage fails
//! A write refused by a full disk is [`StoreError::StorageFull`], one refused by a read-only
//! or failing disk or a lost database connection [`StoreError::StorageUnavailable`] (the blob
//! store's I/O errors say the same through [`BlobError::code`]); nothing of the write is kept,
//! the store stays usable and writes work again as soon as the storage does.
//! [`Store::check_writable`] and [`BlobStore::check_writable`] tell a readiness probe whether a
//! write works now. A damaged SQLite file is refused at opening ([`StoreError::DatabaseDamaged`],
//! which says how to restore a backup); [`maintenance`] makes and restores backups.
//!
//! ## Deleted means gone
//! On SQLite, deleting a job (or a user, or purging) leaves its text in no file of the data
//! folder: `secure_delete` overwrites the deleted rows, and the write-ahead log that still held
//! them is checkpointed and truncated right after (see [`SqliteStore`]). The caller deletes the
//! returned blobs; files no job refers to are found with [`orphan_blobs`].
//!
//! On PostgreSQL a deleted row's bytes stay in its table page, and in the write-ahead log and
//! its archives, until the space is reused: autovacuum (or `VACUUM`) marks the space free and
//! later rows overwrite it, but nothing zeroes it, and `VACUUM FULL` rewrites the table into
//! new files without overwriting the old ones on disk. What PostgreSQL guarantees is that no
//! query sees a deleted row; keeping the text off the disk is the job of the disk's encryption
//! and of the WAL archive's retention.
//!
//! ## A job's life
//! ```
//! # use std::time::Duration;
//! # use tradia_store::*;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = tradia_store::connect(&tradia_store::sqlite_url(dir.path())).await?;
//! let blobs = FsBlobStore::open(dir.path().join("files")).await?;
//!
//! // The signed-in user (the server finds them by their session's or API key's hash).
//! let alice = store.create_user(NewUser::new("alice", Role::User)).await?;
//! let caller = alice.caller();
//!
//! // Upload: stream the file into the blob store, then create the job, owned by the caller.
//! let upload = blobs.put(&mut &b"<p>Bonjour</p>"[..], 50 << 20).await?;
//! let job = store
//!     .create_job_for(&caller, NewJob {
//!         source_lang: None,
//!         target_lang: "en".parse()?,
//!         model: None,
//!         files: vec![NewJobFile {
//!             name: "page.html".into(),
//!             format: Some("html".into()),
//!             input_blob: upload.key,
//!             size: upload.size,
//!         }],
//!     })
//!     .await?;
//!
//! // A worker claims it, saves each segment as it is translated, then the output.
//! let options = ClaimOptions {
//!     worker: "replica-1".into(),
//!     lease_ttl: Duration::from_secs(30),
//!     max_attempts: 10,
//!     max_running_per_owner: 1,
//! };
//! let claimed = store.claim_next_job(&options).await?.expect("a queued job");
//! let lease = &claimed.lease;
//! let extracted = FileExtracted { total: 1, format: None, detected_source_lang: None, title: None };
//! store.set_file_extracted(lease, 0, extracted).await?;
//! let already_done = store.saved_segments(job.id, 0).await?; // empty unless resuming
//! assert!(already_done.is_empty());
//! store
//!     .save_segment(lease, StoredSegment {
//!         file_index: 0,
//!         segment_id: 0,
//!         content: "Hello".into(),
//!         kept_code: None,
//!         kept_message: None,
//!         flags: Vec::new(),
//!     })
//!     .await?;
//! let output = blobs.put_bytes(b"<p>Hello</p>".to_vec()).await?;
//! store.set_file_output(lease, 0, output.key).await?;
//! let done = store.finish_job(lease).await?;
//! assert_eq!(done.status, JobStatus::Done);
//! assert_eq!(store.get_job_for(&caller, job.id).await?.owner, Some(alice.id));
//! assert_eq!((done.progress().done, done.progress().total), (1, 1));
//!
//! // Later: the retention period has passed.
//! let purged = store.purge_expired(Duration::ZERO).await?;
//! for key in &purged.blobs {
//!     blobs.delete(key).await?;
//! }
//! # Ok(())
//! # }
//! ```
//! Meanwhile the worker renews its lease every `lease_ttl / 3` ([`Store::renew_lease`]) and stops
//! when that says the job was cancelled or the lease lost. On shutdown it calls
//! [`Store::requeue_worker_jobs`]; a killed worker's jobs are claimed again once their leases
//! expire, and [`Store::saved_segments`] tells the new worker what not to translate again.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod blob;
pub mod error;
pub mod glossaries;
pub mod maintenance;
pub mod memory;
pub mod model;
pub mod postgres;
pub mod process;
mod sql;
pub mod sqlite;
pub mod store;

use std::sync::Arc;

pub use accounts::AccountStore;
pub use blob::{
    BlobError, BlobKey, BlobReader, BlobStore, FsBlobStore, ListedBlob, StoredBlob, orphan_blobs,
};
pub use error::StoreError;
pub use glossaries::GlossaryStore;
pub use maintenance::{CopyReport, DataLayout, MaintenanceError, backup_sqlite, restore_sqlite};
pub use memory::MemoryStore;
pub use model::{
    ApiKey, ApiKeyId, AuditEntry, AuditId, Caller, ClaimOptions, Claimed, ErrorInfo, FailureCount,
    FailureKey, FileExtracted, Glossary, GlossaryId, GlossaryUpdate, InProgress,
    InvalidMemoryScope, Job, JobFile, JobGuidance, JobId, JobMemory, JobPage, JobStatus, Lease,
    MAX_BRIEF_CHARS, MAX_INSTRUCTIONS_CHARS, MemoryEntry, MemoryOrigin, MemoryOwner, MemoryScope,
    NewApiKey, NewAuditEntry, NewGlossary, NewJob, NewJobFile, NewMemoryEntry, NewSession, NewUser,
    OidcIdentity, Owner, PasswordHash, Progress, QuotaOverrides, RenewOutcome, Role, Session,
    SessionId, StatusCounts, StoredSegment, Team, TeamId, TokenHash, User, UserId, UserState,
    UserUpdate,
};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::{Purged, Store, StoreResult};

/// Opens the database named by `url` and applies its migrations: `sqlite:PATH` (the file and its
/// folder are created if missing) or `postgres://…` / `postgresql://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Arc::new(SqliteStore::connect(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(PgStore::connect(url).await?)),
        _ => Err(StoreError::UnsupportedUrl(url.to_string())),
    }
}

/// The embedded database's URL for a data folder: `sqlite:<data_dir>/tradia.db`.
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite:{}", data_dir.join("tradia.db").display())
}

/// The database file a `sqlite:` URL names; `None` for another scheme or an in-memory database.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    if scheme.as_deref() != Some("sqlite") {
        return None;
    }
    // sqlx names an in-memory database `file:sqlx-in-memory-N`: tell it by the URL.
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let options = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
}

/// `url` with its secrets masked, for logs and `--check-config`: the one redactor of
/// `tradia_core`.
pub use tradia_core::redact_url;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://tradia:s3cr%40t@db.example:5432/tradia?sslmode=require"),
            "postgres://tradia:***@db.example:5432/tradia?sslmode=require"
        );
        assert_eq!(redact_url("postgres://tradia@db/x"), "postgres://tradia@db/x");
        assert_eq!(redact_url("postgres://u:p@w@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact_url("sqlite:./data/tradia.db"), "sqlite:./data/tradia.db");
        assert_eq!(
            redact_url("postgres://db/x?user=a&password=1&sslmode=disable"),
            "postgres://db/x?user=a&password=***&sslmode=disable"
        );
    }

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        let path = |url: &str| sqlite_path(url).map(|p| p.display().to_string());
        assert_eq!(path("sqlite:./data/tradia.db").as_deref(), Some("./data/tradia.db"));
        assert_eq!(path("sqlite:///srv/t.db").as_deref(), Some("/srv/t.db"));
        assert_eq!(path("sqlite::memory:"), None);
        assert_eq!(path("postgres://db/x"), None);
    }

    #[test]
    fn sqlite_url_is_under_the_data_dir() {
        assert_eq!(sqlite_url(std::path::Path::new("./data")), "sqlite:./data/tradia.db");
    }
}
