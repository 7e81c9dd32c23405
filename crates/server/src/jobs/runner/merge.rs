//! Stage 4 of a file: the translations written back into the document, and the translated
//! document stored as the file's output.

use std::collections::HashMap;

use tradia_core::{Content, SegmentId, SegmentResult};
use tradia_formats::{Document, MergeOptions};

use super::{FileOutcome, FileTask, Stop};

/// Merges `results` (one per segment) into `document` and stores the output. A document that
/// cannot be written back fails this file only.
pub(super) async fn merge_and_store(
    task: &FileTask<'_>,
    document: Document,
    mut results: HashMap<SegmentId, SegmentResult>,
) -> Result<FileOutcome, Stop> {
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
    let options = MergeOptions { target: task.job.target_lang.clone() };
    let merged = tokio::task::spawn_blocking(move || document.merge(&translations, &options))
        .await
        .map_err(|e| Stop::internal(e.to_string()))?;
    match merged {
        Ok(bytes) => {
            task.state.jobs.store_output(task.lease, task.file.index, bytes).await?;
            Ok(FileOutcome::Stored)
        }
        Err(error) => task.fail(error).await,
    }
}
