//! Keeping the SQLite file sound and the store usable: recovering from failed writes, probing
//! the disk, overwriting deleted text, checking for damage and taking backups.
//!
//! ## Storage faults
//! When a write fails on a full disk or an I/O error, SQLite may roll the transaction back by
//! itself. sqlx does not notice: the `ROLLBACK` it sends when the transaction is dropped then
//! fails ("no transaction is active"), its transaction depth stays at one, and every later
//! `BEGIN IMMEDIATE` on that connection failed with "attempted to call begin_with at non-zero
//! transaction depth" until a restart, since the writer pool has a single connection. So every
//! connection returned to a pool is checked ([`release_clean`]): one still inside a transaction
//! is closed, and the pool opens a fresh one, so the store recovers by itself as soon as writes
//! work again. The failed write itself is [`StoreError::StorageFull`] or
//! [`StoreError::StorageUnavailable`] (see [`crate::error`]).
//!
//! ## Deleted means gone
//! `secure_delete` is on, so SQLite overwrites deleted rows (segments, file names, errors) with
//! zeros instead of leaving them in free space; and after a deletion the write-ahead log, which
//! still holds the pages as they were, is checkpointed and truncated (`wal_checkpoint(TRUNCATE)`),
//! in the background right after the deletion answers.
//!
//! ## Damage
//! Opening a database runs `PRAGMA quick_check`: a damaged file is refused with
//! [`StoreError::DatabaseDamaged`], naming the problem and how to restore a backup, instead of
//! starting a service whose every list and upload fails. [`SqliteStore::integrity_check`] is the
//! full check (`tradia check-storage`), [`SqliteStore::backup_into`] a consistent copy taken
//! while serving (`VACUUM INTO`).

use std::path::{Path, PathBuf};

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use tokio::io::AsyncWriteExt;
use tradia_core::BoxFuture;

use super::SqliteStore;
use crate::error::StoreError;
use crate::store::StoreResult;

/// Whether a connection going back to its pool may be used again: not when it is still inside a
/// transaction (see the module documentation, "Storage faults").
pub(super) fn release_clean(
    conn: &mut SqliteConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        // Only a rollback may still be queued, and it lowers the depth: at zero, nothing to do.
        if !conn.is_in_transaction() {
            return Ok(true);
        }
        // The ping queues behind the rollback a dropped transaction sent: once it answers, the
        // depth below is the one that rollback left.
        conn.ping().await?;
        if conn.is_in_transaction() {
            tracing::warn!(
                "a database connection was left inside a failed transaction; it is replaced"
            );
            return Ok(false);
        }
        Ok(true)
    })
}

/// The size of the file [`SqliteStore::check_writable`] writes: about what saving a long
/// segment needs.
const PROBE_FILE_BYTES: usize = 64 << 10;

/// Writes and syncs [`PROBE_FILE_BYTES`] to `path` (the space is really allocated).
async fn write_probe_file(path: &Path) -> std::io::Result<()> {
    let mut file = tokio::fs::File::create(path).await?;
    file.write_all(&[0u8; PROBE_FILE_BYTES]).await?;
    // tokio reports a failed write at the next flush, not at `sync_all`.
    file.flush().await?;
    file.sync_all().await
}

/// The problems `PRAGMA quick_check` or `PRAGMA integrity_check` (`check`) lists; empty when the
/// database is sound.
pub(super) async fn run_check(pool: &SqlitePool, check: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<String> =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {check}"))).fetch_all(pool).await?;
    Ok(if rows.len() == 1 && rows[0] == "ok" { Vec::new() } else { rows })
}

impl SqliteStore {
    /// The database file; `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The full integrity check (`PRAGMA integrity_check`, which reads every page and index;
    /// slower than the quick check run at opening): the problems found, none when the database
    /// is sound.
    pub async fn integrity_check(&self) -> StoreResult<Vec<String>> {
        run_check(&self.pool, "integrity_check").await
    }

    /// Writes a consistent copy of the database to the new file `target` (`VACUUM INTO`: a
    /// read transaction, so the service goes on reading and writing meanwhile). Fails if
    /// `target` exists.
    pub async fn backup_into(&self, target: &Path) -> StoreResult<()> {
        let Some(target) = target.to_str() else {
            return Err(StoreError::Invalid(format!(
                "the backup path {} is not valid UTF-8",
                target.display()
            )));
        };
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// Starts [`SqliteStore::checkpoint`] in the background: the deletion that calls it answers
    /// at once (the server deletes the blobs right after), and the checkpoint follows within
    /// milliseconds, holding the writer meanwhile.
    pub(super) fn checkpoint_soon(&self) {
        if self.path.is_none() {
            return;
        }
        let store = self.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move { store.checkpoint().await });
            }
            Err(_) => tracing::warn!("no async runtime: the WAL checkpoint after a deletion waits"),
        }
    }

    /// Copies the pages the write-ahead log holds into the database file and empties the log,
    /// so that the versions of deleted rows it held are gone. A reader in the middle of a
    /// transaction can keep the checkpoint from finishing: that is logged, and the next one
    /// completes it.
    async fn checkpoint(&self) {
        if self.path.is_none() {
            return;
        }
        let result: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.writer).await;
        match result {
            Ok((0, _, _)) => {}
            Ok((_, log, done)) => {
                tracing::warn!(log, done, "WAL checkpoint after a deletion could not finish")
            }
            Err(err) => tracing::warn!(%err, "WAL checkpoint after a deletion failed"),
        }
    }

    /// Writes a file of [`PROBE_FILE_BYTES`] beside the database and deletes it: the small
    /// probe row alone fits in the space the write-ahead log already holds, so on a full disk
    /// it can succeed while the next real write fails.
    pub(super) async fn probe_disk(&self) -> StoreResult<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut probe = path.clone().into_os_string();
        probe.push("-probe");
        let probe = PathBuf::from(probe);
        let written = write_probe_file(&probe).await;
        let _ = tokio::fs::remove_file(&probe).await;
        written.map_err(|err| match err.kind() {
            std::io::ErrorKind::StorageFull => StoreError::StorageFull(sqlx::Error::Io(err)),
            _ => StoreError::StorageUnavailable(sqlx::Error::Io(err)),
        })
    }
}
