//! The engine's batching, validation and repair ladder, cancellation and failover, against a
//! scripted mock Ollama server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tradia_core::{
    CancelFlag, Content, Engine, EngineError, LanguageTag, Priority, ResultSink, Segment,
    SegmentResult, TranslateRequest,
};
use tradia_llm::{LlmEngine, LlmSettings};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn seg(id: u32, rendered: &str) -> Segment {
    Segment {
        id,
        content: Content::parse(rendered).unwrap(),
        location: String::new(),
        field: "p".into(),
    }
}

fn settings(url: &str) -> LlmSettings {
    let mut s = LlmSettings::for_ollama(url, "m");
    s.timeout = Duration::from_secs(5);
    s.retry_base_delay = Duration::from_millis(5);
    s
}

#[derive(Default)]
struct Collect(Mutex<Vec<SegmentResult>>);
impl ResultSink for Collect {
    fn segment_done(&self, r: &SegmentResult) {
        self.0.lock().unwrap().push(r.clone());
    }
}

/// The batch request a mock received: (segments (id, text), note present).
fn batch_of(r: &Request) -> (Vec<(String, String)>, bool, Value) {
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let user: Value =
        serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap();
    let segs = user["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["text"].as_str().unwrap().to_string()))
        .collect();
    (segs, user.get("note").is_some(), user)
}

fn answer(entries: &[(String, String)]) -> ResponseTemplate {
    let list: Vec<Value> = entries.iter().map(|(id, t)| json!({"id": id, "text": t})).collect();
    let content = json!({ "translations": list }).to_string();
    ResponseTemplate::new(200).set_body_json(json!({
        "message": {"role": "assistant", "content": content},
        "done": true, "done_reason": "stop", "prompt_eval_count": 10, "eval_count": 5,
        "prompt_eval_duration": 1000, "eval_duration": 2000,
    }))
}

/// "Translation" used by the mocks: upper-case the text outside tags.
fn upper(rendered: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in rendered.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ => {}
        }
        out.extend(if in_tag { vec![c] } else { c.to_uppercase().collect() });
    }
    out
}

/// Translation requests a mock received (the context-size probe to `/api/show` aside).
async fn chat_requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/api/chat").count()
}

async fn run(
    engine: &LlmEngine,
    segs: &[Segment],
    cancel: CancelFlag,
) -> (Result<Vec<SegmentResult>, EngineError>, Vec<SegmentResult>) {
    let sink = Collect::default();
    let req = TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: segs,
        pending: segs.iter().map(|s| s.id).collect(),
        priority: Priority::Document,
        owner: "job".into(),
        cancel,
        sink: &sink,
        guidance: Default::default(),
    };
    let r = engine.translate(req).await;
    (r, sink.0.into_inner().unwrap())
}

#[tokio::test]
async fn answers_are_matched_by_id_not_position_and_context_is_sent() {
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let (segs, _, user) = batch_of(r);
            seen2.lock().unwrap().push(user);
            let mut out: Vec<(String, String)> =
                segs.iter().map(|(id, t)| (id.clone(), upper(t))).collect();
            out.reverse();
            answer(&out)
        })
        .mount(&server)
        .await;
    let mut s = settings(&server.uri());
    s.batch_size = 3;
    let engine = LlmEngine::new(s).unwrap();
    let segs: Vec<Segment> =
        (0..7).map(|i| seg(i, &format!("phrase <g1>numéro</g1> {i}"))).collect();
    let (r, reported) = run(&engine, &segs, CancelFlag::new()).await;
    let r = r.unwrap();
    for (i, res) in r.iter().enumerate() {
        assert_eq!(res.content.render(), format!("PHRASE <g1>NUMÉRO</g1> {i}"));
        assert!(res.kept.is_none());
    }
    assert_eq!(reported.len(), 7);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "7 segments in batches of 3");
    let later = seen.iter().find(|u| u["segments"][0]["id"] == "3").unwrap();
    assert_eq!(later["context"].as_array().unwrap().last().unwrap(), "phrase numéro 2");
    assert_eq!(later["source_lang"], "French");
    assert_eq!(later["target_lang"], "English");
}

