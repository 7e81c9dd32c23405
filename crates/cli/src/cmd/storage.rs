//! `tradia backup`, `restore`, `purge` and `check-storage`: looking after the data folder.
//!
//! Why these exist: a damaged database, a lost disk or files left without a job must be dealt
//! with by an operator without SQL. Each command finds the storage as `tradia serve` does
//! (`TRADIA_DATA_DIR`, `DATABASE_URL`) and leaves the work to `tradia_store` (its `maintenance`
//! module); this file only reports. Backups and restores of the embedded (SQLite) store are
//! done here; for PostgreSQL the commands print how to use `pg_dump` instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use clap::Args;
use tradia_store::maintenance::POSTGRES_BACKUP_GUIDANCE;
use tradia_store::{BlobStore, DataLayout, FsBlobStore, SqliteStore, Store};

use crate::Outcome;

/// Where the storage is: the same options as `tradia serve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StorageArgs {
    /// Folder holding the SQLite database and the uploaded and produced files.
    #[arg(long, env = "TRADIA_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: SQLite file in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

/// `tradia backup` options.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Folder to write the backup to (created; it must be new or empty).
    dir: PathBuf,
}

/// `tradia restore` options.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Folder holding a backup made by `tradia backup`.
    dir: PathBuf,
    /// Replace the database and files the data folder already holds.
    #[arg(long)]
    force: bool,
}

/// `tradia purge` options.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// List the files that would be deleted, and delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep files younger than this (minutes): an upload whose job is being created.
    #[arg(long, default_value_t = 60)]
    min_age_minutes: u64,
}

/// `tradia check-storage` options.
#[derive(Debug, Args)]
pub(crate) struct CheckStorageArgs {
    #[command(flatten)]
    storage: StorageArgs,
}

/// The storage the options name.
enum Location {
    /// An embedded database file, and the blob folder.
    Sqlite { layout: DataLayout },
    /// A PostgreSQL database (its URL), and the blob folder.
    Postgres { url: String, files: PathBuf },
}

impl StorageArgs {
    fn url(&self) -> String {
        match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_string(),
            _ => tradia_store::sqlite_url(&self.data_dir),
        }
    }

    fn location(&self) -> Result<Location, String> {
        let url = self.url();
        let files = DataLayout::of_dir(&self.data_dir).files;
        if let Some(database) = tradia_store::sqlite_path(&url) {
            return Ok(Location::Sqlite { layout: DataLayout { database, files } });
        }
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") => Ok(Location::Postgres { url, files }),
            _ => Err(format!(
                "unsupported database URL `{}`: expected sqlite:PATH or postgres://…",
                tradia_store::redact_url(&url)
            )),
        }
    }
}

/// Runs `work` on a fresh runtime, printing its error.
fn run_async(work: impl std::future::Future<Output = Result<Outcome, String>>) -> Outcome {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Outcome::Failed;
        }
    };
    match runtime.block_on(work) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("error: {error}");
            Outcome::Failed
        }
    }
}

/// Opens an existing SQLite database (opening runs the quick integrity check).
async fn open_sqlite(database: &Path) -> Result<SqliteStore, String> {
    if !database.is_file() {
        return Err(format!("no database at {} (check TRADIA_DATA_DIR)", database.display()));
    }
    SqliteStore::open(database).await.map_err(|e| e.to_string())
}

fn size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// `tradia backup DIR`.
pub(crate) fn backup(args: BackupArgs) -> Outcome {
    run_async(async move {
        let layout = match args.storage.location()? {
            Location::Sqlite { layout } => layout,
            Location::Postgres { .. } => {
                eprintln!("{POSTGRES_BACKUP_GUIDANCE}");
                return Ok(Outcome::Failed);
            }
        };
        let store = open_sqlite(&layout.database).await?;
        let report = tradia_store::backup_sqlite(&store, &layout.files, &args.dir).await;
        store.close().await;
        let report = report.map_err(|e| e.to_string())?;
        println!(
            "backed up {} and {} files ({}) to {}",
            layout.database.display(),
            report.files,
            size(report.bytes),
            args.dir.display()
        );
        for key in &report.missing {
            eprintln!("warning: file {key} was not found (its job was deleted meanwhile?)");
        }
        Ok(Outcome::Success)
    })
}

/// `tradia restore DIR [--force]`.
pub(crate) fn restore(args: RestoreArgs) -> Outcome {
    run_async(async move {
        let layout = match args.storage.location()? {
            Location::Sqlite { layout } => layout,
            Location::Postgres { .. } => {
                eprintln!("{POSTGRES_BACKUP_GUIDANCE}");
                return Ok(Outcome::Failed);
            }
        };
        let report = tradia_store::restore_sqlite(&args.dir, &layout, args.force)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "restored {} and {} files ({}) from {}",
            layout.database.display(),
            report.files,
            size(report.bytes),
            args.dir.display()
        );
        for key in &report.missing {
            eprintln!("warning: file {key} is not in the backup: its job cannot be downloaded");
        }
        Ok(Outcome::Success)
    })
}

