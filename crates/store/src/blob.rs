//! Blob storage: uploaded and produced files, kept out of the database.
//!
//! Uploads are streamed in with a byte limit (never buffered whole), written to a temporary file
//! and renamed into place, so a reader never sees half a file and a failed or oversized upload
//! leaves nothing behind. Keys are generated here and validated on the way back in, so a key read
//! from the database (or forged) can never name a path outside the blob folder.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tradia_core::BoxFuture;
use uuid::Uuid;

/// The name of a stored blob: 1 to 64 ASCII letters, digits, `-` or `_` (no separator, no dot).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlobKey(String);

impl BlobKey {
    /// A fresh random key (a UUID v7, so keys sort by creation time).
    pub fn generate() -> Self {
        BlobKey(Uuid::now_v7().simple().to_string())
    }

    /// Validates a key read from outside (database, request).
    pub fn parse(key: &str) -> Result<Self, BlobError> {
        let valid = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(BlobKey(key.to_string()))
        } else {
            Err(BlobError::InvalidKey(key.to_string()))
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = BlobError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        BlobKey::parse(&value)
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> String {
        key.0
    }
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The data went over the byte limit; nothing was kept.
    #[error("file too large: the limit is {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The key is not a valid blob key.
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    /// No blob with this key.
    #[error("blob {0} not found")]
    NotFound(BlobKey),
    /// Reading the incoming data failed (the client went away, a multipart error…); nothing was
    /// kept.
    #[error("reading the uploaded data failed: {0}")]
    Source(std::io::Error),
    /// The file system refused an operation: [`BlobError::code`] says `storage_full` when it
    /// has no space left, `storage_unavailable` when it is read-only or not writable.
    #[error("blob storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl BlobError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::TooLarge { .. } => "too_large",
            BlobError::InvalidKey(_) => "invalid_blob_key",
            BlobError::NotFound(_) => "blob_not_found",
            BlobError::Source(_) => "upload_read_failed",
            BlobError::Io(err) if err.kind() == std::io::ErrorKind::StorageFull => "storage_full",
            BlobError::Io(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                "storage_unavailable"
            }
            BlobError::Io(_) => "blob_io_error",
        }
    }
}

/// A blob just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its key.
    pub key: BlobKey,
    /// Its size in bytes.
    pub size: u64,
}

/// A blob found by [`BlobStore::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    /// Its key.
    pub key: BlobKey,
    /// Its size in bytes.
    pub size: u64,
    /// When it was written.
    pub modified: SystemTime,
}

/// The blobs of `listed` that no job refers to (`referenced`, from
/// [`Store::referenced_blobs`](crate::Store::referenced_blobs)) and that are older than
/// `min_age` at `now`: what `tradia purge` deletes.
///
/// List the blobs *before* reading the references: an upload writes its blob first and creates
/// its job after, so a blob listed just before its job appeared looks unreferenced. `min_age`
/// (an hour is plenty) leaves such uploads alone.
pub fn orphan_blobs(
    listed: Vec<ListedBlob>,
    referenced: &[BlobKey],
    min_age: Duration,
    now: SystemTime,
) -> Vec<ListedBlob> {
    let referenced: HashSet<&BlobKey> = referenced.iter().collect();
    listed
        .into_iter()
        .filter(|blob| !referenced.contains(&blob.key))
        .filter(|blob| now.duration_since(blob.modified).is_ok_and(|age| age >= min_age))
        .collect()
}

/// A blob opened for streaming.
pub struct BlobReader {
    /// The bytes.
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    /// Size in bytes.
    pub size: u64,
}

impl fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobReader").field("size", &self.size).finish_non_exhaustive()
    }
}

/// Where files live.
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `reader` into a new blob, failing with [`BlobError::TooLarge`] as soon as more than
    /// `limit` bytes arrive. On any failure nothing is kept.
    fn put<'a>(
        &'a self,
        reader: &'a mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> BoxFuture<'a, Result<StoredBlob, BlobError>>;

    /// Stores bytes already in memory (produced files).
    fn put_bytes(&self, bytes: Vec<u8>) -> BoxFuture<'_, Result<StoredBlob, BlobError>> {
        Box::pin(async move {
            let mut cursor = std::io::Cursor::new(bytes);
            self.put(&mut cursor, u64::MAX).await
        })
    }

    /// Opens a blob for streaming.
    fn open<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<BlobReader, BlobError>>;

    /// Reads a whole blob into memory.
    fn read<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<Vec<u8>, BlobError>> {
        Box::pin(async move {
            let mut blob = self.open(key).await?;
            let mut out = Vec::with_capacity(usize::try_from(blob.size).unwrap_or(0));
            blob.reader.read_to_end(&mut out).await?;
            Ok(out)
        })
    }

    /// The file holding a blob, when blobs are files on this machine: readers that need a file
    /// (archive extraction streaming untouched entries) use it instead of a copy. `None` for
    /// stores that are not local files.
    fn local_path(&self, key: &BlobKey) -> Option<PathBuf> {
        let _ = key;
        None
    }

    /// Deletes a blob; `false` if it did not exist.
    fn delete<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<bool, BlobError>>;

    /// Every stored blob, in key order (uploads still being written are not blobs yet).
    fn list(&self) -> BoxFuture<'_, Result<Vec<ListedBlob>, BlobError>>;

    /// Checks that a write works now (readiness): writes and deletes a 64 KiB blob (a one-byte
    /// one can fit in the last free block of a full disk).
    fn check_writable(&self) -> BoxFuture<'_, Result<(), BlobError>> {
        Box::pin(async move {
            let probe = self.put_bytes(vec![0; 64 << 10]).await?;
            self.delete(&probe.key).await?;
            Ok(())
        })
    }
}

