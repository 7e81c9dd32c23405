//! Tradia's durable state: translation jobs, their lease queue and saved segments (in SQLite or
//! PostgreSQL), and the uploaded and produced files (in a blob folder).
//!
//! Why this shape: the service must survive a crash at any moment without asking the model again
//! for finished work, and must run either embedded (one SQLite file under the data folder, nothing
//! to install) or on PostgreSQL behind several replicas. So there is one narrow [`Store`] trait,
//! two implementations with their own migrations (applied at start-up), and one test suite run on
//! both. Only this crate knows SQL; the server holds an `Arc<dyn Store>` from [`connect`].
//!
//! Files are not in the database: [`BlobStore`] keeps them in `<data dir>/files`, and the
//! database keeps their [`BlobKey`]s.

#![forbid(unsafe_code)]

pub mod blob;
mod convert;
pub mod error;
pub mod model;
pub mod postgres;
pub mod sqlite;
pub mod store;

use std::sync::Arc;

pub use blob::{BlobError, BlobKey, BlobReader, BlobStore, FsBlobStore, StoredBlob};
pub use error::StoreError;
pub use model::{
    ClaimOptions, Claimed, ErrorInfo, FileExtracted, Job, JobFile, JobId, JobPage, JobStatus,
    Lease, NewJob, NewJobFile, Progress, RenewOutcome, StatusCounts, StoredSegment,
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
