//! `tradia inspect`: what a file yields before anything is translated.
//!
//! Users run it to see which fields will be translated (each segment with its inline codes, as a
//! model will see them) and which are kept, and why. `--json` gives the same for scripts.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use tradia_formats::{ExtractOptions, KeptField, Report};

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
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: {}: cannot read the file: {error}", args.file.display());
            return Outcome::Failed;
        }
    };
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let document = match tradia_formats::extract(&name, &bytes, &ExtractOptions::default()) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("error: {}: {error}", args.file.display());
            return Outcome::Failed;
        }
    };
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
        })
        .collect();
    let report: &Report = &document.report;
    let view = InspectView {
        file: args.file.display().to_string(),
        format: document.format.label(),
        segments,
        kept: &report.kept,
        unknown_fields: &report.unknown_fields,
        warnings: &report.warnings,
    };
    if args.json {
        match serde_json::to_string_pretty(&view) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("error: cannot print JSON: {error}");
                return Outcome::Failed;
            }
        }
    } else {
        print_text(&view);
    }
    Outcome::Success
}

fn print_text(view: &InspectView<'_>) {
    println!("{} ({}): {} segments", view.file, view.format, view.segments.len());
    for s in &view.segments {
        println!("#{:<4} {} [{}]", s.id, s.location, s.field);
        println!("      {}", s.text);
    }
    if !view.kept.is_empty() {
        println!("\nKept as they are ({}):", view.kept.len());
        for k in view.kept {
            println!("  {} [{}]: {}", k.location, k.field, k.reason);
        }
    }
    if !view.unknown_fields.is_empty() {
        println!("\nUnknown text fields (kept, please report them):");
        for (field, count) in view.unknown_fields {
            println!("  {field}: {count}");
        }
    }
    for w in view.warnings {
        println!("warning: {w}");
    }
}