#[tokio::test]
async fn only_failed_ids_are_sent_again_with_a_stricter_note() {
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let (segs, note, _) = batch_of(r);
            let ids: Vec<String> = segs.iter().map(|s| s.0.clone()).collect();
            seen2.lock().unwrap().push((ids, note));
            // First answer: every id once, id 2 with a dropped code.
            let mut out = Vec::new();
            for (id, t) in &segs {
                match (note, id.as_str()) {
                    (false, "2") => out.push((id.clone(), "TEXTE SANS BALISE".to_string())),
                    _ => out.push((id.clone(), upper(t))),
                }
            }
            answer(&out)
        })
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(&server.uri())).unwrap();
    let segs: Vec<Segment> = (0..4).map(|i| seg(i, &format!("texte <x1/> {i}"))).collect();
    let (r, _) = run(&engine, &segs, CancelFlag::new()).await;
    let r = r.unwrap();
    assert!(r.iter().all(|x| x.kept.is_none()));
    assert_eq!(r[2].content.render(), "TEXTE <x1/> 2");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], (vec!["0".into(), "1".into(), "2".into(), "3".into()], false));
    let mut resent: Vec<String> = seen[1..]
        .iter()
        .flat_map(|(ids, note)| {
            assert!(note, "retries carry the stricter note");
            ids.clone()
        })
        .collect();
    resent.sort();
    assert_eq!(resent, ["2"]);
}

#[tokio::test]
async fn an_answer_with_unknown_or_missing_ids_is_not_used_and_asked_again_in_smaller_requests() {
    let server = MockServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let (segs, note, _) = batch_of(r);
            seen2.lock().unwrap().push(segs.iter().map(|s| s.0.clone()).collect::<Vec<_>>());
            if note {
                return answer(
                    &segs.iter().map(|(id, t)| (id.clone(), upper(t))).collect::<Vec<_>>(),
                );
            }
            // First answer: id 1 missing, an unknown id 99, the others well formed but marked,
            // so that any use of them shows.
            let mut out: Vec<(String, String)> = segs
                .iter()
                .filter(|(id, _)| id != "1")
                .map(|(id, t)| (id.clone(), format!("UNTRUSTED {}", upper(t))))
                .collect();
            out.push(("99".into(), "intrus <x1/>".into()));
            answer(&out)
        })
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(&server.uri())).unwrap();
    let segs: Vec<Segment> = (0..4).map(|i| seg(i, &format!("texte <x1/> {i}"))).collect();
    let (r, _) = run(&engine, &segs, CancelFlag::new()).await;
    let r = r.unwrap();
    for (i, x) in r.iter().enumerate() {
        assert!(x.kept.is_none());
        assert_eq!(x.content.render(), format!("TEXTE <x1/> {i}"));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3, "the whole batch, then its two halves: {seen:?}");
    assert_eq!(seen[1].len() + seen[2].len(), 4);
    assert_eq!(engine.detailed_stats().misaligned, 1);
}

#[tokio::test]
async fn codes_the_model_keeps_dropping_are_reinserted_and_empty_answers_keep_the_source() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let (segs, _, _) = batch_of(r);
            let out: Vec<(String, String)> = segs
                .iter()
                .map(|(id, t)| match id.as_str() {
                    "0" => (id.clone(), "Click the green button then confirm".to_string()),
                    "1" => (id.clone(), "   ".to_string()),
                    _ => (id.clone(), t.clone()), // echo
                })
                .collect();
            answer(&out)
        })
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(&server.uri())).unwrap();
    let segs = vec![
        seg(0, "Cliquez sur le bouton <g1>vert</g1> puis <x2/> validez"),
        seg(1, "Un paragraphe assez long pour être traduit."),
        seg(2, "Un autre paragraphe assez long pour être traduit."),
        seg(3, "Moodle"),
    ];
    let (r, reported) = run(&engine, &segs, CancelFlag::new()).await;
    let r = r.unwrap();
    assert!(r[0].kept.is_none());
    assert_eq!(r[0].content.plain_text(), "Click the green button then confirm");
    assert!(r[0].content.check_codes_against(&segs[0].content).is_ok());
    assert_eq!(r[1].kept.as_ref().unwrap().code, "empty_answer");
    assert_eq!(r[1].content, segs[1].content);
    assert_eq!(r[2].kept.as_ref().unwrap().code, "copy_of_source");
    // A short name the model keeps as is stays unchanged, and is reported, not silently accepted.
    assert_eq!(r[3].content, segs[3].content);
    assert_eq!(r[3].kept.as_ref().unwrap().code, "copy_of_source");
    assert_eq!(reported.iter().filter(|x| x.kept.is_some()).count(), 3);
    let ds = engine.detailed_stats();
    assert_eq!(ds.kept, 3);
    assert_eq!(ds.repaired, 1);
}

