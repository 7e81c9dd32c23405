//! Prompts, the batch wire format and the answer schema, versioned and fingerprinted.
//!
//! The batch format is the contract in `crates/llm-sim/WIRE.md` (v1): the user message is one
//! JSON object `{"task":"translate","source_lang","target_lang","context":[…],"segments":[{"id",
//! "text"}]}` and the answer, constrained by the *translations schema*, is
//! `{"translations":[{"id","text"}]}` keyed by id. Everything that does not vary (instructions,
//! rules for inline codes, French typography, right-to-left targets) is in the system message,
//! byte-identical on every request so that servers reuse its prompt cache; per-request facts
//! (languages, context, a stricter note on retries, the glossary terms of the batch, formality,
//! brief and instructions, each segment's examples and note for translators) travel in the user
//! message.
//!
//! [`fingerprint`] (sha256 of the templates and the schema) is recorded with each translation,
//! so a translation memory can tell which prompt produced what.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tradia_core::LanguageTag;

/// Version of the prompt templates; bump it with any wording change.
pub const PROMPT_VERSION: &str = "tradia-prompt-v3";

/// System message of batch document translation (identical on every request).
pub const BATCH_SYSTEM: &str = "You are a professional translator working on documents.

INPUT: the user message is one JSON object:
- \"source_lang\" and \"target_lang\": the languages, spelled out in English;
- \"context\": text that comes just before the segments in the document. It is read-only: use it to understand the segments, never translate it or return it;
- \"segments\": a list of {\"id\", \"text\"} to translate; a segment may have \"examples\": earlier approved translations of similar sentences ({\"source\", \"target\"}). Follow their terminology and style where they fit; never copy what differs from the segment, and never return them; a segment may also have \"note\": what the document's authors tell translators about it (its meaning, where it appears, a length limit). Use the note to translate that segment; never translate or return the note;
- sometimes \"glossary\": a list of {\"source\", \"target\"} terms (with an optional \"note\"): wherever a source term occurs in a segment, translate it with exactly that target term;
- sometimes \"formality\": \"formal\" or \"informal\": the form of address to use where the target language has one (vous/tu, Sie/du, usted/tú);
- sometimes \"brief\": what the document is, and \"instructions\": wishes of the person who asked for the translation; follow them unless they contradict the rules below;
- sometimes \"note\" or \"glossary_note\": an extra instruction for this request.

OUTPUT: only one JSON object, {\"translations\":[{\"id\":\"…\",\"text\":\"…\"}]}, with exactly one entry per input segment and the same \"id\" strings. No other text: no explanation, no comment, no Markdown fence, no thinking.

RULES:
1. Translate each segment completely and faithfully from source_lang into target_lang, in a natural, fluent style that keeps the register of the original (administrative, educational…). Never summarise, never add anything.
2. Inline codes: a text may contain tags such as <g1>…</g1> (formatting around words) and <x2/> (a placeholder, such as an image or a field). Keep every tag exactly once with the same number, move it with the words it belongs to, keep pairs properly nested. Never add, remove, renumber or translate a tag.
3. The text escapes characters as &lt; &gt; &amp;. Keep them escaped exactly like that in your answer.
4. Keep numbers, URLs, e-mail addresses, file names, code and product names unchanged, except where the target language has its own usual form.
5. A segment that is already in target_lang, or has nothing to translate, is returned unchanged.
6. When target_lang is French: follow French typography: a narrow no-break space (U+202F) before ; : ! ? and inside « guillemets », French quotation marks « » instead of \"…\".
7. When target_lang is written right to left (Arabic, Hebrew, Persian, Urdu…): write natural text in that script; do not add direction marks; keep tags, numbers and Latin-script names as they are.";

/// System message of interactive text translation.
pub const TEXT_SYSTEM: &str = "You are a professional translator. The user message gives the source and target languages, then the text to translate after a line \"TEXT:\". Answer with the translation of that text only: no explanation, no comment, no quotation marks around it. Keep the line breaks, the Markdown and the formatting of the text. When the target language is French, put a narrow no-break space (U+202F) before ; : ! ? and inside « ». When it is written right to left, write natural text in that script without direction marks.";

/// Note added to the user message when earlier answers for these segments were rejected.
pub const STRICT_NOTE: &str = "Earlier answers for these segments were rejected. Return exactly one entry per id, translate every segment completely, keep every tag exactly once with its number, and answer with the JSON object only.";

/// What the model is told about a cloze group (`engine::quiz`, in the request's `quiz.note`).
pub const CLOZE_NOTE: &str = "These segments are the terms of one fill-in-the-blank exercise: \
    the answer the learner must give in the gap (shown as ___ in the context sentence), the \
    options offered for the gap and the synonyms accepted. Translate each as a term that fits \
    the gap of the translated sentence. Terms that are identical in the source must be \
    identical in the translation, so that the answer is still one of the options.";
/// What the model is told about a short-answer group.
pub const SHORT_ANSWER_NOTE: &str = "These segments are the answers a learner may type to the \
    question given as context. Translate each as the exact short answer to the translated \
    question, on one line. Answers that are identical in the source must be identical in the \
    translation.";
/// Added on the second try of a group whose first answer did not hold together.
pub const QUIZ_STRICT_NOTE: &str = "The previous translation of these terms broke the \
    exercise. Give identical terms exactly the same translation, character for character, and \
    translate every term.";

/// The translations schema of the wire contract (WIRE.md §2).
pub fn translations_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        json!({
            "type": "object",
            "properties": {
                "translations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "text": {"type": "string"}
                        },
                        "required": ["id", "text"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["translations"],
            "additionalProperties": false
        })
    })
}

