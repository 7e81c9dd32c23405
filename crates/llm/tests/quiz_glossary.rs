//! Glossary terms in quiz requests (issue 15 for `engine/quiz.rs`): a quiz group's request
//! carries the glossary terms that occur in its terms, and only those, in the fields ordinary
//! batches use (same system message); an answer missing a term's target is the group's one
//! retry, with the `glossary_note`, and a group that still misses it after that is kept
//! translated and flagged `GlossaryTermMissing`, like an ordinary segment.
//!
//! A scripted mock model (wiremock) shows exactly what each request carried and answers each
//! quiz request as the test says; the simulator shows the same end to end on a Scenari cloze,
//! its `term_miss` fault hitting quiz requests as it hits ordinary ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tradia_core::quality::FileReport;
use tradia_core::{
    Content, Engine, Formality, Guidance, LanguageTag, QualityReport, QuizGroup, QuizKind,
    QuizRole, Segment, SegmentFlag, SegmentResult, Term, TranslateRequest,
};
use tradia_formats::{ExtractOptions, extract};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{FaultSpec, SimConfig, SimMode, start};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// "règles" occurs in the quiz terms, "arbitre" only in the sentence around the gap,
/// "absent" nowhere.
fn glossary() -> Vec<Term> {
    vec![
        Term::new("règles", "rules"),
        Term::new("arbitre", "referee"),
        Term::new("absent", "missing"),
    ]
}

fn seg(id: u32, text: &str) -> Segment {
    Segment {
        id,
        content: Content::parse(text).unwrap(),
        location: String::new(),
        field: "p".into(),
    }
}

/// A cloze sentence (0) and its terms: the answer (1), an equal option (2), another option (3).
fn cloze() -> (Vec<Segment>, QuizGroup) {
    let segs = vec![
        seg(0, "L'arbitre rappelle que le <x1/> fait gagner."),
        seg(1, "respect des règles"),
        seg(2, "respect des règles"),
        seg(3, "mépris des autres"),
    ];
    let group = QuizGroup {
        kind: QuizKind::Cloze,
        context: vec![0],
        terms: vec![(1, QuizRole::Answer), (2, QuizRole::Option), (3, QuizRole::Option)],
        fixed: Vec::new(),
    };
    (segs, group)
}

/// How the mock answers one quiz request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Every glossary term of the request applied.
    Obey,
    /// The request's glossary ignored.
    Ignore,
    /// The terms applied, but the option equal to the answer translated apart.
    Break,
}

/// The user message of a request the mock received.
fn user_of(r: &Request) -> Value {
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    serde_json::from_str(body["messages"][1]["content"].as_str().unwrap()).unwrap()
}

/// "Translation" by the mock: upper case outside tags, then each glossary target where its
/// source was.
fn translate_text(text: &str, glossary: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ => {}
        }
        out.extend(if in_tag { vec![c] } else { c.to_uppercase().collect() });
    }
    for (source, target) in glossary {
        out = out.replace(&source.to_uppercase(), target);
    }
    out
}

