//! Backups and restores of an embedded (SQLite) data folder, and the data folder's layout.
//!
//! Why this module exists: a backup must be consistent while the service runs, and a restore
//! must never silently replace data. A backup is a folder holding `tradia.db` (a `VACUUM INTO`
//! copy: one read transaction, so the service goes on meanwhile) and `files/` with the blobs the
//! copied database refers to (read from the copy, so an upload in flight or a blob deleted since
//! does not make it inconsistent). A restore copies both into a data folder that holds no data,
//! or replaces that data when forced, then opens the result, which runs the integrity check.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`), see [`POSTGRES_BACKUP_GUIDANCE`].

use std::path::{Path, PathBuf};

use crate::blob::{BlobError, BlobKey, BlobStore, FsBlobStore};
use crate::error::StoreError;
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// The database file's name in a data folder and in a backup.
pub const DATABASE_FILE: &str = "tradia.db";

/// The blob folder's name in a data folder and in a backup.
pub const FILES_DIR: &str = "files";

/// What to tell an operator who asks to back up or restore a PostgreSQL store.
pub const POSTGRES_BACKUP_GUIDANCE: &str = "\
The database is PostgreSQL: back it up with its own tools, which are consistent while the service runs:
  pg_dump --format=custom --file=tradia.dump \"$DATABASE_URL\"
and restore into an empty database with:
  pg_restore --clean --if-exists --no-owner --dbname=\"$DATABASE_URL\" tradia.dump
Copy the files folder (TRADIA_DATA_DIR/files) alongside, after the dump: it holds the uploaded and
produced files the database refers to.";

/// Where an embedded store keeps its data: the database file and the blob folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLayout {
    /// The SQLite database file.
    pub database: PathBuf,
    /// The blob folder.
    pub files: PathBuf,
}

impl DataLayout {
    /// The layout of a data folder (or a backup): `DIR/tradia.db` and `DIR/files`.
    pub fn of_dir(dir: &Path) -> Self {
        DataLayout { database: dir.join(DATABASE_FILE), files: dir.join(FILES_DIR) }
    }

    /// The database file and its `-wal` and `-shm` companions.
    fn database_files(&self) -> [PathBuf; 3] {
        let with = |suffix: &str| {
            let mut name = self.database.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        [self.database.clone(), with("-wal"), with("-shm")]
    }

    /// Whether this layout holds data: a database file, or any blob.
    async fn holds_data(&self) -> Result<bool, MaintenanceError> {
        if tokio::fs::try_exists(&self.database).await.map_err(io(&self.database))? {
            return Ok(true);
        }
        if !tokio::fs::try_exists(&self.files).await.map_err(io(&self.files))? {
            return Ok(false);
        }
        Ok(!FsBlobStore::attach(&self.files).list().await?.is_empty())
    }
}

/// Why a backup or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// The store refused (a damaged database, a full disk…).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing a blob failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The target already holds data: a backup needs a new or empty folder, a restore a data
    /// folder without data unless forced.
    #[error("{0} is not empty: {1}")]
    NotEmpty(PathBuf, &'static str),
    /// The folder is not a backup (no database file in it).
    #[error("{0} is not a Tradia backup: it has no {DATABASE_FILE}")]
    NotABackup(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MaintenanceError + '_ {
    move |source| MaintenanceError::Io { path: path.to_path_buf(), source }
}

/// What a backup or a restore copied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopyReport {
    /// Blob files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Blobs the database refers to that were not found (deleted after the database was copied,
    /// or lost before): their jobs will fail to download them.
    pub missing: Vec<BlobKey>,
}

/// Copies the blobs `store` refers to from the folder `from` to the new folder `to`.
async fn copy_referenced(
    store: &SqliteStore,
    from: &Path,
    to: &Path,
) -> Result<CopyReport, MaintenanceError> {
    tokio::fs::create_dir_all(to).await.map_err(io(to))?;
    let mut report = CopyReport::default();
    for key in store.referenced_blobs().await? {
        let source = from.join(key.as_str());
        match tokio::fs::copy(&source, to.join(key.as_str())).await {
            Ok(bytes) => {
                report.files += 1;
                report.bytes += bytes;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => report.missing.push(key),
            Err(err) => return Err(io(&source)(err)),
        }
    }
    Ok(report)
}

/// Backs up the running `store`, whose blobs are in `files`, into the folder `target` (created;
/// it must not exist or be empty). Consistent while the service reads and writes.
pub async fn backup_sqlite(
    store: &SqliteStore,
    files: &Path,
    target: &Path,
) -> Result<CopyReport, MaintenanceError> {
    if tokio::fs::try_exists(target).await.map_err(io(target))? {
        let mut entries = tokio::fs::read_dir(target).await.map_err(io(target))?;
        if entries.next_entry().await.map_err(io(target))?.is_some() {
            return Err(MaintenanceError::NotEmpty(
                target.to_path_buf(),
                "a backup needs a new or empty folder",
            ));
        }
    }
    tokio::fs::create_dir_all(target).await.map_err(io(target))?;
    let backup = DataLayout::of_dir(target);
    store.backup_into(&backup.database).await?;
    // The blobs the copy refers to, read from the copy itself (which opening also checks).
    let copy = SqliteStore::open(&backup.database).await?;
    let report = copy_referenced(&copy, files, &backup.files).await;
    copy.close().await;
    report
}

/// Restores the backup in the folder `backup` into `layout`. Refuses when `layout` already
/// holds data unless `force`, which first deletes its database files and blob folder. The
/// restored database is opened (integrity check, migrations) before this returns. The service
/// must not be running on `layout`.
pub async fn restore_sqlite(
    backup: &Path,
    layout: &DataLayout,
    force: bool,
) -> Result<CopyReport, MaintenanceError> {
    let source = DataLayout::of_dir(backup);
    if !tokio::fs::try_exists(&source.database).await.map_err(io(&source.database))? {
        return Err(MaintenanceError::NotABackup(backup.to_path_buf()));
    }
    if layout.holds_data().await? {
        if !force {
            return Err(MaintenanceError::NotEmpty(
                layout.database.parent().unwrap_or(Path::new(".")).to_path_buf(),
                "it already holds a database or files (restore with --force to replace them)",
            ));
        }
        for file in layout.database_files() {
            match tokio::fs::remove_file(&file).await {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(io(&file)(err)),
            }
        }
        match tokio::fs::remove_dir_all(&layout.files).await {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(&layout.files)(err)),
        }
    }
    if let Some(parent) = layout.database.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io(parent))?;
    }
    tokio::fs::copy(&source.database, &layout.database).await.map_err(io(&source.database))?;
    let restored = SqliteStore::open(&layout.database).await?;
    let report = copy_referenced(&restored, &source.files, &layout.files).await;
    restored.close().await;
    report
}