/// What [`open_storage`] opened.
struct Opened {
    /// The store, whatever its backend.
    store: Arc<dyn Store>,
    /// The same store when it is SQLite (for its integrity check).
    sqlite: Option<SqliteStore>,
    /// The blob folder, as it is: a running service's uploads in flight are left alone.
    blobs: FsBlobStore,
}

/// Connects to the storage the options name.
async fn open_storage(location: &Location) -> Result<Opened, String> {
    match location {
        Location::Sqlite { layout } => {
            let sqlite = open_sqlite(&layout.database).await?;
            Ok(Opened {
                store: Arc::new(sqlite.clone()),
                sqlite: Some(sqlite),
                blobs: FsBlobStore::attach(&layout.files),
            })
        }
        Location::Postgres { url, files } => Ok(Opened {
            store: tradia_store::connect(url).await.map_err(|e| e.to_string())?,
            sqlite: None,
            blobs: FsBlobStore::attach(files),
        }),
    }
}

/// `tradia purge [--dry-run]`: deletes the files no job refers to.
pub(crate) fn purge(args: PurgeArgs) -> Outcome {
    run_async(async move {
        let location = args.storage.location()?;
        let Opened { store, blobs, .. } = open_storage(&location).await?;
        // Listed before the references are read (see `orphan_blobs`).
        let listed = blobs.list().await.map_err(|e| e.to_string())?;
        let referenced = store.referenced_blobs().await.map_err(|e| e.to_string())?;
        let min_age = Duration::from_secs(args.min_age_minutes.saturating_mul(60));
        let orphans = tradia_store::orphan_blobs(listed, &referenced, min_age, SystemTime::now());
        let mut bytes = 0;
        for blob in &orphans {
            bytes += blob.size;
            if args.dry_run {
                println!("would delete {} ({} bytes)", blob.key, blob.size);
            } else {
                blobs.delete(&blob.key).await.map_err(|e| e.to_string())?;
                println!("deleted {} ({} bytes)", blob.key, blob.size);
            }
        }
        let verb = if args.dry_run { "would delete" } else { "deleted" };
        println!("{verb} {} files without a job ({})", orphans.len(), size(bytes));
        store.close().await;
        Ok(Outcome::Success)
    })
}

/// `tradia check-storage`: the full integrity check, a test write, and the files.
pub(crate) fn check_storage(args: CheckStorageArgs) -> Outcome {
    run_async(async move {
        let location = args.storage.location()?;
        let mut healthy = true;
        let Opened { store, sqlite, blobs } = open_storage(&location).await?;
        if let Some(sqlite) = &sqlite {
            let path = sqlite.path().map(|p| p.display().to_string()).unwrap_or_default();
            println!("database: sqlite {path}");
            let problems = sqlite.integrity_check().await.map_err(|e| e.to_string())?;
            if problems.is_empty() {
                println!("integrity: ok");
            } else {
                healthy = false;
                println!("integrity: DAMAGED");
                for problem in &problems {
                    println!("  {problem}");
                }
                eprintln!(
                    "error: the database is damaged: stop the service and restore the last \
                     backup (`tradia restore BACKUP_DIR --force`)"
                );
            }
        } else {
            let url = match &location {
                Location::Postgres { url, .. } => tradia_store::redact_url(url),
                Location::Sqlite { layout } => layout.database.display().to_string(),
            };
            println!("database: {} {url}", store.backend());
            store.ping().await.map_err(|e| e.to_string())?;
            println!("integrity: left to PostgreSQL (its `amcheck` extension checks in full)");
        }
        match store.check_writable().await {
            Ok(()) => println!("database writable: ok"),
            Err(error) => {
                healthy = false;
                println!("database writable: NO ({}: {error})", error.code());
            }
        }
        match blobs.check_writable().await {
            Ok(()) => println!("files writable: ok"),
            Err(error) => {
                healthy = false;
                println!("files writable: NO ({}: {error})", error.code());
            }
        }
        let listed = blobs.list().await.map_err(|e| e.to_string())?;
        let referenced = store.referenced_blobs().await.map_err(|e| e.to_string())?;
        let present: std::collections::HashSet<_> = listed.iter().map(|b| &b.key).collect();
        let missing: Vec<_> = referenced.iter().filter(|k| !present.contains(k)).collect();
        let orphans = tradia_store::orphan_blobs(
            listed.clone(),
            &referenced,
            Duration::ZERO,
            SystemTime::now(),
        );
        let bytes: u64 = listed.iter().map(|b| b.size).sum();
        println!(
            "files: {} ({}), {} missing, {} without a job (`tradia purge` deletes them)",
            listed.len(),
            size(bytes),
            missing.len(),
            orphans.len()
        );
        for key in &missing {
            healthy = false;
            println!("  missing: {key}");
        }
        store.close().await;
        Ok(if healthy { Outcome::Success } else { Outcome::Failed })
    })
}
