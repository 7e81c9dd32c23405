//! One process per data folder on SQLite.
//!
//! Two services on one SQLite folder (or a second start that then fails on "address in use")
//! used to empty the other's temporary uploads and share one database file without knowing of
//! each other. So `serve` takes an exclusive lock on `TRADIA_DATA_DIR/tradia.lock` before it
//! touches anything else in the folder, and writes its process id and host into the file; a
//! second `serve` finds the lock held, names the holder and exits. The lock is the operating
//! system's (`flock`): it goes away with the process, however it ends, so a stale file never
//! blocks a restart. With PostgreSQL, replicas share the folder on purpose and no lock is taken.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "tradia.lock";

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock of `data_dir`, or fails naming the process that holds it.
pub fn lock(data_dir: &Path) -> anyhow::Result<DataDirLock> {
    let path = data_dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
            anyhow::bail!(
                "another Tradia process already serves the data folder {} ({}; lock file {}); \
                 stop it first, or give this one another TRADIA_DATA_DIR",
                data_dir.display(),
                if holder.is_empty() { "holder unknown".to_string() } else { holder },
                path.display()
            );
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    let started = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let text = format!(
        "pid={} host={} started={started}\n",
        std::process::id(),
        tradia_store::process::host_name()
    );
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(text.as_bytes()))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write the lock file {}", path.display()))?;
    Ok(DataDirLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        let err = lock(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("pid={}", std::process::id())), "{err}");
        assert!(err.contains("another Tradia process"), "{err}");
        drop(first);
        let again = lock(dir.path()).unwrap();
        assert!(again.path().ends_with(LOCK_FILE));
    }
}
