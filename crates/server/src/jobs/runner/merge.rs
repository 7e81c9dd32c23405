//! Stage 4 of a file: the translations written back into the document, and the translated
//! document stored as the file's output.
//!
//! The document is merged into a temporary file ([`Document::merge_to_path`]: an archive read
//! from its upload's file streams its untouched entries from it), and the output blob is
//! streamed from that file: neither the archive nor its output is ever held whole in memory.
//! The temporary file lives in `TRADIA_DATA_DIR/spool` (not the system's temporary folder,
//! which may be a small `tmpfs`), and is deleted when this stage ends, whatever the outcome.

use std::collections::HashMap;

use tradia_core::{Content, SegmentId, SegmentResult};
use tradia_formats::MergeOptions;

use super::extract::Extracted;
use super::{FileOutcome, FileTask, Stop};

/// The folder of the data directory where outputs are written before they are stored, one
/// temporary file per merge, named after the process and deleted once stored (or on failure).
const SPOOL_DIR: &str = "spool";

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
            .prefix(&format!("{}-", std::process::id()))
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
