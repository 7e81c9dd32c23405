//! `tradia translate`: files in, translated files out, one summary line.
//!
//! Everything that can be refused is refused before any work starts (a language code Tradia does
//! not know, two inputs with the same file name, an output folder that would overwrite an input,
//! a source equal to the target), so a usage error never leaves half a run behind. Without
//! `--from`, each file's source language is detected on its own text (as the service does), noted
//! on stderr and given to the engine; a file already in the target language is copied unchanged
//! with a warning rather than sent to a model that has nothing to do. After that, each file succeeds or fails on its
//! own: a failing file is named on stderr with its reason and the others go on. Outputs are
//! written to a temporary file in the output folder and renamed into place, so an interrupted run
//! never leaves a truncated file under the final name, and an input is never written over.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tradia_core::detect::{detect_segments_language, is_known_language};
use tradia_core::{
    Content, Engine, EngineStats, Guidance, LanguageTag, ResultSink, SegmentResult,
    TranslateRequest,
};
use tradia_formats::{Document, ExtractOptions, MergeOptions};

use super::file_label;
use crate::Outcome;
use crate::engine::EngineKind;

/// Arguments of `tradia translate`.
#[derive(Debug, Args)]
pub(crate) struct TranslateArgs {
    /// Files to translate (Scenari items and archives, office files, web pages, subtitles…).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Target language (BCP 47: fr, en, ar, pt-BR…; case-insensitive).
    #[arg(long, value_name = "LANG", value_parser = known_language)]
    to: LanguageTag,
    /// Source language (default: detected on each file's text; when detection is unsure, left to
    /// the engine).
    #[arg(long, value_name = "LANG", value_parser = known_language)]
    from: Option<LanguageTag>,
    /// Translation engine: an LLM server (ollama, openai), or identity/pseudo (no LLM needed).
    #[arg(long = "engine", id = "engine_kind", value_enum, default_value_t = EngineKind::Ollama)]
    engine: EngineKind,
    /// Output folder (default: ./translated-<LANG>/).
    #[arg(long, short, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    read: super::ReadArgs,
    /// Glossary, formality and instructions.
    #[command(flatten)]
    guidance: super::glossary::GuidanceArgs,
    /// What `guidance` loaded (set once the usage checks passed).
    #[arg(skip)]
    loaded: Arc<Guidance>,
    /// LLM connection settings (used by the ollama and openai engines).
    #[command(flatten)]
    llm: tradia_llm::LlmArgs,
}

/// What happened to one input file.
#[derive(Debug, Serialize)]
struct FileReport {
    input: PathBuf,
    output: Option<PathBuf>,
    format: Option<&'static str>,
    /// The source language detected on the file's text (only without `--from`; `null` when
    /// detection was unsure).
    detected_source_lang: Option<LanguageTag>,
    /// The file was already in the target language and was copied as it is.
    copied_unchanged: bool,
    segments: usize,
    inline_codes: usize,
    kept_as_source: usize,
    error: Option<String>,
}

/// The run's summary (`--json` prints it as is).
#[derive(Debug, Serialize)]
struct Summary {
    engine: String,
    target: String,
    files: usize,
    failed: usize,
    copied_unchanged: usize,
    segments: usize,
    inline_codes: usize,
    kept_as_source: usize,
    seconds: f64,
    llm: EngineStats,
    details: Vec<FileReport>,
}

/// Runs `tradia translate`.
pub(crate) fn run(mut args: TranslateArgs) -> Outcome {
    let output_dir =
        args.output.clone().unwrap_or_else(|| PathBuf::from(format!("translated-{}", args.to)));
    if let Err(message) = check_usage(&args, &output_dir) {
        eprintln!("error: {message}");
        return Outcome::Usage;
    }
    args.loaded = match args.guidance.load(args.from.as_ref(), &args.to) {
        Ok(guidance) => Arc::new(guidance),
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Usage;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Outcome::Failed;
        }
    };
    let engine = {
        let _context = runtime.enter();
        match args.engine.build(&args.llm) {
            Ok(engine) => engine,
            Err(error) => {
                eprintln!("error: {error:#}");
                return Outcome::Usage;
            }
        }
    };
    let started = Instant::now();
    let summary = runtime.block_on(translate_all(&args, &output_dir, engine.as_ref()));
    let summary = Summary { seconds: started.elapsed().as_secs_f64(), ..summary };
    print_summary(&summary, args.json);
    if summary.failed > 0 { Outcome::Failed } else { Outcome::Success }
}

