//! What the simulated model answers: deterministic pseudo-translation (WIRE.md §4, in
//! `pseudo`), shaped by the request's `response_format`, with the content faults of WIRE.md §5
//! (in `faults`), plus the token model (in `tokens`).

mod faults;
mod pseudo;
mod senses;
mod terms;
mod tokens;

use faults::batch_answer;
pub use faults::render_pieces;
pub use pseudo::{pseudo_content, pseudo_run, pseudo_segment};
pub use senses::{SENSES, request_sense};
pub use terms::pseudo_with_terms;
pub use tokens::{count_tokens, thinking_trace, tokenize};

use std::collections::BTreeSet;

use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use tradia_core::pseudo::pseudo_text;

use crate::config::{FaultKind, SimMode};
use crate::wire::BatchRequest;

/// The structured-output constraint a request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Structured {
    /// Free text.
    None,
    /// Any JSON object (`format: "json"`, `response_format: {"type":"json_object"}`).
    Json,
    /// A JSON schema.
    Schema(Value),
}

impl Structured {
    /// Reads Ollama's `format` field.
    pub fn from_ollama_format(format: Option<&Value>) -> Structured {
        match format {
            Some(Value::String(s)) if s == "json" => Structured::Json,
            Some(v @ Value::Object(_)) => Structured::Schema(v.clone()),
            _ => Structured::None,
        }
    }

    /// Reads OpenAI's `response_format` field (also llama.cpp's `{"type":"json_schema","schema"}`).
    pub fn from_openai_response_format(rf: Option<&Value>) -> Structured {
        let Some(rf) = rf else { return Structured::None };
        match rf.get("type").and_then(Value::as_str) {
            Some("json_object") => Structured::Json,
            Some("json_schema") => rf
                .get("json_schema")
                .and_then(|j| j.get("schema"))
                .or_else(|| rf.get("schema"))
                .filter(|s| s.is_object())
                .map_or(Structured::Json, |s| Structured::Schema(s.clone())),
            _ => Structured::None,
        }
    }
}

impl Structured {
    /// Whether a batch answer (`{"translations":[…]}`) satisfies this constraint.
    pub fn allows_batch(&self) -> bool {
        match self {
            Structured::None | Structured::Json => true,
            Structured::Schema(s) => {
                s.get("properties").and_then(|p| p.get("translations")).is_some()
            }
        }
    }
}

/// The model's answer before timing: the text and what shaped it.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    /// Assistant content.
    pub content: String,
    /// Source texts of the batch segments, when the request followed the wire contract.
    pub batch_sources: Option<Vec<String>>,
    /// Faults that changed the answer (drawn and applicable).
    pub applied: Vec<FaultKind>,
    /// Whether the `truncate` fault cuts the output.
    pub truncate: bool,
    /// Whether the `repeat_loop` fault turns the output into a loop up to the output limit.
    pub repeat_loop: bool,
}

/// Builds the answer to a request whose last user text is `user_text`, given the drawn faults
/// (in the default [`SimMode::Pseudo`]).
pub fn compose(
    user_text: &str,
    structured: &Structured,
    drawn: &BTreeSet<FaultKind>,
    rng: &mut StdRng,
) -> Composed {
    compose_in(SimMode::Pseudo, user_text, structured, drawn, rng)
}

