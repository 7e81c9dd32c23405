//! Stage 2 of a file: the language it is translated from.

use tradia_core::LanguageTag;
use tradia_core::detect::detect_segments_language;
use tradia_formats::Document;

use super::FileTask;

/// The job's source language when the client gave one; otherwise the one detected in this file
/// on an earlier run (a resumed job keeps its choice), or detected now on the file's own text.
/// `None` when the text does not tell (too short, mixed): the engine then goes without one.
pub(super) fn choose_source(task: &FileTask<'_>, document: &Document) -> Option<LanguageTag> {
    if let Some(given) = &task.job.source_lang {
        return Some(given.clone());
    }
    if let Some(earlier) = &task.file.detected_source_lang {
        return Some(earlier.clone());
    }
    let detected = detect_segments_language(&document.segments);
    if let Some(d) = &detected {
        tracing::info!(job.id = %task.job.id, file.index = task.file.index, source = %d, "source language detected");
    }
    detected
}
