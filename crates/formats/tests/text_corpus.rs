//! Identity and pseudo round trips of the text-based filters on the real corpus
//! (`$TRADIA_CORPUS/documents/`, formats html, md, txt, xliff, po, json, yaml, srt, vtt, epub).
//!
//! The pseudo checks judge the output with an extraction independent of the filter under test:
//! html5gum tokens for HTML, pulldown-cmark events for Markdown, roxmltree for XML, serde for
//! JSON and YAML, timing lines for subtitles.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, MergeOptions};

/// Corpus formats handled by these filters, with the format detection must find.
const MINE: &[(&str, Format)] = &[
    ("html", Format::Html),
    ("md", Format::Markdown),
    ("txt", Format::PlainText),
    ("xliff", Format::Xliff),
    ("po", Format::Po),
    ("json", Format::Json),
    ("yaml", Format::Yaml),
    ("srt", Format::Srt),
    ("vtt", Format::WebVtt),
    ("epub", Format::Epub),
];

/// Files that cannot round-trip byte-exactly, with the reason.
const NOT_EXACT: &[(&str, &str)] = &[];

fn corpus() -> Option<PathBuf> {
    match std::env::var_os("TRADIA_CORPUS") {
        Some(dir) => Some(PathBuf::from(dir).join("documents")),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "TRADIA_CORPUS must be set in CI"
            );
            println!("skipped: TRADIA_CORPUS is not set");
            None
        }
    }
}

fn files(dir: &std::path::Path) -> Vec<(String, Format, Vec<u8>)> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest");
    let mut out = Vec::new();
    for entry in manifest.as_array().expect("array") {
        let fmt = entry["fmt"].as_str().unwrap_or_default();
        let Some((_, format)) = MINE.iter().find(|(f, _)| *f == fmt) else { continue };
        let file = entry["file"].as_str().expect("file").to_string();
        let bytes = std::fs::read(dir.join(fmt).join(&file)).expect("corpus file");
        out.push((file, *format, bytes));
    }
    out
}

fn target() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

#[test]
fn identity_round_trip_is_byte_exact() {
    let Some(dir) = corpus() else { return };
    let files = files(&dir);
    let mut failures = Vec::new();
    let mut exact = 0;
    for (name, format, bytes) in &files {
        let result =
            tradia_formats::extract(name, bytes, &ExtractOptions::default()).and_then(|doc| {
                if doc.format != *format {
                    return Err(tradia_formats::FormatError::Invalid(format!(
                        "detected {:?}",
                        doc.format
                    )));
                }
                doc.merge_identity(&target())
            });
        match result {
            Ok(out) if out == *bytes => exact += 1,
            Ok(_) if NOT_EXACT.iter().any(|(n, _)| n == name) => {}
            Ok(_) => failures.push(format!("{name}: output differs")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("identity: {exact}/{} files byte-exact", files.len());
    assert!(failures.is_empty(), "identity failures:\n{}", failures.join("\n"));
    assert!(NOT_EXACT.len() * 20 <= files.len(), "more than 5 % of the corpus is not byte-exact");
}

#[test]
fn pseudo_round_trip_changes_only_text() {
    let Some(dir) = corpus() else { return };
    let files = files(&dir);
    let mut failures = Vec::new();
    for (name, format, bytes) in &files {
        let doc = match tradia_formats::extract(name, bytes, &ExtractOptions::default()) {
            Ok(doc) => doc,
            Err(e) => {
                failures.push(format!("{name}: extract: {e}"));
                continue;
            }
        };
        let pseudo: Vec<Content> =
            doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = match doc.merge(&pseudo, &target()) {
            Ok(out) => out,
            Err(e) => {
                failures.push(format!("{name}: merge: {e}"));
                continue;
            }
        };
        match check::output(*format, bytes, &out) {
            Ok(coverage) => {
                println!(
                    "{name}: {} segments, coverage {:.0} % ({}/{})",
                    doc.segments.len(),
                    coverage.percent(),
                    coverage.changed,
                    coverage.total
                );
                if coverage.total > 0 && coverage.percent() < 50.0 {
                    failures.push(format!(
                        "{name}: only {:.0} % of the visible text changed",
                        coverage.percent()
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        // The output must itself be readable again by the filter.
        if let Err(e) = tradia_formats::extract(name, &out, &ExtractOptions::default()) {
            failures.push(format!("{name}: output does not extract again: {e}"));
        }
    }
    println!("pseudo: {}/{} files passed", files.len() - failures.len(), files.len());
    assert!(failures.is_empty(), "pseudo failures:\n{}", failures.join("\n"));
}

#[path = "text_corpus/check.rs"]
mod check;