/// [`compose`] in the given translation mode.
pub fn compose_in(
    mode: SimMode,
    user_text: &str,
    structured: &Structured,
    drawn: &BTreeSet<FaultKind>,
    rng: &mut StdRng,
) -> Composed {
    let mut applied = Vec::new();
    // `response_format` is honoured: a schema of another shape gets an answer of that shape, and
    // without any constraint the batch answer comes in a Markdown fence, as an unconstrained
    // model writes it.
    let batch = BatchRequest::from_user_text(user_text).filter(|_| structured.allows_batch());
    let (mut content, batch_sources) = match batch {
        Some(req) => {
            let sources = req.segments.iter().map(|s| s.text.clone()).collect();
            let answer = batch_answer(&req, mode, drawn, rng, &mut applied);
            let mut text = serde_json::to_string(&answer).unwrap_or_default();
            if *structured == Structured::None && !drawn.contains(&FaultKind::Fences) {
                text = format!("```json\n{text}\n```");
            }
            (text, Some(sources))
        }
        None => {
            let echo = drawn.contains(&FaultKind::Echo);
            if echo {
                applied.push(FaultKind::Echo);
            }
            let material = material(user_text);
            let translated = if echo { material.to_string() } else { pseudo_text(material) };
            (free_answer(&translated, structured), None)
        }
    };
    if drawn.contains(&FaultKind::Think) {
        content = format!(
            "<think>\nThe user wants this translated. I must keep every tag and answer only \
             with the requested format.\n</think>\n\n{content}"
        );
        applied.push(FaultKind::Think);
    }
    if drawn.contains(&FaultKind::Fences) {
        content = format!("```json\n{content}\n```");
        applied.push(FaultKind::Fences);
    }
    if drawn.contains(&FaultKind::Chatter) {
        content = format!(
            "Here is the translation you asked for:\n\n{content}\n\nI kept the formatting \
             tags in place. Let me know if you need anything else!"
        );
        applied.push(FaultKind::Chatter);
    }
    let truncate = drawn.contains(&FaultKind::Truncate);
    if truncate {
        applied.push(FaultKind::Truncate);
    }
    let repeat_loop = drawn.contains(&FaultKind::RepeatLoop);
    if repeat_loop {
        applied.push(FaultKind::RepeatLoop);
    }
    applied.sort();
    Composed { content, batch_sources, applied, truncate, repeat_loop }
}

/// What a real model works on in a request outside the wire contract: the text after `TEXT:`
/// of an interactive translation (the lines before are instructions, which a model follows and
/// does not translate), else the whole user text (an assistant's material). Empty material (a
/// meeting summary from a photo alone) gets a sentence, as a vision model describes the photo.
fn material(user_text: &str) -> &str {
    let text = match user_text.split_once("\nTEXT:\n") {
        Some((head, text)) if head.contains("Target language:") => text,
        _ => user_text,
    };
    if text.trim().is_empty() { "The photo shows handwritten meeting notes." } else { text }
}

/// The answer to a request that does not follow the wire contract.
fn free_answer(translated: &str, structured: &Structured) -> String {
    match structured {
        Structured::None => translated.to_string(),
        Structured::Json => json!({ "text": translated }).to_string(),
        Structured::Schema(schema) => value_for_schema(schema, translated, 0).to_string(),
    }
}

