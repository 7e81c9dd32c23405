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

mod file;
mod memory;
mod progress;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use futures::StreamExt;
use serde::Serialize;
use tradia_core::detect::{detect_segments_language, is_known_language};
use tradia_core::quality::FileReport as QualityFile;
use tradia_core::{Engine, EngineStats, Guidance, LanguageTag};
use tradia_formats::{Document, ExtractOptions};

use self::file::{Loaded, RunContext, Written};
use self::progress::Progress;
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
    /// Write the quality report (JSON, the shape of the service's `GET /api/v1/jobs/{id}/report`)
    /// to FILE: per file the segments kept, repaired or flagged by the checks, with source and
    /// target, and counts by flag.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Files translated at once (default: the LLM's slots over all its servers, so that small
    /// files fill them too; 1 for the identity and pseudo engines).
    #[arg(long, env = "TRADIA_PARALLEL_FILES", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    parallel_files: Option<u16>,
    /// The run fails (exit status 3) when more than this share of the segments, in percent, were
    /// kept as source, or when every segment was kept for the same reason.
    #[arg(long, env = "TRADIA_MAX_KEPT_PERCENT", value_name = "PERCENT",
          default_value_t = tradia_core::DEFAULT_MAX_KEPT_PERCENT,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    max_kept_percent: u8,
    #[command(flatten)]
    read: super::ReadArgs,
    /// Glossary, formality and instructions.
    #[command(flatten)]
    guidance: super::glossary::GuidanceArgs,
    /// What `guidance` loaded (set once the usage checks passed).
    #[arg(skip)]
    loaded: Arc<Guidance>,
    /// Reuse and feed the translation memory of the local user on the configured store
    /// (TRADIA_DATA_DIR / DATABASE_URL, as `tradia tm`): exact matches are not sent to the
    /// model, near ones go with their segment as examples, validated translations are recorded.
    /// Needs a source language (`--from`, or detected).
    #[arg(long)]
    memory: bool,
    /// Which memory `--memory` uses: `own`, `teams` or `team:<id>`.
    #[arg(long, value_name = "SCOPE", default_value = "own")]
    memory_scope: String,
    /// Where the memory is (with `--memory`).
    #[command(flatten)]
    store: tradia_server::accounts::offline::StoreArgs,
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
    /// The translation memory's counters (only with `--memory`).
    memory: Option<memory::MemoryCounts>,
    /// Set when the files were written but the run mostly failed (exit status 3).
    warning: Option<SummaryWarning>,
    details: Vec<FileReport>,
}

/// Why a run that wrote its files mostly failed.
#[derive(Debug, Serialize)]
struct SummaryWarning {
    /// `mostly_kept` or `same_failure`.
    code: &'static str,
    message: String,
}

/// Runs `tradia translate`.
pub(crate) fn run(mut args: TranslateArgs) -> Outcome {
    let output_dir =
        args.output.clone().unwrap_or_else(|| PathBuf::from(format!("translated-{}", args.to)));
    if let Err(message) = check_usage(&args, &output_dir) {
        eprintln!("error: {message}");
        return Outcome::Usage;
    }
    let options = match args.read.extract_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Usage;
        }
    };
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
    let memory = if args.memory {
        match runtime.block_on(memory::Memory::open(&args, engine.clone())) {
            Ok(memory) => Some(memory),
            Err(error) => {
                eprintln!("error: translation memory: {error:#}");
                return Outcome::Failed;
            }
        }
    } else {
        None
    };
    let engine = memory.as_ref().map_or(engine, memory::Memory::engine);
    let started = Instant::now();
    let (summary, quality) =
        runtime.block_on(translate_all(&args, &options, &output_dir, engine.as_ref()));
    let summary = Summary {
        seconds: started.elapsed().as_secs_f64(),
        memory: memory.as_ref().map(memory::Memory::counts),
        ..summary
    };
    if let Some(memory) = memory {
        runtime.block_on(memory.close());
    }
    if let Some(warning) = &summary.warning {
        eprintln!("error: {}", warning.message);
    }
    print_summary(&summary, args.json);
    if let Some(path) = &args.report
        && let Err(error) = report::write(path, quality)
    {
        eprintln!("error: {error:#}");
        return Outcome::Failed;
    }
    if summary.failed > 0 {
        Outcome::Failed
    } else if summary.warning.is_some() {
        Outcome::MostlyFailed
    } else {
        Outcome::Success
    }
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
    report::check_usage(args.report.as_deref(), &args.files)?;
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