/// Fingerprint of the prompt templates and schema (hex sha256), recorded with each translation.
pub fn fingerprint() -> &'static str {
    static FP: OnceLock<String> = OnceLock::new();
    FP.get_or_init(|| {
        let mut h = Sha256::new();
        for part in [
            PROMPT_VERSION,
            BATCH_SYSTEM,
            TEXT_SYSTEM,
            STRICT_NOTE,
            CLOZE_NOTE,
            SHORT_ANSWER_NOTE,
            QUIZ_STRICT_NOTE,
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        h.update(translations_schema().to_string().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// Name of a language for a prompt (`French`, `Brazilian Portuguese`).
pub fn language_name(tag: Option<&LanguageTag>) -> String {
    match tag {
        Some(t) => t.english_name(),
        None => "unknown (detect it from the text)".to_string(),
    }
}

/// One segment on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct WireSegment<'a> {
    /// Decimal segment id.
    pub id: String,
    /// Rendered core content.
    pub text: &'a str,
    /// Fuzzy translation-memory matches for this segment (left out when empty).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub examples: &'a [WireExample],
    /// The document's note for translators about this segment, bounded (left out when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

/// An earlier translation of a similar sentence, sent with a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WireExample {
    /// The earlier source, rendered.
    pub source: String,
    /// Its validated translation, rendered.
    pub target: String,
}

#[derive(Serialize)]
struct BatchRequest<'a> {
    task: &'static str,
    source_lang: &'a str,
    target_lang: &'a str,
    context: &'a [String],
    segments: &'a [WireSegment<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
    /// Glossary terms and style (`engine::terms`): fields of their own, never in the system
    /// message.
    #[serde(flatten)]
    guidance: &'a Map<String, Value>,
}

/// The user message of a batch request (WIRE.md §1).
pub fn batch_user_message(
    source: &str,
    target: &str,
    context: &[String],
    segments: &[WireSegment<'_>],
    strict: bool,
    guidance: &Map<String, Value>,
) -> String {
    let req = BatchRequest {
        task: "translate",
        source_lang: source,
        target_lang: target,
        context,
        segments,
        note: strict.then_some(STRICT_NOTE),
        guidance,
    };
    // Serialising plain strings and slices cannot fail.
    serde_json::to_string(&req).unwrap_or_default()
}

/// The user message of an interactive text translation.
pub fn text_user_message(source: Option<&LanguageTag>, target: &LanguageTag, text: &str) -> String {
    format!(
        "Source language: {}\nTarget language: {}\nTEXT:\n{}",
        language_name(source),
        target.english_name(),
        text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_message_follows_the_wire_contract() {
        let segs = [WireSegment {
            id: "12".into(),
            text: "Lisez le <g1>guide</g1>.",
            examples: &[],
            note: None,
        }];
        let msg =
            batch_user_message("French", "English", &["Avant.".into()], &segs, false, &Map::new());
        let v: Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(v["task"], "translate");
        assert_eq!(v["source_lang"], "French");
        assert_eq!(v["target_lang"], "English");
        assert_eq!(v["context"][0], "Avant.");
        assert_eq!(v["segments"][0]["id"], "12");
        assert_eq!(v["segments"][0]["text"], "Lisez le <g1>guide</g1>.");
        assert!(v.get("note").is_none());
        // Tags are not HTML-escaped in the JSON: models copy tags they can see.
        assert!(msg.contains("<g1>guide</g1>"));
        let strict = batch_user_message("French", "English", &[], &segs, true, &Map::new());
        assert!(strict.contains("\"note\""));
        assert!(v["segments"][0].get("examples").is_none(), "no examples: no field");
    }

    #[test]
    fn examples_travel_with_their_segment() {
        let examples = [WireExample {
            source: "Lisez le mode d'emploi.".into(),
            target: "Read the manual.".into(),
        }];
        let segs = [WireSegment {
            id: "3".into(),
            text: "Lisez le guide.",
            examples: &examples,
            note: None,
        }];
        let msg = batch_user_message("French", "English", &[], &segs, false, &Map::new());
        let v: Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(v["segments"][0]["examples"][0]["source"], "Lisez le mode d'emploi.");
        assert_eq!(v["segments"][0]["examples"][0]["target"], "Read the manual.");
    }

    #[test]
    fn a_note_travels_with_its_segment_and_is_left_out_when_none() {
        let segs = [
            WireSegment {
                id: "4".into(),
                text: "Ouvrir",
                examples: &[],
                note: Some("Menu item: opens a file"),
            },
            WireSegment { id: "5".into(), text: "Fermer", examples: &[], note: None },
        ];
        let msg = batch_user_message("French", "English", &[], &segs, false, &Map::new());
        let v: Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(v["segments"][0]["note"], "Menu item: opens a file");
        assert!(v["segments"][1].get("note").is_none());
        assert!(v.get("note").is_none(), "a segment's note is not the request's retry note");
    }

    #[test]
    fn the_fingerprint_is_stable_hex() {
        let f = fingerprint();
        assert_eq!(f.len(), 64);
        assert!(f.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(f, fingerprint());
    }

    #[test]
    fn system_prompt_has_no_per_request_value_and_covers_the_rules() {
        assert!(BATCH_SYSTEM.contains("U+202F"));
        assert!(BATCH_SYSTEM.contains("right to left"));
        assert!(BATCH_SYSTEM.contains("<g1>"));
        assert!(!BATCH_SYSTEM.contains("{target}"));
    }
}