/// A value satisfying `schema`'s required fields, strings set to `text`.
fn value_for_schema(schema: &Value, text: &str, depth: usize) -> Value {
    let ty = schema.get("type").and_then(|t| match t {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|s| *s != "null"),
        _ => None,
    });
    match ty {
        Some("object") if depth < 8 => {
            let mut out = Map::new();
            let props = schema.get("properties").and_then(Value::as_object);
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in required {
                let sub = props.and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null);
                out.insert(name.to_string(), value_for_schema(&sub, text, depth + 1));
            }
            Value::Object(out)
        }
        Some("object") => json!({}),
        Some("string") => Value::String(text.to_string()),
        Some("array") => json!([]),
        Some("integer" | "number") => json!(0),
        Some("boolean") => json!(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::BatchAnswer;
    use rand::SeedableRng;
    use tradia_core::Content;

    fn batch(segments: &[(&str, &str)]) -> String {
        let segs: Vec<Value> =
            segments.iter().map(|(id, t)| json!({"id": id, "text": t})).collect();
        json!({"task":"translate","source_lang":"French","target_lang":"English",
               "context":["avant"],"segments":segs})
        .to_string()
    }

    fn run(text: &str, faults: &[FaultKind]) -> Composed {
        let drawn = faults.iter().copied().collect();
        compose(text, &Structured::Json, &drawn, &mut StdRng::seed_from_u64(1))
    }

    #[test]
    fn response_format_shapes_the_batch_answer() {
        let b = batch(&[("1", "a")]);
        let none = compose(&b, &Structured::None, &BTreeSet::new(), &mut StdRng::seed_from_u64(1));
        assert!(none.content.starts_with("```json\n{\"translations\""), "{}", none.content);
        let other = json!({"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"]});
        let c = compose(
            &b,
            &Structured::Schema(other),
            &BTreeSet::new(),
            &mut StdRng::seed_from_u64(1),
        );
        assert!(c.content.starts_with("{\"summary\""), "{}", c.content);
        assert!(c.batch_sources.is_none());
    }

    fn parse(c: &Composed) -> BatchAnswer {
        serde_json::from_str(&c.content).unwrap()
    }

    #[test]
    fn batch_is_pseudo_translated_by_id() {
        let c =
            run(&batch(&[("12", "Read the <g1>guide</g1>."), ("13", "a &lt;b&gt; <x1/>")]), &[]);
        assert_eq!(
            c.content,
            r#"{"translations":[{"id":"12","text":"⟦Réád thé⟧ <g1>⟦gúídé⟧</g1>⟦.⟧"},{"id":"13","text":"⟦á &lt;b&gt;⟧ <x1/>"}]}"#
        );
        assert_eq!(c.batch_sources.unwrap().len(), 2);
        assert!(c.applied.is_empty());
    }

    #[test]
    fn plain_text_and_schemas() {
        let c =
            compose("Bonjour", &Structured::None, &BTreeSet::new(), &mut StdRng::seed_from_u64(1));
        assert_eq!(c.content, "⟦Bóñjóúr⟧");
        assert!(c.batch_sources.is_none());
        let schema = json!({"type":"object","properties":{"corrected":{"type":"string"},
            "notes":{"type":"array"},"score":{"type":"number"}},"required":["corrected","notes","score"]});
        let c = compose(
            "Bonjour",
            &Structured::Schema(schema),
            &BTreeSet::new(),
            &mut StdRng::seed_from_u64(0),
        );
        assert_eq!(c.content, r#"{"corrected":"⟦Bóñjóúr⟧","notes":[],"score":0}"#);
        let c = compose("x", &Structured::Json, &BTreeSet::new(), &mut StdRng::seed_from_u64(0));
        assert_eq!(c.content, r#"{"text":"⟦x⟧"}"#);
    }

    #[test]
    fn code_faults_break_the_checked_segment() {
        let src = "A <g1>b</g1> c <x2/> d";
        let source = Content::parse(src).unwrap();
        for kind in [
            FaultKind::DropCode,
            FaultKind::DupCode,
            FaultKind::InventCode,
            FaultKind::ReorderCodes,
        ] {
            let c = run(&batch(&[("1", src)]), &[kind]);
            assert_eq!(c.applied, vec![kind]);
            let a = parse(&c);
            assert!(
                Content::parse_answer(&source, &a.translations[0].text).is_err(),
                "{kind}: {}",
                a.translations[0].text
            );
        }
    }

    #[test]
    fn id_faults() {
        let b = batch(&[("1", "a"), ("2", "b"), ("3", "c")]);
        assert_eq!(parse(&run(&b, &[FaultKind::MissingId])).translations.len(), 2);
        let a = parse(&run(&b, &[FaultKind::ExtraId]));
        assert_eq!(a.translations.len(), 4);
        assert!(a.translations.iter().any(|t| t.id == "4"));
        let a = parse(&run(&b, &[FaultKind::DupId]));
        assert_eq!(a.translations.len(), 4);
        let mut ids: Vec<_> = a.translations.iter().map(|t| t.id.clone()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        let a = parse(&run(&b, &[FaultKind::Echo]));
        assert!(a.translations.iter().any(|t| ["a", "b", "c"].contains(&t.text.as_str())));
        let a = parse(&run(&b, &[FaultKind::ShiftIds]));
        let ids: Vec<_> = a.translations.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["2", "3", "4"]);
        assert_eq!(a.translations[0].text, pseudo_segment("a"));
    }

    #[test]
    fn real_model_content_faults() {
        let b = batch(&[("1", "Merci beaucoup !"), ("2", "Un paragraphe de plus de trois mots.")]);
        let c = run(&b, &[FaultKind::CopyShort]);
        assert_eq!(c.applied, vec![FaultKind::CopyShort]);
        let a = parse(&c);
        assert_eq!(a.translations[0].text, "Merci beaucoup !");
        assert_eq!(a.translations[1].text, pseudo_segment("Un paragraphe de plus de trois mots."));
        let a = parse(&run(&b, &[FaultKind::ForeignSource]));
        let foreign: Vec<_> = a
            .translations
            .iter()
            .filter(|t| {
                let other = if t.id == "1" {
                    "Un paragraphe de plus de trois mots."
                } else {
                    "Merci beaucoup !"
                };
                t.text == other
            })
            .collect();
        assert_eq!(foreign.len(), 1, "{a:?}");
        let c = run(&b, &[FaultKind::RepeatLoop]);
        assert!(c.repeat_loop && c.applied == vec![FaultKind::RepeatLoop]);
    }

    #[test]
    fn a_quiz_request_gets_its_glossary_terms_and_their_misses_as_any_batch() {
        let plain = json!({"task":"translate","source_lang":"French","target_lang":"English",
            "context":["Le ___ compte."],
            "segments":[{"id":"1","text":"respect des règles"},{"id":"2","text":"mépris"}],
            "glossary":[{"source":"règles","target":"rules"}]});
        let mut quiz = plain.clone();
        quiz["quiz"] = json!({"kind":"cloze","terms":[{"id":"1","role":"answer"},
            {"id":"2","role":"option"}],"note":"…"});
        for mode in [SimMode::Pseudo, SimMode::Contextual] {
            let answer = |req: &Value, faults: &[FaultKind]| {
                let drawn = faults.iter().copied().collect();
                let mut rng = StdRng::seed_from_u64(1);
                compose_in(mode, &req.to_string(), &Structured::Json, &drawn, &mut rng)
            };
            let (q, p) = (answer(&quiz, &[]), answer(&plain, &[]));
            assert_eq!(q.content, p.content, "{mode:?}: the quiz field changes nothing");
            let a = parse(&q);
            assert!(a.translations[0].text.ends_with(" rules"), "{mode:?}: {a:?}");
            let missed = answer(&quiz, &[FaultKind::TermMiss]);
            assert_eq!(missed.applied, [FaultKind::TermMiss], "{mode:?}");
            let a = parse(&missed);
            assert!(!a.translations[0].text.contains("rules"), "{mode:?}: {a:?}");
        }
    }

    #[test]
    fn wrappers() {
        let b = batch(&[("1", "a")]);
        let c = run(
            &b,
            &[FaultKind::Fences, FaultKind::Think, FaultKind::Chatter, FaultKind::Truncate],
        );
        assert!(c.content.starts_with("Here is"));
        assert!(c.content.contains("```json\n<think>"));
        assert!(c.truncate);
        assert_eq!(c.applied.len(), 4);
    }

    #[test]
    fn urls_and_addresses_are_not_pseudo_translated() {
        assert_eq!(
            pseudo_run("Voir https://exemple.org/a, ou écrire à a@b.fr."),
            "⟦Vóír⟧ https://exemple.org/a⟦, óú éçríré à⟧ a@b.fr⟦.⟧"
        );
        assert_eq!(pseudo_run("Rien ici"), pseudo_text("Rien ici"));
    }

    #[test]
    fn an_interactive_translation_answers_the_text_only() {
        let none = BTreeSet::new();
        let mut rng = StdRng::seed_from_u64(1);
        let user = "Source language: French\nTarget language: English\nTEXT:\nBonjour";
        let c = compose(user, &Structured::None, &none, &mut rng);
        assert_eq!(c.content, pseudo_text("Bonjour"));
        assert!(!c.content.contains("ánguage"), "{}", c.content);
        let c = compose("", &Structured::None, &none, &mut rng);
        assert!(!c.content.trim().is_empty());
    }

    #[test]
    fn tokens() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("abcd"), 1);
        assert_eq!(count_tokens("abcde"), 2);
        assert_eq!(tokenize("ééé").concat(), "ééé");
        let fr = "Bonjour tout le monde, ceci est un texte.";
        assert_eq!(count_tokens(fr), 13);
        assert_eq!(tokenize(fr).concat(), fr);
        let mixed = "a  b\n\n{\"id\":\"1\"} ";
        assert_eq!(tokenize(mixed).concat(), mixed);
        assert_eq!(count_tokens(&thinking_trace("x", 100)), 100);
    }
}