/// Refusals that must happen before anything runs.
fn check_usage(args: &TranslateArgs, output_dir: &Path) -> Result<(), String> {
    if let Some(from) = &args.from
        && from == &args.to
    {
        return Err(format!("source and target language are the same ({from})"));
    }
    let mut names = HashSet::new();
    for file in &args.files {
        let Some(name) = file.file_name() else {
            return Err(format!("{} is not a file name", file.display()));
        };
        if !names.insert(name.to_owned()) {
            return Err(format!(
                "two inputs are named {}: their outputs would overwrite each other",
                name.to_string_lossy()
            ));
        }
    }
    let out_abs = absolute(output_dir);
    for file in &args.files {
        let in_abs = absolute(file);
        if let Some(name) = file.file_name()
            && out_abs.join(name) == in_abs
        {
            return Err(format!(
                "the output folder {} would overwrite the input {}",
                output_dir.display(),
                file.display()
            ));
        }
    }
    Ok(())
}

/// Parses `--to` and `--from`: a valid tag whose language Tradia lists or can detect, the rule the
/// API applies to `target_lang` and `source_lang` (clap names the flag in its error).
fn known_language(input: &str) -> Result<LanguageTag, String> {
    let tag = LanguageTag::parse(input).map_err(|e| e.to_string())?;
    if is_known_language(&tag) {
        Ok(tag)
    } else {
        Err(format!(
            "`{input}` is not a language code Tradia knows (use a code such as fr, en, ar or pt-BR)"
        ))
    }
}

/// Best-effort absolute, symlink-resolved path (the file may not exist yet).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf()),
    }
}

struct Loaded {
    index: usize,
    document: Document,
    /// What the engine is told the source language is: `--from`, or detected on the file's text.
    source: Option<LanguageTag>,
    /// True for a file detected to be in the target language already: copied as it is instead
    /// of translated.
    unchanged: bool,
}

async fn translate_all(args: &TranslateArgs, output_dir: &Path, engine: &dyn Engine) -> Summary {
    let mut reports: Vec<FileReport> = args
        .files
        .iter()
        .map(|f| FileReport {
            input: f.clone(),
            output: None,
            format: None,
            detected_source_lang: None,
            copied_unchanged: false,
            segments: 0,
            inline_codes: 0,
            kept_as_source: 0,
            error: None,
        })
        .collect();

    // Extract everything first, so the progress bar knows the total.
    let options = args.read.extract_options();
    let mut loaded = Vec::new();
    for (index, file) in args.files.iter().enumerate() {
        match load(file, &options) {
            Ok(document) => {
                let source = match &args.from {
                    Some(from) => Some(from.clone()),
                    None => {
                        let detected = detect_source(file, &document);
                        if let Some(report) = reports.get_mut(index) {
                            report.detected_source_lang = detected.clone();
                        }
                        detected
                    }
                };
                // Only a detected source can equal the target: a given one was refused as usage.
                let unchanged = source.as_ref() == Some(&args.to);
                loaded.push(Loaded { index, document, source, unchanged });
            }
            Err(error) => set_error(&mut reports, index, error),
        }
    }
    let total: usize =
        loaded.iter().filter(|l| !l.unchanged).map(|l| l.document.segments.len()).sum();
    let bar = progress_bar(total as u64);

    if !loaded.is_empty()
        && let Err(error) = std::fs::create_dir_all(output_dir)
    {
        for l in &loaded {
            set_error(
                &mut reports,
                l.index,
                anyhow::anyhow!("cannot create {}: {error}", output_dir.display()),
            );
        }
        loaded.clear();
    }

    for l in loaded {
        let report = &mut reports[l.index];
        report.format = Some(l.document.format.label());
        report.segments = l.document.segments.len();
        report.inline_codes = l.document.segments.iter().map(|s| s.content.code_count()).sum();
        bar.set_message(file_label(&report.input));
        let name = file_label(&report.input);
        if l.unchanged {
            let copy = |tmp: &Path| std::fs::copy(&report.input, tmp).map(|_| ());
            match write_output(output_dir, &name, copy) {
                Ok(output) => {
                    bar.suspend(|| {
                        eprintln!(
                            "warning: {}: already in {} (detected); copied unchanged to {}",
                            report.input.display(),
                            args.to,
                            output.display()
                        )
                    });
                    report.output = Some(output);
                    report.copied_unchanged = true;
                }
                Err(error) => set_error(&mut reports, l.index, error),
            }
            continue;
        }
        let source = l.source.clone();
        match translate_one(args, source, &name, output_dir, engine, &l.document, &bar).await {
            Ok((output, kept)) => {
                report.output = Some(output);
                report.kept_as_source = kept;
            }
            Err(error) => set_error(&mut reports, l.index, error),
        }
    }
    bar.finish_and_clear();

    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    Summary {
        engine: engine.name().to_string(),
        target: args.to.to_string(),
        files: reports.len(),
        failed,
        copied_unchanged: reports.iter().filter(|r| r.copied_unchanged).count(),
        segments: reports.iter().map(|r| r.segments).sum(),
        inline_codes: reports.iter().map(|r| r.inline_codes).sum(),
        kept_as_source: reports.iter().map(|r| r.kept_as_source).sum(),
        seconds: 0.0,
        llm: engine.stats(),
        details: reports,
    }
}

