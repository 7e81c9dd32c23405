//! The document's notes for translators in the LLM engine, against the simulator: each note
//! travels in the user message with its own segment (the simulator records which note came
//! with which segment text), bounded; the system message stays byte-identical on every request
//! and never carries a note; two segments with the same text and different notes are asked
//! separately.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tradia_core::{Content, Engine, Guidance, LanguageTag, Segment, TranslateRequest};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{SimConfig, start};

fn document() -> Vec<Segment> {
    (0..12u32)
        .map(|i| {
            let text = match i {
                3 | 7 => "Ouvrir".to_string(),
                _ => format!("Le paragraphe numéro {i} du guide."),
            };
            Segment {
                id: i,
                content: Content::parse(&text).unwrap(),
                location: String::new(),
                field: "string".into(),
            }
        })
        .collect()
}

fn notes() -> BTreeMap<u32, String> {
    BTreeMap::from([
        (1, "Heading of the help page".to_string()),
        (3, "Menu item: opens a file".to_string()),
        (7, "State of a ticket, not an action".to_string()),
        (9, format!("Long note {}", "x".repeat(900))),
    ])
}

fn request(segs: &[Segment]) -> TranslateRequest<'_> {
    TranslateRequest {
        guidance: Arc::new(Guidance { notes: notes(), ..Guidance::default() }),
        ..TranslateRequest::all(
            Some(LanguageTag::parse("fr").unwrap()),
            LanguageTag::parse("en").unwrap(),
            segs,
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_note_reaches_the_model_with_its_segment() {
    let config = SimConfig { port: 0, slots: 2, time_scale: 400.0, ..SimConfig::default() };
    let handle = start(config).await.unwrap();
    let mut settings = LlmSettings::for_ollama(&handle.base_url(), "m");
    settings.timeout = Duration::from_secs(10);
    settings.batch_size = 4;
    let engine = LlmEngine::new(settings).unwrap();
    let segs = document();
    let results = engine.translate(request(&segs)).await.unwrap();
    assert_eq!(results.len(), segs.len());
    assert!(results.iter().all(|r| r.kept.is_none()), "{results:?}");
    let seen = handle.stats().notes;
    let notes_of = |text: &str| -> Vec<String> {
        seen.get(text).map(|n| n.iter().cloned().collect()).unwrap_or_default()
    };
    assert_eq!(notes_of("Le paragraphe numéro 1 du guide."), ["Heading of the help page"]);
    let long = notes_of("Le paragraphe numéro 9 du guide.");
    assert_eq!(long.len(), 1, "{long:?}");
    assert!(long[0].starts_with("Long note xxx") && long[0].ends_with('…'), "{long:?}");
    assert_eq!(long[0].chars().count(), 500, "a note is bounded");
    // Segments without a note came without one.
    assert!(!seen.contains_key("Le paragraphe numéro 2 du guide."), "{seen:?}");
    // "Ouvrir" was sent twice, each time with its own note.
    assert_eq!(notes_of("Ouvrir"), ["Menu item: opens a file", "State of a ticket, not an action"]);
    assert_eq!(handle.stats().segments.get("Ouvrir"), Some(&2), "{:?}", handle.stats().segments);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_in_the_user_message_next_to_their_segment_never_in_the_system_message() {
    let mut settings = LlmSettings::for_ollama("http://127.0.0.1:9", "m");
    settings.batch_size = 4;
    let engine = LlmEngine::new(settings).unwrap();
    let segs = document();
    let requests = engine.batch_requests(&request(&segs));
    assert!(requests.len() >= 3);
    let without = engine.batch_requests(&TranslateRequest::all(
        Some(LanguageTag::parse("fr").unwrap()),
        LanguageTag::parse("en").unwrap(),
        &segs,
    ));
    let system = &without[0].system;
    let mut sent = BTreeMap::new();
    for chat in &requests {
        assert_eq!(&chat.system, system, "the system message does not depend on the notes");
        for note in notes().values() {
            assert!(!chat.system.contains(note.as_str()));
        }
        let user: Value = serde_json::from_str(&chat.user).unwrap();
        for s in user["segments"].as_array().unwrap() {
            let id: u32 = s["id"].as_str().unwrap().parse().unwrap();
            if let Some(note) = s.get("note") {
                sent.insert(id, note.as_str().unwrap().to_string());
            }
        }
    }
    let expected = notes();
    assert_eq!(sent.keys().collect::<Vec<_>>(), vec![&1, &3, &7, &9], "{sent:?}");
    for id in [1, 3, 7] {
        assert_eq!(sent[&id], expected[&id]);
    }
}
