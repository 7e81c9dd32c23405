//! `translate_all` with an engine that records what it is told, and the language-flag rule.

use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use tradia_core::{BoxFuture, EngineError, SegmentResult, TranslateRequest};

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
    let options = args.read.extract_options().unwrap();
    let (summary, _) =
        runtime.block_on(translate_all(&args, &options, &dir.path().join("out"), &engine));
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

/// Keeps the first segment of every file; the file named `late` waits until every other file
/// has been answered, so it finishes last although it starts first.
struct Gated {
    late: String,
    others_left: std::sync::atomic::AtomicUsize,
    answered: tokio::sync::Notify,
}

impl Engine for Gated {
    fn name(&self) -> &str {
        "gated"
    }
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            if request.owner == self.late {
                while self.others_left.load(Ordering::SeqCst) > 0 {
                    let answered = self.answered.notified();
                    if self.others_left.load(Ordering::SeqCst) == 0 {
                        break;
                    }
                    answered.await;
                }
            }
            let results = request
                .pending_segments()
                .map(|s| {
                    if s.id == 0 {
                        SegmentResult::kept_source(s, "test_kept", "kept by the test engine")
                    } else {
                        SegmentResult {
                            id: s.id,
                            content: s.content.clone(),
                            kept: None,
                            flags: Vec::new(),
                        }
                    }
                })
                .collect();
            if request.owner != self.late {
                self.others_left.fetch_sub(1, Ordering::SeqCst);
                self.answered.notify_waiters();
            }
            Ok(results)
        })
    }
}

/// Three example files translated into `dir/out` with `--parallel-files parallel` by a [`Gated`]
/// engine whose file `late` waits for the others (`None` if that never ended).
fn run_gated(dir: &Path, parallel: &str, late: &str) -> Option<Summary> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenari");
    let mut argv = vec!["translate".to_string()];
    for name in ["cours-meteo.xml", "pression.ref", "qcm-meteo.quiz"] {
        std::fs::copy(examples.join(name), dir.join(name)).unwrap();
        argv.push(dir.join(name).display().to_string());
    }
    argv.extend(["--to", "en", "--from", "fr", "--parallel-files", parallel].map(String::from));
    let args = Cli::try_parse_from(argv).unwrap().args;
    let engine =
        Gated { late: late.into(), others_left: 2.into(), answered: tokio::sync::Notify::new() };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let out = dir.join("out");
    let options = args.read.extract_options().unwrap();
    let work = translate_all(&args, &options, &out, &engine);
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(300), work).await.ok() })
        .map(|(summary, _)| summary)
}

#[test]
fn files_are_translated_at_once_and_reported_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    // The first file waits for the two others: run one at a time, this never ends.
    let summary = run_gated(dir.path(), "3", "cours-meteo.xml")
        .expect("the first file can only finish once the others have: they ran at once");
    assert_eq!(summary.failed, 0, "{:?}", summary.details);
    let names: Vec<String> = summary.details.iter().map(|d| file_label(&d.input)).collect();
    assert_eq!(names, ["cours-meteo.xml", "pression.ref", "qcm-meteo.quiz"]);
    for detail in &summary.details {
        assert_eq!(detail.kept_as_source, 1, "{detail:?}");
        let output = detail.output.as_ref().unwrap();
        assert_eq!(output, &dir.path().join("out").join(file_label(&detail.input)));
        assert!(output.exists());
    }
    assert_eq!(summary.kept_as_source, 3);
}

#[test]
fn one_file_at_a_time_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    // The last file waits for the others: one at a time, in input order, it still ends.
    let summary = run_gated(dir.path(), "1", "qcm-meteo.quiz").expect("in order, it ends");
    assert_eq!(summary.failed, 0, "{:?}", summary.details);
    assert_eq!(summary.kept_as_source, 3);
    assert!(
        Cli::try_parse_from(["translate", "a.xml", "--to", "en", "--parallel-files", "0"]).is_err()
    );
}