/// Age after which a temporary file of a process not known to be dead (another host's, or one
/// named before temporary names carried their process) is removed anyway: no upload lasts that
/// long.
pub const STALE_TMP_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// True for a temporary file [`FsBlobStore::open`] may remove.
async fn is_stale_tmp(entry: &tokio::fs::DirEntry) -> bool {
    let name = entry.file_name();
    if crate::process::holder_is_dead(&name.to_string_lossy()) {
        return true;
    }
    let modified = entry.metadata().await.and_then(|m| m.modified());
    modified.is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TMP_AGE))
}

/// Blobs as files in one folder (`<data dir>/files`), one file per key.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating it if needed) the folder `root`, and removes temporary files left by an
    /// interrupted write: those of a process of this host that no longer exists, and any older
    /// than [`STALE_TMP_AGE`]. Temporary files are named `host:pid:key.part` (see
    /// [`crate::process`]), so a second process opening the same folder (a replica sharing it,
    /// or a start that fails later) never removes an upload another process is writing.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        let tmp = root.join(".tmp");
        tokio::fs::create_dir_all(&tmp).await?;
        let mut entries = tokio::fs::read_dir(&tmp).await?;
        while let Some(entry) = entries.next_entry().await? {
            if !is_stale_tmp(&entry).await {
                continue;
            }
            if let Err(err) = tokio::fs::remove_file(entry.path()).await {
                tracing::warn!(path = %entry.path().display(), %err, "cannot remove stale temporary blob");
            }
        }
        Ok(FsBlobStore { root, tmp })
    }

    /// The blob folder `root` as it is, without creating it or touching its temporary files:
    /// for tools (`tradia purge`, backups) that run beside a service whose uploads are in
    /// flight.
    pub fn attach(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        FsBlobStore { tmp: root.join(".tmp"), root }
    }

    /// The folder blobs are kept in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        // BlobKey only holds [A-Za-z0-9_-]: the path stays inside `root`.
        self.root.join(key.as_str())
    }

    async fn write_tmp(
        &self,
        tmp_path: &Path,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> Result<u64, BlobError> {
        let mut file = tokio::fs::File::create(tmp_path).await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut size: u64 = 0;
        loop {
            let n = reader.read(&mut buf).await.map_err(BlobError::Source)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > limit {
                return Err(BlobError::TooLarge { limit });
            }
            file.write_all(&buf[..n]).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(size)
    }
}

impl BlobStore for FsBlobStore {
    fn put<'a>(
        &'a self,
        reader: &'a mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> BoxFuture<'a, Result<StoredBlob, BlobError>> {
        Box::pin(async move {
            let key = BlobKey::generate();
            let tmp_path = self.tmp.join(format!("{}:{key}.part", crate::process::holder_prefix()));
            match self.write_tmp(&tmp_path, reader, limit).await {
                Ok(size) => {
                    if let Err(err) = tokio::fs::rename(&tmp_path, self.path(&key)).await {
                        let _ = tokio::fs::remove_file(&tmp_path).await;
                        return Err(err.into());
                    }
                    Ok(StoredBlob { key, size })
                }
                Err(err) => {
                    let _ = tokio::fs::remove_file(&tmp_path).await;
                    Err(err)
                }
            }
        })
    }

    fn open<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<BlobReader, BlobError>> {
        Box::pin(async move {
            let file = match tokio::fs::File::open(self.path(key)).await {
                Ok(file) => file,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    return Err(BlobError::NotFound(key.clone()));
                }
                Err(err) => return Err(err.into()),
            };
            let size = file.metadata().await?.len();
            Ok(BlobReader { reader: Box::new(file), size })
        })
    }

    fn local_path(&self, key: &BlobKey) -> Option<PathBuf> {
        Some(self.path(key))
    }

    fn delete<'a>(&'a self, key: &'a BlobKey) -> BoxFuture<'a, Result<bool, BlobError>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path(key)).await {
                Ok(()) => Ok(true),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(err) => Err(err.into()),
            }
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ListedBlob>, BlobError>> {
        Box::pin(async move {
            let mut blobs = Vec::new();
            let mut entries = tokio::fs::read_dir(&self.root).await?;
            while let Some(entry) = entries.next_entry().await? {
                // `.tmp` and anything else that is not a key is not a blob.
                let Some(key) = entry.file_name().to_str().and_then(|n| BlobKey::parse(n).ok())
                else {
                    continue;
                };
                let meta = entry.metadata().await?;
                if meta.is_file() {
                    blobs.push(ListedBlob { key, size: meta.len(), modified: meta.modified()? });
                }
            }
            blobs.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(blobs)
        })
    }
}
