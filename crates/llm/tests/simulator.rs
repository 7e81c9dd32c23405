//! The engine against the simulated server (crates/llm-sim), which shares no code with it:
//! with every fault kind enabled (`all=0.015`) at most 1 % of segments may be kept as source,
//! every kept segment must be reported, and the inline codes of every output must be those of
//! its input (checked by a multiset comparison written here, not by the validator under test);
//! without faults nothing is kept and every answer is the simulator's pseudo-translation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{
    CancelFlag, ContentBuilder, Engine, LanguageTag, Priority, ResultSink, Segment, SegmentResult,
    TranslateRequest,
};
use tradia_llm::{LlmEngine, LlmSettings, diagnostics};
use tradia_llm_sim::{FaultSpec, SimConfig, SimHandle, start};

/// Inline code tags of a rendering, as a sorted multiset (`<g1>`, `</g1>`, `<x2/>`).
fn code_multiset(rendered: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let b = rendered.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let mut j = i + 1;
            if j < b.len() && b[j] == b'/' {
                j += 1;
            }
            if j < b.len() && (b[j] == b'g' || b[j] == b'x') {
                let mut k = j + 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                if k < b.len() && b[k] == b'/' {
                    k += 1;
                }
                if k > j + 1 && k < b.len() && b[k] == b'>' {
                    *out.entry(rendered[i..=k].to_string()).or_insert(0) += 1;
                    i = k + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

const WORDS: &[&str] = &[
    "le",
    "projet",
    "pédagogique",
    "de",
    "l'établissement",
    "vise",
    "à",
    "renforcer",
    "les",
    "compétences",
    "des",
    "élèves",
    "en",
    "lecture",
    "et",
    "écriture",
    "avec",
    "un",
    "suivi",
    "personnalisé",
    "chaque",
    "semaine",
    "dans",
    "la",
    "classe",
    "numérique",
];

/// `n` words, varied by `seed` (with a number so that segments differ).
fn words(seed: usize, n: usize) -> String {
    let mut w: Vec<String> =
        (0..n).map(|k| WORDS[(seed * 7 + k * 3 + seed / 26) % WORDS.len()].to_string()).collect();
    w.insert(n / 2, format!("n°{seed}"));
    w.join(" ")
}

/// Segments with nested paired codes, standalone codes, codes at the edges, escaped text,
/// duplicates and code-only segments.
fn segments(n: usize) -> Vec<Segment> {
    (0..n)
        .map(|i| {
            let mut b = ContentBuilder::new();
            match i % 7 {
                0 => b.text(&format!("{}.", words(i, 12))),
                1 => {
                    b.text(&format!("{} ", words(i, 4)));
                    b.open();
                    b.text(&format!("{} ", words(i + 1, 3)));
                    b.open();
                    b.text(&words(i + 2, 2));
                    b.close();
                    b.close();
                    b.text(&format!(" {} ", words(i + 3, 5)));
                    b.standalone();
                    b.text(" fin.");
                }
                2 => {
                    // Wrapped entirely: the edges are kept out of the request.
                    b.open();
                    b.text(&format!("Titre {}", words(i, 3)));
                    b.close();
                }
                3 => {
                    b.standalone();
                    b.text(&format!(" {} <balise> & {} ", words(i, 5), words(i + 4, 3)));
                    b.open();
                    b.text("lien");
                    b.close();
                    b.text(".");
                }
                4 => b.text("Cliquez sur Valider."), // duplicated text
                5 => {
                    b.standalone();
                    b.text(" 2024 ");
                    b.standalone();
                }
                _ => {
                    b.text(&format!("{} ", words(i, 6)));
                    for _ in 0..3 {
                        b.open();
                        b.text(&words(i + 5, 2));
                        b.close();
                        b.text(", ");
                    }
                    b.text(&format!("{}.", words(i + 9, 4)));
                }
            }
            Segment {
                id: i as u32,
                content: b.finish().unwrap(),
                location: format!("test #{i}"),
                field: "p".into(),
            }
        })
        .collect()
}

#[derive(Default)]
struct Collect(Mutex<Vec<SegmentResult>>);

impl ResultSink for Collect {
    fn segment_done(&self, result: &SegmentResult) {
        self.0.lock().unwrap().push(result.clone());
    }
}

async fn sim(faults: &str, seed: u64) -> SimHandle {
    let config = SimConfig {
        port: 0,
        slots: 4,
        time_scale: 400.0,
        faults: FaultSpec::parse(faults).unwrap(),
        seed,
        hang_real_s: 30.0,
        ..SimConfig::default()
    };
    start(config).await.unwrap()
}

fn engine(url: &str) -> LlmEngine {
    let mut s = LlmSettings::for_ollama(url, "mistral-small3.2:latest");
    s.timeout = Duration::from_secs(2);
    s.retry_base_delay = Duration::from_millis(20);
    s.max_retries = 4;
    LlmEngine::new(s).unwrap()
}

/// What the simulator's pseudo-translation gives; text without letters is not sent at all.
fn expected(seg: &Segment) -> tradia_core::Content {
    if seg.edges().core.has_letters() { pseudo_content(&seg.content) } else { seg.content.clone() }
}

struct Run {
    results: Vec<SegmentResult>,
    reported: Vec<SegmentResult>,
}

async fn translate(engine: &LlmEngine, segs: &[Segment]) -> Run {
    let sink = Collect::default();
    let request = TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: segs,
        pending: segs.iter().map(|s| s.id).collect(),
        priority: Priority::Document,
        owner: "job-1".into(),
        cancel: CancelFlag::new(),
        sink: &sink,
        guidance: Default::default(),
    };
    let results = engine.translate(request).await.expect("translation finishes");
    Run { results, reported: sink.0.into_inner().unwrap() }
}

fn check_codes(segs: &[Segment], run: &Run) {
    assert_eq!(run.results.len(), segs.len());
    for (seg, r) in segs.iter().zip(&run.results) {
        assert_eq!(r.id, seg.id);
        assert_eq!(
            code_multiset(&r.content.render()),
            code_multiset(&seg.content.render()),
            "segment {}: {} → {}",
            seg.id,
            seg.content.render(),
            r.content.render()
        );
    }
    // Every result was reported to the sink exactly once, kept ones included, with the same
    // content.
    let mut reported: BTreeMap<u32, &SegmentResult> = BTreeMap::new();
    for r in &run.reported {
        assert!(reported.insert(r.id, r).is_none(), "segment {} reported twice", r.id);
    }
    for r in &run.results {
        assert_eq!(reported.get(&r.id), Some(&r), "segment {} reported as returned", r.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_nothing_is_kept_and_answers_are_exact() {
    let handle = sim("", 1).await;
    let segs = segments(210);
    let engine = engine(&handle.base_url());
    let run = translate(&engine, &segs).await;
    check_codes(&segs, &run);
    let kept: Vec<_> = run.results.iter().filter(|r| r.kept.is_some()).collect();
    assert!(kept.is_empty(), "kept without faults: {kept:?}");
    for (seg, r) in segs.iter().zip(&run.results) {
        assert_eq!(r.content, expected(seg), "segment {}", seg.id);
    }
    let stats = handle.stats();
    assert_eq!(stats.reloads, 0, "num_ctx is the same on every request");
    assert!(stats.max_concurrent <= 4);
    // Identical segments are asked once; nothing is asked twice without faults.
    assert!(stats.segments.values().all(|&n| n == 1), "{:?}", stats.segments);
    let es = engine.stats();
    assert_eq!(es.retries, 0);
    assert!(es.requests < 40, "batched: {} requests for {} segments", es.requests, segs.len());
    println!("no faults: {} segments, {} requests", segs.len(), es.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_fault_at_most_one_percent_is_kept_and_reported() {
    let handle = sim("all=0.015", 7).await;
    let segs = segments(2100);
    let engine = engine(&handle.base_url());
    let run = translate(&engine, &segs).await;
    check_codes(&segs, &run);
    let kept: Vec<_> = run.results.iter().filter(|r| r.kept.is_some()).collect();
    let stats = handle.stats();
    let ds = engine.detailed_stats();
    println!(
        "faults all=0.015: {} segments, {} kept, {} repaired, {} requests, {} retries, faults {:?}",
        segs.len(),
        kept.len(),
        ds.repaired,
        ds.engine.requests,
        ds.engine.retries,
        stats.faults
    );
    assert!(stats.faults.values().sum::<u64>() > 0, "faults were injected");
    assert!(kept.len() * 100 <= segs.len(), "{} of {} kept: {kept:?}", kept.len(), segs.len());
    for k in &kept {
        let reason = k.kept.as_ref().unwrap();
        assert!(!reason.code.is_empty() && !reason.message.is_empty());
        assert_eq!(k.content, segs[k.id as usize].content, "a kept segment is its source");
    }
    // Apart from kept and repaired ones, every answer is the exact pseudo-translation.
    let exact = segs.iter().zip(&run.results).filter(|(s, r)| r.content == expected(s)).count();
    assert!(
        exact as u64 + kept.len() as u64 + ds.repaired >= segs.len() as u64,
        "exact {exact}, kept {}, repaired {}",
        kept.len(),
        ds.repaired
    );
    assert!(stats.max_concurrent <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_dialect_works_end_to_end() {
    let handle = sim("", 2).await;
    let segs = segments(70);
    let mut s =
        LlmSettings::for_openai(&format!("{}/v1", handle.base_url()), "mistral-small3.2:latest");
    s.timeout = Duration::from_secs(5);
    let engine = LlmEngine::new(s).unwrap();
    let run = translate(&engine, &segs).await;
    check_codes(&segs, &run);
    for (seg, r) in segs.iter().zip(&run.results) {
        assert_eq!(r.content, expected(seg), "segment {}", seg.id);
    }
    assert!(engine.stats().output_tokens > 0, "usage read from /v1 answers");
    let models = engine.models().await.unwrap();
    assert!(models.iter().any(|m| m.name == "mistral-small3.2:latest"), "{models:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_dialect_works_against_the_llama_cpp_flavor() {
    let handle = start(SimConfig {
        port: 0,
        time_scale: 400.0,
        flavor: tradia_llm_sim::Flavor::LlamaCpp,
        models: Some(vec!["SmolLM2-135M-Instruct".into()]),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let segs = segments(70);
    let mut s =
        LlmSettings::for_openai(&format!("{}/v1", handle.base_url()), "SmolLM2-135M-Instruct");
    s.timeout = Duration::from_secs(5);
    let engine = LlmEngine::new(s).unwrap();
    let run = translate(&engine, &segs).await;
    check_codes(&segs, &run);
    for (seg, r) in segs.iter().zip(&run.results) {
        assert_eq!(r.content, expected(seg), "segment {}", seg.id);
    }
    assert!(engine.stats().output_tokens > 0, "usage read from llama-server answers");
    let report = diagnostics::check(&engine).await;
    assert!(report.ok(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_models_and_text_stream_against_the_simulator() {
    let config = SimConfig {
        port: 0,
        time_scale: 400.0,
        api_key: Some("sekret".into()),
        models: Some(vec!["mistral-small3.2:latest".into(), "qwen3:8b".into()]),
        ..SimConfig::default()
    };
    let handle = start(config).await.unwrap();
    let args = tradia_llm::LlmArgs {
        ollama_base_url: handle.base_url(),
        ollama_api_key: Some("sekret".to_string().into()),
        ..Default::default()
    };
    let engine = LlmEngine::new(args.settings().unwrap()).unwrap();
    let report = diagnostics::check(&engine).await;
    assert!(report.ok(), "{report}");
    let names: Vec<String> = engine.models().await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["mistral-small3.2:latest", "qwen3:8b"]);
    let health = engine.health().await;
    assert!(health[0].reachable && health[0].version.is_some(), "{health:?}");

    use futures::StreamExt;
    let tokens: Vec<String> = engine
        .translate_text_stream(
            "Bonjour à tous",
            Some("fr".parse().unwrap()),
            "en".parse().unwrap(),
            None,
            "user",
        )
        .map(Result::unwrap)
        .collect()
        .await;
    assert!(tokens.len() > 1, "streamed: {tokens:?}");
    assert!(tokens.concat().contains("Bóńjóúr") || tokens.concat().contains('⟦'), "{tokens:?}");

    // A wrong key and a model that is not served are explained in plain words.
    let wrong = tradia_llm::LlmArgs {
        ollama_base_url: handle.base_url(),
        ollama_api_key: Some("nope".to_string().into()),
        ..Default::default()
    };
    let report = diagnostics::check(&LlmEngine::new(wrong.settings().unwrap()).unwrap()).await;
    assert!(!report.ok() && report.to_string().contains("OLLAMA_API_KEY"), "{report}");
    let other = tradia_llm::LlmArgs {
        ollama_base_url: handle.base_url(),
        ollama_api_key: Some("sekret".to_string().into()),
        ollama_model: "llama3:70b".into(),
        ..Default::default()
    };
    let report = diagnostics::check(&LlmEngine::new(other.settings().unwrap()).unwrap()).await;
    assert!(report.to_string().contains("ollama pull llama3:70b"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repetition_loops_are_cut_before_the_output_limit_and_the_document_completes() {
    for flavor in [tradia_llm_sim::Flavor::Ollama, tradia_llm_sim::Flavor::LlamaCpp] {
        let handle = start(SimConfig {
            port: 0,
            time_scale: 400.0,
            flavor,
            faults: FaultSpec::parse("repeat_loop=0.3").unwrap(),
            seed: 5,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let segs = segments(280);
        let mut s = match flavor {
            tradia_llm_sim::Flavor::Ollama => {
                LlmSettings::for_ollama(&handle.base_url(), "mistral-small3.2:latest")
            }
            tradia_llm_sim::Flavor::LlamaCpp => LlmSettings::for_openai(
                &format!("{}/v1", handle.base_url()),
                "mistral-small3.2:latest",
            ),
        };
        s.timeout = Duration::from_secs(5);
        let engine = LlmEngine::new(s).unwrap();
        let run = translate(&engine, &segs).await;
        check_codes(&segs, &run);
        for (seg, r) in segs.iter().zip(&run.results) {
            if r.kept.is_none() {
                assert_eq!(r.content, expected(seg), "segment {}", seg.id);
            }
        }
        let kept = run.results.iter().filter(|r| r.kept.is_some()).count();
        let ds = engine.detailed_stats();
        let loops = handle.stats().faults.get("repeat_loop").copied().unwrap_or(0);
        println!(
            "{flavor:?} repeat_loop=0.3: {} segments, {kept} kept, {} answers cut, {} tokens wasted, {loops} loops",
            segs.len(),
            ds.cut_answers,
            ds.wasted_tokens
        );
        assert!(loops > 0 && ds.cut_answers >= loops / 2, "{loops} loops, {} cut", ds.cut_answers);
        // A loop starts halfway through an answer; cut early, it costs less than the output
        // limit of the smallest first request, which it would otherwise run to.
        let sink = Collect::default();
        let request = TranslateRequest {
            source: Some(LanguageTag::parse("fr").unwrap()),
            target: LanguageTag::parse("en").unwrap(),
            segments: &segs,
            pending: segs.iter().map(|s| s.id).collect(),
            priority: Priority::Document,
            owner: "plan".into(),
            cancel: CancelFlag::new(),
            sink: &sink,
            guidance: Default::default(),
        };
        let limit = engine.batch_requests(&request).iter().map(|r| r.max_tokens).min().unwrap();
        assert!(ds.wasted_tokens > 0);
        assert!(
            ds.wasted_tokens < ds.cut_answers * u64::from(limit),
            "{} tokens for {} cuts (limit {limit})",
            ds.wasted_tokens,
            ds.cut_answers
        );
        assert!(kept * 100 <= segs.len() * 2, "{kept} kept");
    }
}
