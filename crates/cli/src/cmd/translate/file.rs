//! One file of `tradia translate`: translated (or copied, when already in the target language)
//! and written through a temporary file.
//!
//! Several files run at once, so nothing here prints a warning: what a file has to say is
//! collected in [`FileDone::messages`] and printed by the caller in input order, which keeps
//! the output the same from one run to the next whatever order the files finish in. Only the
//! progress lines ([`super::progress`]) are printed as things happen.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tradia_core::quality::FileReport as QualityFile;
use tradia_core::{Content, Engine, Guidance, KeptReason, LanguageTag, TranslateRequest};
use tradia_formats::{Document, MergeOptions};

use super::progress::Progress;

/// An extracted file waiting for its turn.
pub(super) struct Loaded {
    /// Position among the inputs.
    pub index: usize,
    /// The input as given.
    pub input: PathBuf,
    /// Its file name (also the output's).
    pub name: String,
    pub document: Document,
    /// What the engine is told the source language is: `--from`, or detected on the file's text.
    pub source: Option<LanguageTag>,
    /// True for a file detected to be in the target language already: copied as it is instead
    /// of translated.
    pub unchanged: bool,
}

/// What every file of a run shares.
pub(super) struct RunContext<'a> {
    pub target: &'a LanguageTag,
    pub output_dir: &'a Path,
    pub engine: &'a dyn Engine,
    pub progress: &'a Progress,
    /// Glossary terms, formality and instructions for every file.
    pub guidance: Arc<Guidance>,
}

/// How a file ended.
pub(super) enum Written {
    /// Translated into `output`; the segments kept as source, with their reasons, and the file's
    /// quality report.
    Translated { output: PathBuf, kept: Vec<KeptReason>, quality: QualityFile },
    /// Already in the target language, copied to `output`.
    Copied { output: PathBuf },
}

/// A file's outcome and what it has to say, in order.
pub(super) struct FileDone {
    pub index: usize,
    pub result: anyhow::Result<Written>,
    /// Warnings about this file, printed when its turn comes.
    pub messages: Vec<String>,
    /// The engine's error when it refused the file as a whole (a model, key or context refused).
    pub engine_failure: Option<String>,
}

/// Translates (or copies) one file and writes its output.
pub(super) async fn process(run: &RunContext<'_>, file: Loaded) -> FileDone {
    let Loaded { index, input, name, document, source, unchanged } = file;
    let mut messages = Vec::new();
    if unchanged {
        let copy = |tmp: &Path| std::fs::copy(&input, tmp).map(|_| ());
        let result = write_output(run.output_dir, &name, copy).map(|output| {
            messages.push(format!(
                "warning: {}: already in {} (detected); copied unchanged to {}",
                input.display(),
                run.target,
                output.display()
            ));
            Written::Copied { output }
        });
        return FileDone { index, result, messages, engine_failure: None };
    }
    let started = Instant::now();
    run.progress.file_started(&name, document.segments.len());
    let mut engine_failure = None;
    let result = translate(
        run,
        (index, source),
        &name,
        document,
        &input,
        &mut messages,
        &mut engine_failure,
    )
    .await;
    let kept = result.as_ref().ok().map(|w| match w {
        Written::Translated { kept, .. } => kept.len(),
        Written::Copied { .. } => 0,
    });
    run.progress.file_done(&name, kept, started.elapsed());
    FileDone { index, result, messages, engine_failure }
}

async fn translate(
    run: &RunContext<'_>,
    (index, source): (usize, Option<LanguageTag>),
    name: &str,
    document: Document,
    input: &Path,
    messages: &mut Vec<String>,
    engine_failure: &mut Option<String>,
) -> anyhow::Result<Written> {
    let mut request = TranslateRequest::all(source, run.target.clone(), &document.segments);
    request.sink = run.progress;
    request.owner = name.to_string();
    // The user's `--brief` wins; else the document's own title and domain.
    let guidance = match document.brief() {
        Some(brief) if run.guidance.brief.is_none() => {
            Arc::new(Guidance { brief: Some(brief), ..(*run.guidance).clone() })
        }
        _ => run.guidance.clone(),
    };
    // With this file's notes for translators (sent with their segments).
    let guidance = if document.report.notes.is_empty() {
        guidance
    } else {
        Arc::new(guidance.with_notes(&document.report.notes))
    };
    request.guidance = with_quiz(&guidance, &document);
    let results = run.engine.translate(request).await.inspect_err(|e| {
        *engine_failure = Some(e.to_string());
    })?;
    let mut translations: Vec<Content> =
        document.segments.iter().map(|s| s.content.clone()).collect();
    let file_index = u32::try_from(index).unwrap_or(u32::MAX);
    let quality = QualityFile::new(file_index, name.to_string(), &document.segments, &results);
    let mut kept = Vec::new();
    for result in results {
        if let Some(reason) = result.kept {
            messages.push(format!(
                "warning: {}: segment {} kept as source ({}): {}",
                input.display(),
                result.id,
                reason.code,
                reason.message
            ));
            kept.push(reason);
        }
        if let Some(slot) = translations.get_mut(result.id as usize) {
            *slot = result.content;
        }
    }
    let options = MergeOptions { target: run.target.clone() };
    let (dir, name) = (run.output_dir.to_path_buf(), name.to_string());
    // Merged straight into the output file (an archive's untouched entries are streamed from the
    // input, never held in memory), on a blocking thread so that the other files' requests keep
    // going meanwhile.
    let output = tokio::task::spawn_blocking(move || {
        let merge = |tmp: &Path| -> anyhow::Result<()> {
            Ok(document.merge_to_path(&translations, &options, tmp)?)
        };
        write_output(&dir, &name, merge)
    })
    .await
    .context("the merge stopped unexpectedly")??;
    Ok(Written::Translated { output, kept, quality })
}

/// Writes an output file through `write` into a temporary name beside it, synced, then renamed
/// into place, so that a failure never leaves a partial file under the output's name.
fn write_output<E: Into<anyhow::Error>>(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> anyhow::Result<PathBuf> {
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.tradia-partial"));
    let written = write(&tmp).map_err(Into::into).and_then(|()| {
        std::fs::File::options().append(true).open(&tmp)?.sync_all()?;
        Ok(())
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(error.context(format!("cannot write {}", tmp.display())));
    }
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(target)
}

/// The run's guidance with the document's quiz groups (the terms translated together), shared
/// as is when the document has none.
fn with_quiz(guidance: &Arc<Guidance>, document: &Document) -> Arc<Guidance> {
    if document.quiz.is_empty() {
        return guidance.clone();
    }
    Arc::new(Guidance { quiz: document.quiz.clone(), ..(**guidance).clone() })
}
