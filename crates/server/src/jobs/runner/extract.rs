//! Stage 1 of a file: its upload, opened as a file and extracted into segments with the format
//! detected when it was uploaded, so a document is detected once.
//!
//! The upload is never read into memory here: archives (Scenari `.scar`, office packages)
//! are read from the blob's file by [`tradia_formats::extract_path_as`], which decompresses
//! only their text parts, and the merge stage streams their other entries (media) from the same
//! file. Extraction holds the service's [`WorkLimits`](crate::settings::WorkLimits) per
//! document: a file past a limit fails with the limit's own code.

use tradia_formats::{Document, ExtractOptions, Format, FormatError};

use super::{FileTask, Stop};
use crate::jobs::repo::BlobFile;

/// A file's document with the input file it was read from (kept until the merge, which
/// streams the archive's untouched entries from it).
pub(super) struct Extracted {
    pub document: Document,
    pub input: BlobFile,
}

/// The file's document, or the format error that makes it untranslatable (`Ok(Err(…))`, which
/// fails this file only). `Err` stops the job: the upload cannot be read back.
pub(super) async fn extract_file(
    task: &FileTask<'_>,
) -> Result<Result<Extracted, FormatError>, Stop> {
    let file = task.file;
    let input = task.state.jobs.blob_file(&file.input_blob).await.map_err(|e| Stop::Failed {
        code: crate::error::ErrorCode::from(&e),
        message: format!("cannot read `{}`: {e}", file.name),
    })?;
    let format = stored_format(file.format.as_deref());
    if format.is_none() {
        tracing::debug!(job.id = %task.job.id, file.index = file.index, "no format stored at upload; detecting it");
    }
    let name = file.name.clone();
    let options = ExtractOptions {
        limits: task.state.settings.limits.document,
        keep_quiz_answers: task.state.settings.keep_quiz_answers,
        ..ExtractOptions::default()
    };
    tokio::task::spawn_blocking(move || {
        let path = input.path();
        let document = match format {
            Some(format) => tradia_formats::extract_path_as(format, &name, path, &options),
            // A job queued by a version that did not record the format.
            None => tradia_formats::extract_path(&name, path, &options),
        };
        document.map(|document| Extracted { document, input })
    })
    .await
    .map_err(|e| Stop::internal(e.to_string()))
}

/// The format recorded at upload, when it names one this version reads.
fn stored_format(name: Option<&str>) -> Option<Format> {
    name?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_format_name_is_parsed_back() {
        for format in [Format::Scenari, Format::Docx, Format::Html] {
            assert_eq!(stored_format(Some(format.as_str())), Some(format));
        }
        assert_eq!(stored_format(None), None);
        assert_eq!(stored_format(Some("no-such-format")), None);
    }
}
