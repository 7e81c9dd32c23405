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

/// The embedded database's URL for a data folder: `sqlite:<data_dir>/tradia.db`.
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite:{}", data_dir.join("tradia.db").display())
}

/// `url` with its password (in the user part or a `password=` parameter) replaced by `***`, for
/// logs and `--check-config`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

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
    fn sqlite_url_is_under_the_data_dir() {
        assert_eq!(sqlite_url(std::path::Path::new("./data")), "sqlite:./data/tradia.db");
    }
}