#[tokio::test]
async fn refused_requests_fail_the_call() {
    for (status, body, expect_rejected) in [
        (401, r#"{"error":"unauthorized"}"#, false),
        (404, r#"{"error":"model 'm' not found"}"#, true),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let engine = LlmEngine::new(settings(&server.uri())).unwrap();
        let (r, _) = run(&engine, &[seg(0, "Bonjour tout le monde")], CancelFlag::new()).await;
        match r.unwrap_err() {
            EngineError::Rejected(m) => assert!(expect_rejected, "{m}"),
            EngineError::Unavailable(m) => {
                assert!(!expect_rejected, "{m}");
                assert!(m.contains("401"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(engine.stats().retries, 0, "no retry for {status}");
    }
}

#[tokio::test]
async fn transient_errors_are_retried_with_backoff() {
    let server = MockServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let k = n2.fetch_add(1, Ordering::SeqCst);
            if k < 2 {
                return ResponseTemplate::new([503, 500][k])
                    .set_body_raw(r#"{"error":"busy"}"#, "application/json");
            }
            let (segs, _, _) = batch_of(r);
            answer(&segs.iter().map(|(i, t)| (i.clone(), upper(t))).collect::<Vec<_>>())
        })
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(&server.uri())).unwrap();
    let (r, _) = run(&engine, &[seg(0, "Bonjour")], CancelFlag::new()).await;
    assert_eq!(r.unwrap()[0].content.render(), "BONJOUR");
    let st = engine.stats();
    assert_eq!((st.requests, st.retries), (3, 2));
}

#[tokio::test]
async fn cancelling_stops_queued_and_in_flight_requests() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(|r: &Request| {
            let (segs, _, _) = batch_of(r);
            answer(&segs.iter().map(|(i, t)| (i.clone(), upper(t))).collect::<Vec<_>>())
                .set_delay(Duration::from_millis(800))
        })
        .mount(&server)
        .await;
    let mut s = settings(&server.uri());
    s.slots = 1;
    s.batch_size = 1;
    let engine = LlmEngine::new(s).unwrap();
    let segs: Vec<Segment> = (0..20).map(|i| seg(i, &format!("phrase {i}"))).collect();
    let cancel = CancelFlag::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        c2.cancel();
    });
    let start = Instant::now();
    let (r, reported) = run(&engine, &segs, cancel).await;
    assert_eq!(r.unwrap_err(), EngineError::Cancelled);
    assert!(
        start.elapsed() < Duration::from_millis(600),
        "the in-flight request was abandoned: {:?}",
        start.elapsed()
    );
    assert!(reported.is_empty());
    assert_eq!(chat_requests(&server).await, 1, "queued requests were never sent");
    let slots = &engine.detailed_stats().slots[0];
    assert_eq!(slots.in_flight, 0);
}

#[tokio::test]
async fn a_failing_backend_is_skipped() {
    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"error":"llama runner process has terminated: exit status 2"}"#,
            "application/json",
        ))
        .mount(&bad)
        .await;
    let good = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(|r: &Request| {
            let (segs, _, _) = batch_of(r);
            answer(&segs.iter().map(|(i, t)| (i.clone(), upper(t))).collect::<Vec<_>>())
        })
        .mount(&good)
        .await;
    let mut s = settings(&bad.uri());
    s.backends.push(tradia_llm::settings::BackendSettings {
        base_url: good.uri(),
        ..s.backends[0].clone()
    });
    s.batch_size = 1;
    s.slots = 2;
    s.max_retries = 6;
    s.breaker_threshold = 2;
    s.breaker_cooldown = Duration::from_secs(30);
    let engine = LlmEngine::new(s).unwrap();
    let segs: Vec<Segment> = (0..30).map(|i| seg(i, &format!("phrase {i}"))).collect();
    let (r, _) = run(&engine, &segs, CancelFlag::new()).await;
    assert!(r.unwrap().iter().all(|x| x.kept.is_none()));
    let bad_hits = bad.received_requests().await.unwrap().len();
    assert!(
        bad_hits <= 4,
        "the failing backend was taken out after its breaker opened: {bad_hits}"
    );
    assert_eq!(engine.detailed_stats().slots[0].breaker, tradia_llm::scheduler::BreakerState::Open);
}

