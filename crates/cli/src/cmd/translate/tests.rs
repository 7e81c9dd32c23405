//! `translate_all` with an engine that records what it is told, and the language-flag rule.

use std::sync::Mutex;

use clap::Parser;
use tradia_core::{BoxFuture, EngineError};

use super::*;

/// `tradia translate`'s arguments on their own.
#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: TranslateArgs,
}

/// Returns segments unchanged and notes the source language each request named.
#[derive(Default)]
struct Recording(Mutex<Vec<Option<LanguageTag>>>);

impl Engine for Recording {
    fn name(&self) -> &str {
        "recording"
    }
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        self.0.lock().unwrap().push(request.source.clone());
        Box::pin(async move {
            Ok(request
                .pending_segments()
                .map(|s| SegmentResult {
                    id: s.id,
                    content: s.content.clone(),
                    kept: None,
                    flags: Vec::new(),
                })
                .collect())
        })
    }
}

fn sources(extra: &[&str]) -> Vec<Option<LanguageTag>> {
    let dir = tempfile::tempdir().unwrap();
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenari/cours-meteo.xml");
    let input = dir.path().join("cours-meteo.xml");
    std::fs::copy(example, &input).unwrap();
    let mut argv = vec!["translate".to_string(), input.display().to_string()];
    argv.extend(["--to", "en"].iter().chain(extra).map(|s| s.to_string()));
    let args = Cli::try_parse_from(argv).unwrap().args;
    let engine = Recording::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let summary = runtime.block_on(translate_all(&args, &dir.path().join("out"), &engine));
    assert_eq!(summary.failed, 0, "{:?}", summary.details);
    engine.0.into_inner().unwrap()
}

#[test]
fn the_engine_is_given_the_detected_source_language() {
    assert_eq!(sources(&[]), vec![Some(LanguageTag::parse("fr").unwrap())]);
}

#[test]
fn the_engine_is_given_the_source_language_of_from() {
    assert_eq!(sources(&["--from", "de"]), vec![Some(LanguageTag::parse("de").unwrap())]);
}

#[test]
fn language_flags_follow_the_api_rule() {
    assert_eq!(known_language("PT_br").unwrap().as_str(), "pt-BR");
    assert!(known_language("xx").unwrap_err().contains("not a language code Tradia knows"));
    assert!(known_language("english!").unwrap_err().contains("not a language code"));
}