/// Translates every file: the summary, and each translated file's quality report.
async fn translate_all(
    args: &TranslateArgs,
    options: &ExtractOptions,
    output_dir: &Path,
    engine: &dyn Engine,
) -> (Summary, Vec<QualityFile>) {
    let mut quality = Vec::new();
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

    // Extract everything first, so the progress knows the total.
    let mut loaded = Vec::new();
    for (index, file) in args.files.iter().enumerate() {
        match load(file, options) {
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
                if let Some(report) = reports.get_mut(index) {
                    report.format = Some(document.format.label());
                    report.segments = document.segments.len();
                    report.inline_codes =
                        document.segments.iter().map(|s| s.content.code_count()).sum();
                }
                let (input, name) = (file.clone(), file_label(file));
                loaded.push(Loaded { index, input, name, document, source, unchanged });
            }
            Err(error) => set_error(&mut reports, index, error),
        }
    }
    let total: usize =
        loaded.iter().filter(|l| !l.unchanged).map(|l| l.document.segments.len()).sum();
    let to_translate = loaded.iter().filter(|l| !l.unchanged).count();
    let progress = Progress::new(total as u64, to_translate);

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

    // Several files at once, so that small files fill the LLM's slots too; `buffered` hands the
    // outcomes back in input order, so messages and reports are the same whatever finishes first.
    let run = RunContext {
        target: &args.to,
        output_dir,
        engine,
        progress: &progress,
        guidance: args.loaded.clone(),
    };
    let at_once = args
        .parallel_files
        .map(usize::from)
        .unwrap_or_else(|| args.engine.default_parallel_files(&args.llm));
    let work = async {
        let mut outcomes =
            futures::stream::iter(loaded.into_iter().map(|l| file::process(&run, l)))
                .buffered(at_once.max(1));
        let mut kept_reasons = Vec::new();
        let mut engine_failures = Vec::new();
        while let Some(done) = outcomes.next().await {
            engine_failures.push(done.engine_failure);
            for message in &done.messages {
                progress.say(message);
            }
            match done.result {
                Ok(Written::Translated { output, kept, quality: file_quality }) => {
                    if let Some(report) = reports.get_mut(done.index) {
                        report.output = Some(output);
                        report.kept_as_source = kept.len();
                    }
                    kept_reasons.extend(kept);
                    quality.push(file_quality);
                }
                Ok(Written::Copied { output }) => {
                    if let Some(report) = reports.get_mut(done.index) {
                        report.output = Some(output);
                        report.copied_unchanged = true;
                    }
                }
                Err(error) => progress.suspend(|| set_error(&mut reports, done.index, error)),
            }
        }
        (kept_reasons, engine_failures)
    };
    let (kept_reasons, engine_failures) = tokio::select! {
        outcome = work => outcome,
        () = progress.heartbeat() => (Vec::new(), Vec::new()),
    };
    progress.finish();
    let sent = reports
        .iter()
        .filter(|r| r.output.is_some() && !r.copied_unchanged)
        .map(|r| r.segments as u64)
        .sum();
    let warning = same_engine_failure(&engine_failures).or_else(|| {
        tradia_core::outcome::judge(sent, &kept_reasons, args.max_kept_percent)
            .map(|w| SummaryWarning { code: w.code(), message: w.message() })
    });

    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    let summary = Summary {
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
        memory: None,
        warning,
        details: reports,
    };
    (summary, quality)
}

/// Several files, each refused by the engine as a whole for the same reason (every file's
/// error already says it; this line says that nothing else went wrong).
fn same_engine_failure(failures: &[Option<String>]) -> Option<SummaryWarning> {
    let first = failures.first()?.as_ref()?;
    (failures.len() > 1 && failures.iter().all(|f| f.as_ref() == Some(first))).then(|| {
        SummaryWarning {
            code: "same_failure",
            message: format!(
                "every request failed for the same reason: all {} files: {first}",
                failures.len()
            ),
        }
    })
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
    if let Some(memory) = &summary.memory {
        line.push_str(&memory.line());
    }
    print_line(&line);
}

/// Prints a line on stdout; a closed pipe ends the output quietly.
fn print_line(line: &str) {
    if let Err(error) = super::print_stdout(&format!("{line}\n")) {
        eprintln!("error: cannot print the summary: {error}");
    }
}

mod report;
#[cfg(test)]
mod tests;
