//! Interactive fairness between users on a 4-slot simulated server: while user A has 200 text
//! requests waiting, user B's single request is served at the next free slot, so it waits for
//! at most a few of A's requests, not for all of them. Judged by counting how many of A's
//! requests finish between B's arrival and B's answer (positions, not seconds), on both text
//! paths: the plain one (`Engine::translate`) and the streaming one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tradia_core::{
    CancelFlag, Content, Engine, LanguageTag, NoSink, Priority, Segment, TranslateRequest,
};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{DEFAULT_MODEL, SimConfig};

const SLOTS: usize = 4;
const A_REQUESTS: usize = 200;

/// One text request of `owner`, through the plain or the streaming path.
async fn text_request(engine: &LlmEngine, owner: &str, text: &str, streaming: bool) {
    let en = LanguageTag::parse("en").unwrap();
    let fr = Some(LanguageTag::parse("fr").unwrap());
    if streaming {
        let pieces: Vec<String> = engine
            .translate_text_stream(text, fr, en, None, owner)
            .map(Result::unwrap)
            .collect()
            .await;
        assert!(!pieces.concat().is_empty());
        return;
    }
    let segments = [Segment {
        id: 0,
        content: Content::text(text),
        location: "text".into(),
        field: "text".into(),
    }];
    let request = TranslateRequest {
        source: fr,
        target: en,
        segments: &segments,
        pending: vec![0],
        priority: Priority::Interactive,
        owner: owner.to_string(),
        cancel: CancelFlag::new(),
        sink: &NoSink,
        guidance: Default::default(),
    };
    let results = engine.translate(request).await.unwrap();
    assert_eq!(results.len(), 1);
}

/// How many of A's requests finished while B's one was waiting and being answered.
async fn a_requests_finished_during_bs(streaming: bool) -> usize {
    let config =
        SimConfig { port: 0, slots: SLOTS as u32, time_scale: 20.0, ..SimConfig::default() };
    let sim = tradia_llm_sim::start(config).await.unwrap();
    let mut settings = LlmSettings::for_ollama(&sim.base_url(), DEFAULT_MODEL);
    settings.slots = SLOTS;
    let engine = LlmEngine::new(settings).unwrap();
    let finished = Arc::new(AtomicUsize::new(0));
    let mut a_tasks = Vec::new();
    for i in 0..A_REQUESTS {
        let (engine, finished) = (engine.clone(), finished.clone());
        a_tasks.push(tokio::spawn(async move {
            let text = format!("Bonjour, voici la demande numéro {i} de la personne A.");
            text_request(&engine, "user-a", &text, streaming).await;
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    // B arrives once A's requests fill the queue.
    let mut polls = 0;
    while engine.queued() < A_REQUESTS / 2 {
        polls += 1;
        assert!(polls < 20_000, "A's requests never queued up (queued: {})", engine.queued());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let before = finished.load(Ordering::SeqCst);
    let queued_before = engine.queued();
    text_request(&engine, "user-b", "Une seule phrase de la personne B.", streaming).await;
    let during = finished.load(Ordering::SeqCst) - before;
    assert!(engine.queued() > 0, "A still had requests waiting when B's was answered");
    println!(
        "streaming={streaming}: {during} of A's requests finished during B's ({queued_before} of \
         A's waiting when B arrived)"
    );
    for t in a_tasks {
        t.await.unwrap();
    }
    assert_eq!(finished.load(Ordering::SeqCst), A_REQUESTS);
    sim.shutdown().await;
    during
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_200_text_requests_do_not_hold_up_anothers_single_request() {
    for streaming in [false, true] {
        let during = a_requests_finished_during_bs(streaming).await;
        // B takes the first slot freed after it arrived (A's requests in flight then finish:
        // at most SLOTS), and while B is answered the other slots serve a few more of A's.
        // Without fairness between users, B would wait for the ~100 queued before it.
        assert!(
            during <= 4 * SLOTS,
            "streaming={streaming}: {during} of A's requests finished while B's waited"
        );
    }
}
