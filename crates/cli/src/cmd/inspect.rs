//! `tradia inspect`: what a file yields before anything is translated.
//!
//! Users run it to see which fields will be translated (each segment with its inline codes, as a
//! model will see them) and which are kept, and why. `--json` gives the same for scripts.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use tradia_formats::{KeptField, Report};

use crate::Outcome;

/// Arguments of `tradia inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The file to inspect.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    read: super::ReadArgs,
}

#[derive(Debug, Serialize)]
struct SegmentView<'a> {
    id: u32,
    location: &'a str,
    field: &'a str,
    inline_codes: usize,
    /// The content as a model sees it (`<g1>…</g1>`, `<x2/>`).
    text: String,
    /// What is sent to the model once edge whitespace and wrapping codes are set aside.
    sent: String,
    /// A note for translators (ITS localization note, resource comment).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct InspectView<'a> {
    file: String,
    format: &'static str,
    segments: Vec<SegmentView<'a>>,
    kept: &'a [KeptField],
    unknown_fields: &'a std::collections::BTreeMap<String, u64>,
    warnings: &'a [String],
}

/// Runs `tradia inspect`.
pub(crate) fn run(args: InspectArgs) -> Outcome {
    let options = match args.read.extract_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Usage;
        }
    };
    let document = match super::read_document(&args.file, &options) {
        Ok(document) => document,
        Err(message) => {
            eprintln!("error: {}: {message}", args.file.display());
            return Outcome::Failed;
        }
    };
    let report: &Report = &document.report;
    let segments = document
        .segments
        .iter()
        .map(|s| SegmentView {
            id: s.id,
            location: &s.location,
            field: &s.field,
            inline_codes: s.content.code_count(),
            text: s.content.render(),
            sent: s.edges().core.render(),
            note: report.notes.get(&s.id).map(String::as_str),
        })
        .collect();
    let view = InspectView {
        file: args.file.display().to_string(),
        format: document.format.label(),
        segments,
        kept: &report.kept,
        unknown_fields: &report.unknown_fields,
        warnings: &report.warnings,
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&view) {
            Ok(text) => format!("{text}\n"),
            Err(error) => {
                eprintln!("error: cannot print JSON: {error}");
                return Outcome::Failed;
            }
        }
    } else {
        render_text(&view)
    };
    // A reader that stops early (`| head`) is not a failure.
    match super::print_stdout(&text) {
        Ok(_) => Outcome::Success,
        Err(error) => {
            eprintln!("error: cannot write the output: {error}");
            Outcome::Failed
        }
    }
}

fn render_text(view: &InspectView<'_>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}): {} segments", view.file, view.format, view.segments.len());
    for s in &view.segments {
        let _ = writeln!(out, "#{:<4} {} [{}]", s.id, s.location, s.field);
        let _ = writeln!(out, "      {}", s.text);
        if let Some(note) = s.note {
            let _ = writeln!(out, "      note: {note}");
        }
    }
    if !view.kept.is_empty() {
        let _ = writeln!(out, "\nKept as they are ({}):", view.kept.len());
        for k in view.kept {
            let _ = writeln!(out, "  {} [{}]: {}", k.location, k.field, k.reason);
        }
    }
    if !view.unknown_fields.is_empty() {
        let _ = writeln!(out, "\nUnknown text fields (kept, please report them):");
        for (field, count) in view.unknown_fields {
            let _ = writeln!(out, "  {field}: {count}");
        }
    }
    for w in view.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