fn glossary_of(user: &Value) -> Vec<(String, String)> {
    user["glossary"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|t| {
                    (t["source"].as_str().unwrap().into(), t["target"].as_str().unwrap().into())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every request the mock received: (system message, user message).
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A mock model answering quiz requests in turn as `script` says (the last entry repeated)
/// and ordinary ones obeying their glossary.
async fn mock(script: Vec<Answer>) -> (MockServer, Seen) {
    let server = MockServer::start().await;
    let seen: Seen = Arc::default();
    let seen2 = seen.clone();
    let quiz_asked = Arc::new(Mutex::new(0usize));
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            let system = body["messages"][0]["content"].as_str().unwrap().to_string();
            let user = user_of(r);
            seen2.lock().unwrap().push((system, user.clone()));
            let answer = if user.get("quiz").is_some() {
                let mut n = quiz_asked.lock().unwrap();
                let a = script[(*n).min(script.len() - 1)];
                *n += 1;
                a
            } else {
                Answer::Obey
            };
            let glossary = match answer {
                Answer::Ignore => Vec::new(),
                Answer::Obey | Answer::Break => glossary_of(&user),
            };
            let mut seen_texts = BTreeSet::new();
            let list: Vec<Value> = user["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let text = s["text"].as_str().unwrap();
                    let mut out = translate_text(text, &glossary);
                    if matches!(answer, Answer::Break) && !seen_texts.insert(text.to_string()) {
                        out.push_str(" BIS");
                    }
                    json!({"id": s["id"], "text": out})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({
                "message": {"role": "assistant",
                            "content": json!({ "translations": list }).to_string()},
                "done": true, "done_reason": "stop", "prompt_eval_count": 10, "eval_count": 5,
            }))
        })
        .mount(&server)
        .await;
    (server, seen)
}

async fn run(script: Vec<Answer>) -> (Vec<SegmentResult>, Vec<(String, Value)>, u64) {
    let (server, seen) = mock(script).await;
    let mut settings = LlmSettings::for_ollama(&server.uri(), "m");
    settings.timeout = Duration::from_secs(5);
    settings.retry_base_delay = Duration::from_millis(5);
    let engine = LlmEngine::new(settings).unwrap();
    let (segs, group) = cloze();
    let mut request = TranslateRequest::all(
        Some(LanguageTag::parse("fr").unwrap()),
        LanguageTag::parse("en").unwrap(),
        &segs,
    );
    request.guidance = Arc::new(Guidance {
        terms: glossary(),
        formality: Formality::More,
        brief: Some("Règlement du tournoi".into()),
        instructions: Some("Use British spelling.".into()),
        quiz: vec![group],
        ..Guidance::default()
    });
    let results = engine.translate(request).await.unwrap();
    let resent = engine.detailed_stats().resent;
    let seen = seen.lock().unwrap().clone();
    (results, seen, resent)
}

fn quiz_requests(seen: &[(String, Value)]) -> Vec<&Value> {
    seen.iter().map(|(_, u)| u).filter(|u| u.get("quiz").is_some()).collect()
}

fn sources(user: &Value) -> Vec<String> {
    glossary_of(user).into_iter().map(|(s, _)| s).collect()
}

fn misses(r: &SegmentResult) -> Vec<String> {
    r.flags
        .iter()
        .filter_map(|f| match f {
            SegmentFlag::GlossaryTermMissing { term } => Some(term.clone()),
            _ => None,
        })
        .collect()
}

fn quiz_note(user: &Value) -> &str {
    user["quiz"]["note"].as_str().unwrap()
}

const QUIZ_STRICT: &str = "broke the exercise";

#[tokio::test]
async fn a_quiz_request_carries_the_terms_of_its_terms_and_a_right_answer_is_not_flagged() {
    let (results, seen, resent) = run(vec![Answer::Obey]).await;
    let quiz = quiz_requests(&seen);
    assert_eq!(quiz.len(), 1, "a right answer is not asked again: {quiz:?}");
    assert_eq!(resent, 0);
    // Only the term that occurs in the group's terms: not the one of the sentence around the
    // gap, not the absent one.
    assert_eq!(sources(quiz[0]), ["règles"], "{}", quiz[0]);
    assert!(quiz[0].get("glossary_note").is_none() && quiz[0].get("note").is_none());
    assert!(!quiz_note(quiz[0]).contains(QUIZ_STRICT));
    // The style travels too, in the same fields as with an ordinary batch.
    assert_eq!(quiz[0]["formality"], "formal");
    assert_eq!(quiz[0]["brief"], "Règlement du tournoi");
    assert_eq!(quiz[0]["instructions"], "Use British spelling.");
    // The sentence went in its own batch, with its own term; the system message is the same.
    let (ordinary_system, ordinary) = seen.iter().find(|(_, u)| u.get("quiz").is_none()).unwrap();
    assert_eq!(sources(ordinary), ["arbitre"]);
    assert!(seen.iter().all(|(system, _)| system == ordinary_system));
    for word in ["règles", "referee", "British", "tournoi"] {
        assert!(!ordinary_system.contains(word), "{word} in the system message");
    }

    assert_eq!(results.len(), 4);
    for r in &results {
        assert!(r.kept.is_none(), "{r:?}");
        assert!(misses(r).is_empty(), "{r:?}");
    }
    assert_eq!(results[1].content.plain_text(), "RESPECT DES rules");
    assert_eq!(results[1].content, results[2].content);
}

#[tokio::test]
async fn a_missed_term_is_asked_again_once_with_the_glossary_note() {
    let (results, seen, resent) = run(vec![Answer::Ignore, Answer::Obey]).await;
    let quiz = quiz_requests(&seen);
    assert_eq!(quiz.len(), 2, "{quiz:?}");
    assert_eq!(resent, 3, "the group's three terms were sent again");
    assert!(quiz[0].get("glossary_note").is_none());
    assert!(quiz[1]["glossary_note"].as_str().unwrap().contains("glossary"), "{}", quiz[1]);
    assert!(quiz[1]["note"].is_string(), "the second try is strict, as an ordinary retry");
    assert!(!quiz_note(quiz[1]).contains(QUIZ_STRICT), "the exercise did not break");
    assert_eq!(sources(quiz[1]), ["règles"]);
    for r in &results {
        assert!(r.kept.is_none() && misses(r).is_empty(), "{r:?}");
    }
    assert_eq!(results[1].content.plain_text(), "RESPECT DES rules");
}

#[tokio::test]
async fn a_term_still_missing_after_the_retry_is_flagged_and_the_translation_kept() {
    let (results, seen, _) = run(vec![Answer::Ignore]).await;
    let quiz = quiz_requests(&seen);
    assert_eq!(quiz.len(), 2, "one retry only: {quiz:?}");
    let (segs, _) = cloze();
    for r in &results[1..] {
        assert!(r.kept.is_none(), "a missing term never keeps the source: {r:?}");
        assert!(r.flags.iter().any(|f| matches!(f, SegmentFlag::Model { .. })), "{r:?}");
    }
    assert_eq!(results[1].content.plain_text(), "RESPECT DES RÈGLES");
    assert_eq!(misses(&results[1]), ["règles"]);
    assert_eq!(misses(&results[2]), ["règles"]);
    assert!(misses(&results[3]).is_empty(), "no term in it: {:?}", results[3]);
    // The quality report lists them.
    let report = QualityReport::new(vec![FileReport::new(0, "cloze", &segs, &results)]);
    assert_eq!(report.counts.get("glossary_term_missing"), Some(&2), "{:?}", report.counts);
}

#[tokio::test]
async fn one_retry_for_either_reason() {
    // Broken first: the retry has the quiz's stricter note; it holds but misses the term:
    // flagged, not asked a third time.
    let (results, seen, _) = run(vec![Answer::Break, Answer::Ignore]).await;
    let quiz = quiz_requests(&seen);
    assert_eq!(quiz.len(), 2, "{quiz:?}");
    assert!(quiz_note(quiz[1]).contains(QUIZ_STRICT), "{}", quiz[1]);
    assert!(quiz[1].get("glossary_note").is_none());
    assert_eq!(sources(quiz[1]), ["règles"], "the terms travel with the retry too");
    assert!(results[1..].iter().all(|r| r.kept.is_none()), "{results:?}");
    assert_eq!(misses(&results[1]), ["règles"]);

    // A miss first, then a broken answer: the first answer stands, flagged.
    let (results, seen, _) = run(vec![Answer::Ignore, Answer::Break]).await;
    let quiz = quiz_requests(&seen);
    assert_eq!(quiz.len(), 2, "{quiz:?}");
    assert!(results[1..].iter().all(|r| r.kept.is_none()), "{results:?}");
    assert_eq!(results[1].content.plain_text(), "RESPECT DES RÈGLES");
    assert_eq!(results[1].content, results[2].content);
    assert_eq!(misses(&results[2]), ["règles"]);

    // Broken twice: the group keeps its source, whatever the glossary.
    let (results, _, _) = run(vec![Answer::Break]).await;
    for r in &results[1..] {
        assert_eq!(r.kept.as_ref().map(|k| k.code.as_str()), Some("quiz_kept"), "{r:?}");
        assert!(misses(r).is_empty(), "{r:?}");
    }
}

/// A Scenari cloze whose synonym (a term no other term of its group repeats) holds a glossary
/// term.
fn scenari_cloze() -> String {
    let core = "http://www.utc.fr/ics/scenari/v3/core";
    let primitive = "http://www.utc.fr/ics/scenari/v3/primitive";
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="{core}">
	<op:cloze xmlns:op="utc.fr:ics/opale3" xmlns:sp="{primitive}">
		<op:exeM><sp:title>Règles du jeu</sp:title></op:exeM>
		<sc:gapText><op:clozeTxt><sc:para xml:space="preserve">Au match, le <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>mépris des autres</sp:option><sp:option>respect des règles</sp:option></sp:options><sp:synonyms><sp:synonym>respect des consignes</sp:synonym></sp:synonyms></op:gapM>respect des règles</sc:textLeaf> fait gagner l'équipe.</sc:para></op:clozeTxt></sc:gapText>
	</op:cloze>
</sc:item>"#
    )
}

