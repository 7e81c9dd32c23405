//! A `tmpfs` mounted on a temporary folder for the full-disk tests, unmounted on drop.
//!
//! Shared by `crates/store/tests/faults.rs` and `crates/server/tests/full_disk.rs` (the server's
//! includes this file by path), so that both skip, or fail under `CI=true`, the same way when the
//! mount is impossible. Mounting needs root.

use std::path::Path;
use std::process::Command;

/// A `tmpfs` mounted on a temporary folder, unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a `tmpfs` of `size` (`mount -o size=…`: `2m`, `16m`); `None`, with the reason on
    /// stderr, when it cannot be mounted (not root), except under `CI=true`, where it panics.
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    Err(err) => err.to_string(),
                };
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but a tmpfs cannot be mounted: {why}");
                }
                eprintln!("skipped: cannot mount a tmpfs (root is needed): {why}");
                None
            }
        }
    }

    /// The mounted folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}
