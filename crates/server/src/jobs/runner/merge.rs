//! Stage 4 of a file: the translations written back into the document, and the translated
//! document stored as the file's output.
//!
//! The document is merged into a temporary file ([`Document::merge_to_path`]: an archive read
//! from its upload's file streams its untouched entries from it), and the output blob is
//! streamed from that file: neither the archive nor its output is ever held whole in memory.
//! The temporary file lives in `TRADIA_DATA_DIR/spool` (not the system's temporary folder,
//! which may be a small `tmpfs`), and is deleted when this stage ends, whatever the outcome.
//! A process that dies during a merge (killed, out of memory, power cut) cannot delete its
//! file: [`clean_spool`], at start-up, removes the files of processes of this host that no
//! longer exist and any older than [`STALE_TMP_AGE`] (another host's, on a shared folder),
//! never those of a live process; spool files are named `host:pid:…` for that.

use std::collections::HashMap;
use std::path::Path;

use tradia_core::{Content, SegmentId, SegmentResult};
use tradia_formats::MergeOptions;
use tradia_store::blob::STALE_TMP_AGE;

use super::extract::Extracted;
use super::{FileOutcome, FileTask, Stop};

/// The folder of the data directory where outputs are written before they are stored, one
/// temporary file per merge, named after the process and deleted once stored (or on failure).
const SPOOL_DIR: &str = "spool";

/// Removes the spool files that merges of dead processes left in `data_dir` (see the module
/// documentation); returns how many. Errors are logged: a file left is removed next time.
pub(crate) fn clean_spool(data_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir.join(SPOOL_DIR)) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE_TMP_AGE));
        if !old && !tradia_store::process::holder_is_dead(&name.to_string_lossy()) {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(err) => {
                tracing::warn!(path = %entry.path().display(), %err, "cannot remove a stale spool file")
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, "spool files of interrupted merges removed");
    }
    removed
}

/// Merges `results` (one per segment) into the document and stores the output. A document
/// that cannot be written back fails this file only.
pub(super) async fn merge_and_store(
    task: &FileTask<'_>,
    extracted: Extracted,
    mut results: HashMap<SegmentId, SegmentResult>,
) -> Result<FileOutcome, Stop> {
    let Extracted { document, input } = extracted;
    let mut translations: Vec<Content> = Vec::with_capacity(document.segments.len());
    for segment in &document.segments {
        let Some(result) = results.remove(&segment.id) else {
            return Err(Stop::internal(format!(
                "segment {} of `{}` has no result",
                segment.id, task.file.name
            )));
        };
        translations.push(result.content);
    }
    drop(results);
    let options = MergeOptions { target: task.job.target_lang.clone() };
    let spool = task.state.settings.data_dir.join(SPOOL_DIR);
    let output = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&spool)?;
        tempfile::Builder::new()
            .prefix(&format!("{}:", tradia_store::process::holder_prefix()))
            .tempfile_in(&spool)
            .map(tempfile::NamedTempFile::into_temp_path)
    })
    .await
    .map_err(|e| Stop::internal(e.to_string()))?
    .map_err(|e| Stop::internal(format!("cannot create a temporary output file: {e}")))?;
    let merged = tokio::task::spawn_blocking(move || {
        let merged = document.merge_to_path(&translations, &options, &output);
        // The input file is needed until the merge is done (untouched entries come from it).
        drop(input);
        merged.map(|()| output)
    })
    .await
    .map_err(|e| Stop::internal(e.to_string()))?;
    match merged {
        Ok(output) => {
            task.state.jobs.store_output_file(task.lease, task.file.index, &output).await?;
            Ok(FileOutcome::Stored)
        }
        Err(error) => task.fail(error).await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn start_up_removes_the_spool_files_of_dead_processes_and_old_ones_only() {
        let data = tempfile::tempdir().unwrap();
        let spool = data.path().join(SPOOL_DIR);
        std::fs::create_dir_all(&spool).unwrap();
        // A process that has exited (and been waited for): its pid is free.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let host = tradia_store::process::host_name();
        let me = tradia_store::process::holder_prefix();
        let names = [
            format!("{host}:{dead}:crashed.tmp"),
            format!("{me}:running.tmp"),
            "another-host:12:fresh.tmp".to_string(),
            "another-host:12:old.tmp".to_string(),
        ];
        for name in &names {
            std::fs::write(spool.join(name), b"partial output").unwrap();
        }
        let two_days_ago = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        std::fs::File::options()
            .write(true)
            .open(spool.join(&names[3]))
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        assert_eq!(clean_spool(data.path()), 2);
        let left: std::collections::BTreeSet<String> = std::fs::read_dir(&spool)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [names[1].clone(), names[2].clone()].into(), "live and fresh are kept");
        // No spool folder yet: nothing to do.
        assert_eq!(clean_spool(&data.path().join("nowhere")), 0);
    }
}