fn set_error(reports: &mut [FileReport], index: usize, error: anyhow::Error) {
    if let Some(report) = reports.get_mut(index) {
        let message = super::without_name(&report.input, &format!("{error:#}"));
        eprintln!("error: {}: {message}", report.input.display());
        report.error = Some(message);
    }
}

/// Reads and extracts a file.
fn load(file: &Path, options: &ExtractOptions) -> anyhow::Result<Document> {
    super::read_document(file, options).map_err(anyhow::Error::msg)
}

/// Detects a file's source language on its text and says what was found on stderr.
fn detect_source(file: &Path, document: &Document) -> Option<LanguageTag> {
    let detected = detect_segments_language(&document.segments);
    match &detected {
        Some(language) => {
            eprintln!("note: {}: source language detected: {language}", file.display())
        }
        None => eprintln!(
            "note: {}: source language not detected reliably; left to the engine",
            file.display()
        ),
    }
    detected
}

/// Advances the progress bar as each segment finishes.
struct BarSink<'a>(&'a ProgressBar);

impl ResultSink for BarSink<'_> {
    fn segment_done(&self, _result: &SegmentResult) {
        self.0.inc(1);
    }
}

async fn translate_one(
    args: &TranslateArgs,
    source: Option<LanguageTag>,
    name: &str,
    output_dir: &Path,
    engine: &dyn Engine,
    document: &Document,
    bar: &ProgressBar,
) -> anyhow::Result<(PathBuf, usize)> {
    let sink = BarSink(bar);
    let mut request = TranslateRequest::all(source, args.to.clone(), &document.segments);
    request.guidance = args.loaded.clone();
    request.sink = &sink;
    request.owner = name.to_string();
    let results = engine.translate(request).await?;
    let mut translations: Vec<Content> =
        document.segments.iter().map(|s| s.content.clone()).collect();
    let mut kept = 0;
    for result in results {
        if let Some(reason) = &result.kept {
            kept += 1;
            bar.suspend(|| {
                eprintln!(
                    "warning: segment {} kept as source ({}): {}",
                    result.id, reason.code, reason.message
                )
            });
        }
        if let Some(slot) = translations.get_mut(result.id as usize) {
            *slot = result.content;
        }
    }
    let options = MergeOptions { target: args.to.clone() };
    // Merged straight into the output file: an archive's untouched entries are streamed from
    // the input, never held in memory.
    let merge = |tmp: &Path| -> anyhow::Result<()> {
        Ok(document.merge_to_path(&translations, &options, tmp)?)
    };
    let output = write_output(output_dir, name, merge)?;
    Ok((output, kept))
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

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    bar.enable_steady_tick(Duration::from_millis(200));
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {msg:20!} [{bar:40}] {pos}/{len} segments ({eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn print_summary(summary: &Summary, json: bool) {
    if json {
        match serde_json::to_string_pretty(summary) {
            Ok(text) => print_line(&text),
            Err(error) => eprintln!("error: cannot print the summary: {error}"),
        }
        return;
    }
    let copied = match summary.copied_unchanged {
        0 => String::new(),
        n => format!(", {n} copied unchanged (already in {})", summary.target),
    };
    let mut line = format!(
        "{} file(s) translated to {} by {}{copied}, {} failed: {} segments, {} inline codes, {} \
         kept as source, {:.2} s",
        summary.files - summary.failed - summary.copied_unchanged,
        summary.target,
        summary.engine,
        summary.failed,
        summary.segments,
        summary.inline_codes,
        summary.kept_as_source,
        summary.seconds
    );
    let llm = summary.llm;
    if llm.requests > 0 {
        line.push_str(&format!(
            "; {} requests ({} retries), {} tokens in, {} tokens out",
            llm.requests, llm.retries, llm.prompt_tokens, llm.output_tokens
        ));
    }
    print_line(&line);
}

/// Prints a line on stdout; a closed pipe ends the output quietly.
fn print_line(line: &str) {
    if let Err(error) = super::print_stdout(&format!("{line}\n")) {
        eprintln!("error: cannot print the summary: {error}");
    }
}

#[cfg(test)]
mod tests;
