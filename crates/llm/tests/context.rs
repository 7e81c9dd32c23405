//! The server's limits (issue 18): the context per slot is read from the server, batches and
//! output limits are sized to fit it, and a context too small for any request fails the file
//! and `check` with an error naming its size, instead of keeping every segment as source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tradia_core::{
    CancelFlag, Content, Engine, EngineError, LanguageTag, Priority, ResultSink, Segment,
    SegmentResult, TranslateRequest,
};
use tradia_llm::{LlmEngine, LlmSettings, diagnostics};
use tradia_llm_sim::{Flavor, SimConfig, SimHandle, start};

struct Nothing;
impl ResultSink for Nothing {
    fn segment_done(&self, _: &SegmentResult) {}
}

fn doc(n: u32) -> Vec<Segment> {
    (0..n)
        .map(|i| Segment {
            id: i,
            content: Content::text(format!(
                "Le paragraphe numéro {i} explique comment les élèves préparent leur exposé en classe."
            )),
            location: String::new(),
            field: "p".into(),
        })
        .collect()
}

async fn llama(ctx: u32) -> SimHandle {
    start(SimConfig {
        port: 0,
        time_scale: 400.0,
        flavor: Flavor::LlamaCpp,
        models: Some(vec!["SmolLM2-135M-Instruct".into()]),
        latency: tradia_llm_sim::Latency { default_num_ctx: ctx, ..Default::default() },
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn engine(h: &SimHandle) -> LlmEngine {
    let mut s = LlmSettings::for_openai(&format!("{}/v1", h.base_url()), "SmolLM2-135M-Instruct");
    s.timeout = Duration::from_secs(5);
    // Configured larger than the server's: what the server says wins.
    s.num_ctx = 32_768;
    LlmEngine::new(s).unwrap()
}

async fn translate(e: &LlmEngine, segs: &[Segment]) -> Result<Vec<SegmentResult>, EngineError> {
    e.translate(TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: segs,
        pending: segs.iter().map(|s| s.id).collect(),
        priority: Priority::Document,
        owner: "job".into(),
        cancel: CancelFlag::new(),
        sink: &Nothing,
        guidance: Default::default(),
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_512_token_context_fails_the_file_and_the_check_naming_its_size() {
    let h = llama(512).await;
    let e = engine(&h);
    assert_eq!(e.context_size().await, 512, "read from /props");
    let err = translate(&e, &doc(7)).await.unwrap_err();
    let EngineError::Rejected(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("512 tokens per slot"), "{msg}");
    assert_eq!(h.stats().requests, 0, "no request that cannot fit is sent");
    let report = diagnostics::check(&e).await;
    assert!(!report.ok(), "{report}");
    assert!(report.to_string().contains("512"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_sized_to_the_servers_context() {
    let h = llama(2048).await;
    let e = engine(&h);
    let segs = doc(60);
    let r = translate(&e, &segs).await.unwrap();
    assert!(r.iter().all(|x| x.kept.is_none()), "{r:?}");
    // No request overflowed the context (the simulator answers 400 to one that does).
    assert!(h.stats().http_errors.is_empty(), "{:?}", h.stats().http_errors);
    let sink = Nothing;
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
    let reqs = e.batch_requests(&request);
    assert!(reqs.len() > 6, "more, smaller batches than BATCH_SIZE alone gives: {}", reqs.len());
    for r in &reqs {
        let prompt = (r.system.len() + r.user.len()).div_ceil(3) as u32;
        assert!(prompt + r.max_tokens <= 2048, "{prompt} + {} tokens", r.max_tokens);
    }
    let report = diagnostics::check(&e).await;
    assert!(report.ok(), "{report}");
    let text = report.to_string();
    assert!(text.contains("context of 2048 tokens"), "{text}");
    assert!(text.contains("JSON schema enforced"), "{text}");
    assert!(text.contains("tokens/s"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_too_long_for_the_context_is_sent_in_parts_of_whole_sentences() {
    let h = llama(2048).await;
    let e = engine(&h);
    let sentences: Vec<String> = (0..40)
        .map(|i| {
            format!("La phrase numéro {i} décrit une étape du projet pédagogique de la classe.")
        })
        .collect();
    let mut text = sentences.join(" ");
    text.push_str(" Voir le <g1>guide</g1>.");
    let segs = vec![Segment {
        id: 0,
        content: Content::parse(&text).unwrap(),
        location: String::new(),
        field: "p".into(),
    }];
    let r = translate(&e, &segs).await.unwrap();
    assert!(r[0].kept.is_none(), "{:?}", r[0].kept);
    let out = r[0].content.render();
    assert!(r[0].content.check_codes_against(&segs[0].content).is_ok(), "{out}");
    // Every sentence translated, in order, once.
    let mut from = 0;
    for i in 0..40 {
        let at = out[from..]
            .find(&format!("ñúméró {i} "))
            .unwrap_or_else(|| panic!("sentence {i} in {out}"));
        from += at;
    }
    assert!(h.stats().requests >= 2, "sent in parts: {} requests", h.stats().requests);
    assert!(h.stats().http_errors.is_empty(), "{:?}", h.stats().http_errors);
}

/// One long segment without any sentence end (issue 14: a 49 MB paragraph became one request).
fn unpunctuated(words: usize) -> Vec<Segment> {
    let text: Vec<String> = (0..words).map(|i| format!("mot{i} de la classe")).collect();
    vec![Segment {
        id: 0,
        content: Content::parse(&format!("{} <g1>fin</g1>", text.join(" "))).unwrap(),
        location: String::new(),
        field: "p".into(),
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentence_too_long_for_the_context_is_sent_in_parts_of_whole_words() {
    let h = llama(2048).await;
    let e = engine(&h);
    let segs = unpunctuated(400); // about 7,600 bytes, no sentence end: over the context alone
    let r = translate(&e, &segs).await.unwrap();
    assert!(r[0].kept.is_none(), "{:?}", r[0].kept);
    assert!(r[0].content.check_codes_against(&segs[0].content).is_ok());
    assert!(h.stats().requests >= 3, "sent in parts: {} requests", h.stats().requests);
    assert!(h.stats().http_errors.is_empty(), "{:?}", h.stats().http_errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_longer_than_max_segment_chars_is_cut_though_the_context_is_large() {
    let h = llama(32_768).await;
    let mut s = LlmSettings::for_openai(&format!("{}/v1", h.base_url()), "SmolLM2-135M-Instruct");
    s.timeout = Duration::from_secs(5);
    s.max_segment_chars = 400;
    let e = LlmEngine::new(s).unwrap();
    let segs = unpunctuated(100); // about 1,900 bytes
    let sink = Nothing;
    let request = TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: &segs,
        pending: vec![0],
        priority: Priority::Document,
        owner: "plan".into(),
        cancel: CancelFlag::new(),
        sink: &sink,
        guidance: Default::default(),
    };
    // Every part on the wire is at most 400 bytes of segment text.
    let _ = e.context_size().await;
    let reqs = e.batch_requests(&request);
    let texts: Vec<String> = reqs
        .iter()
        .flat_map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.user).unwrap();
            v["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["text"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(texts.len() >= 5, "{texts:?}");
    assert!(texts.iter().all(|t| t.len() <= 400), "{texts:?}");
    let r = translate(&e, &segs).await.unwrap();
    assert!(r[0].kept.is_none(), "{:?}", r[0].kept);
    assert!(r[0].content.check_codes_against(&segs[0].content).is_ok());
}
