//! Benchmark run (not a test) against a real OpenAI-compatible server, typically
//! `shared/tools/real-llm.sh start PORT 4`: translates the given files one after the other,
//! English to French, and prints wall time, slot occupancy (server busy time from llama-server's
//! `timings` ÷ slots × wall), requests, answers cut, tokens wasted and the share kept as source.
//!
//! `cargo run -p tradia-llm --example real_run -- URL SLOTS FILE…` (URL without `/v1`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use tradia_core::{CancelFlag, Engine, LanguageTag, NoSink, Priority, TranslateRequest};
use tradia_formats::{ExtractOptions, extract};
use tradia_llm::{LlmEngine, LlmSettings};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, slots, files) = match args.as_slice() {
        [url, slots, files @ ..] if !files.is_empty() => {
            (url, slots.parse::<usize>().unwrap(), files)
        }
        _ => panic!("usage: real_run URL SLOTS FILE…"),
    };
    let mut s = LlmSettings::for_openai(&format!("{url}/v1"), "SmolLM2-135M-Instruct");
    s.slots = slots;
    s.timeout = Duration::from_secs(300);
    let engine = LlmEngine::new(s).unwrap();
    let start = Instant::now();
    let (mut segments, mut kept) = (0usize, 0usize);
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        let name = std::path::Path::new(f).file_name().unwrap().to_string_lossy().into_owned();
        let doc = extract(&name, &bytes, &ExtractOptions::default()).unwrap();
        let t = Instant::now();
        let r = engine
            .translate(TranslateRequest {
                source: Some(LanguageTag::parse("en").unwrap()),
                target: LanguageTag::parse("fr").unwrap(),
                segments: &doc.segments,
                pending: doc.segments.iter().map(|s| s.id).collect(),
                priority: Priority::Document,
                owner: name.clone(),
                cancel: CancelFlag::new(),
                sink: &NoSink,
                guidance: Default::default(),
            })
            .await;
        match r {
            Ok(results) => {
                let k = results.iter().filter(|r| r.kept.is_some()).count();
                println!(
                    "{name}: {} segments, {k} kept, {:.0} s",
                    results.len(),
                    t.elapsed().as_secs_f64()
                );
                segments += results.len();
                kept += k;
            }
            Err(e) => println!("{name}: failed: {e}"),
        }
        summary(&engine, files.len(), segments, kept, slots, start.elapsed().as_secs_f64());
    }
}

/// The figures so far (printed after each file, so that an interrupted run still has them).
fn summary(
    engine: &LlmEngine,
    files: usize,
    segments: usize,
    kept: usize,
    slots: usize,
    wall: f64,
) {
    let ds = engine.detailed_stats();
    println!(
        "{files} files, {segments} segments, {kept} kept ({:.0} %), wall {wall:.0} s, occupancy {:.0} %, \
         {} requests, {} responses, {} answers cut, {} misaligned, {} output tokens, {} tokens wasted ({:.0} %)",
        kept as f64 * 100.0 / segments.max(1) as f64,
        ds.busy_seconds * 100.0 / (slots as f64 * wall),
        ds.engine.requests,
        ds.responses,
        ds.cut_answers,
        ds.misaligned,
        ds.engine.output_tokens,
        ds.wasted_tokens,
        ds.wasted_tokens as f64 * 100.0 / ds.engine.output_tokens.max(1) as f64
    );
}