#[tokio::test]
async fn batching_off_sends_one_segment_per_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(|r: &Request| {
            let (segs, _, _) = batch_of(r);
            assert_eq!(segs.len(), 1);
            answer(&segs.iter().map(|(i, t)| (i.clone(), upper(t))).collect::<Vec<_>>())
        })
        .mount(&server)
        .await;
    let args = tradia_llm::LlmArgs {
        ollama_base_url: server.uri(),
        batching: "off".into(),
        ..Default::default()
    };
    let engine = LlmEngine::new(args.settings().unwrap()).unwrap();
    let segs: Vec<Segment> = (0..5).map(|i| seg(i, &format!("phrase {i}"))).collect();
    let (r, _) = run(&engine, &segs, CancelFlag::new()).await;
    assert_eq!(r.unwrap().len(), 5);
    assert_eq!(chat_requests(&server).await, 5);
}

/// Two jobs on one slot: the small one, started after the large one, is not starved; an
/// interactive request jumps the document queue.
#[tokio::test]
async fn jobs_share_the_slot_fairly_and_interactive_text_goes_first() {
    let server = MockServer::start().await;
    let order = Arc::new(Mutex::new(Vec::<String>::new()));
    let o2 = order.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let user = body["messages"][1]["content"].as_str().unwrap().to_string();
            if user.starts_with('{') {
                let (segs, _, _) = batch_of(r);
                o2.lock().unwrap().push(segs[0].1.split(' ').next().unwrap().to_string());
                answer(&segs.iter().map(|(i, t)| (i.clone(), upper(t))).collect::<Vec<_>>())
                    .set_delay(Duration::from_millis(30))
            } else {
                o2.lock().unwrap().push("interactive".into());
                ResponseTemplate::new(200).set_body_raw(
                    "{\"message\":{\"content\":\"Hi\"},\"done\":true,\"done_reason\":\"stop\"}\n",
                    "application/x-ndjson",
                )
            }
        })
        .mount(&server)
        .await;
    let mut s = settings(&server.uri());
    s.slots = 1;
    s.batch_size = 1;
    let engine = LlmEngine::new(s).unwrap();
    let big: Vec<Segment> = (0..30).map(|i| seg(i, &format!("big {i}"))).collect();
    let small: Vec<Segment> = (0..3).map(|i| seg(i, &format!("small {i}"))).collect();
    let (e1, e2, e3) = (engine.clone(), engine.clone(), engine.clone());
    let big_job = tokio::spawn(async move {
        let sink = Collect::default();
        let req = TranslateRequest {
            source: Some(LanguageTag::parse("fr").unwrap()),
            target: LanguageTag::parse("en").unwrap(),
            segments: &big,
            pending: big.iter().map(|s| s.id).collect(),
            priority: Priority::Document,
            owner: "big".into(),
            cancel: CancelFlag::new(),
            sink: &sink,
            guidance: Default::default(),
        };
        e1.translate(req).await.map(|r| r.len())
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let small_job = tokio::spawn(async move {
        let sink = Collect::default();
        let req = TranslateRequest {
            source: Some(LanguageTag::parse("fr").unwrap()),
            target: LanguageTag::parse("en").unwrap(),
            segments: &small,
            pending: small.iter().map(|s| s.id).collect(),
            priority: Priority::Document,
            owner: "small".into(),
            cancel: CancelFlag::new(),
            sink: &sink,
            guidance: Default::default(),
        };
        e2.translate(req).await.map(|r| r.len())
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    use futures::StreamExt;
    let text: Vec<String> = e3
        .translate_text_stream("Bonjour", None, LanguageTag::parse("en").unwrap(), None, "user")
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(text.concat(), "Hi");
    assert_eq!(small_job.await.unwrap().unwrap(), 3);
    assert_eq!(big_job.await.unwrap().unwrap(), 30);
    let order = order.lock().unwrap().clone();
    let pos = |label: &str| order.iter().position(|x| x == label).unwrap();
    let last_small = order.iter().rposition(|x| x == "SMALL" || x == "small").unwrap();
    assert!(last_small < 10, "the small job finished among the first requests: {order:?}");
    assert!(pos("interactive") <= 4, "interactive text was served next: {order:?}");
}

#[tokio::test]
async fn a_dead_server_fails_the_job_in_bounded_time() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut s = settings(&url);
    s.timeout = Duration::from_secs(1);
    s.breaker_cooldown = Duration::from_secs(5);
    let engine = LlmEngine::new(s).unwrap();
    let segs: Vec<Segment> = (0..12).map(|i| seg(i, &format!("phrase {i}"))).collect();
    let start = Instant::now();
    let (r, reported) = run(&engine, &segs, CancelFlag::new()).await;
    match r.unwrap_err() {
        EngineError::Unavailable(m) => assert!(m.contains("backend") || m.contains("reach"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    assert!(reported.is_empty(), "nothing kept as source when the server is down");
}