async fn with_sim(faults: &str) -> (Vec<Segment>, Vec<SegmentResult>, tradia_llm_sim::SimStats) {
    let doc =
        extract("regles.quiz", scenari_cloze().as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(doc.quiz.len(), 1);
    let handle = start(SimConfig {
        port: 0,
        slots: 2,
        time_scale: 400.0,
        mode: SimMode::Contextual,
        faults: FaultSpec::parse(faults).unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut settings = LlmSettings::for_ollama(&handle.base_url(), "m");
    settings.timeout = Duration::from_secs(10);
    settings.retry_base_delay = Duration::from_millis(5);
    let engine = LlmEngine::new(settings).unwrap();
    let mut request = TranslateRequest::all(
        Some(LanguageTag::parse("fr").unwrap()),
        LanguageTag::parse("en").unwrap(),
        &doc.segments,
    );
    request.guidance = Arc::new(Guidance {
        terms: vec![Term::new("consignes", "instructions")],
        quiz: doc.quiz.clone(),
        ..Guidance::default()
    });
    let results = engine.translate(request).await.unwrap();
    let stats = handle.stats();
    handle.shutdown().await;
    (doc.segments, results, stats)
}

fn by_source<'r>(segs: &[Segment], results: &'r [SegmentResult], text: &str) -> &'r SegmentResult {
    let id = segs.iter().find(|s| s.content.plain_text() == text).unwrap().id;
    results.iter().find(|r| r.id == id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_applies_the_terms_of_a_quiz_request_and_misses_them_on_demand() {
    let (segs, results, stats) = with_sim("").await;
    let synonym = by_source(&segs, &results, "respect des consignes");
    let plain = synonym.content.plain_text();
    assert!(plain.contains("instructions") && plain.contains('⟧'), "{plain}");
    assert!(results.iter().all(|r| r.kept.is_none() && misses(r).is_empty()), "{results:?}");
    assert_eq!(stats.segments.get("respect des consignes"), Some(&1), "asked once");

    // Every request with a term misses one: the quiz request and its retry alike.
    let (segs, results, stats) = with_sim("term_miss=1").await;
    assert_eq!(stats.faults.get("term_miss"), Some(&2), "{:?}", stats.faults);
    assert_eq!(stats.segments.get("respect des consignes"), Some(&2), "asked again once");
    let synonym = by_source(&segs, &results, "respect des consignes");
    assert!(synonym.kept.is_none(), "{synonym:?}");
    assert!(!synonym.content.plain_text().contains("instructions"), "{synonym:?}");
    assert_eq!(misses(synonym), ["consignes"]);
    // The rest of the group held together and is translated, unflagged.
    let answer = by_source(&segs, &results, "respect des règles");
    assert!(answer.kept.is_none() && misses(answer).is_empty(), "{answer:?}");
    assert!(answer.content.plain_text().contains('⟧'), "{answer:?}");
}
