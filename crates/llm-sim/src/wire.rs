//! The batch translation wire contract, server side (see `WIRE.md`, included below).
//!
//! These types are written again here, independently of the client in `tradia-llm`, on purpose:
//! the simulator checks the client against the written contract, not against shared code.
#![doc = include_str!("../WIRE.md")]

use serde::{Deserialize, Serialize};

/// Name of the schema in an OpenAI `response_format.json_schema`.
pub const SCHEMA_NAME: &str = "tradia_translations";

/// The translations schema (WIRE.md §2), as JSON text.
pub const TRANSLATIONS_SCHEMA: &str = r#"{"type":"object","properties":{"translations":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"text":{"type":"string"}},"required":["id","text"],"additionalProperties":false}}},"required":["translations"],"additionalProperties":false}"#;

/// The translations schema as a JSON value.
pub fn translations_schema() -> serde_json::Value {
    serde_json::from_str(TRANSLATIONS_SCHEMA).unwrap_or(serde_json::Value::Null)
}

/// A batch translation request: the content of the last user message (WIRE.md §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// Always `"translate"`.
    pub task: String,
    /// Source language name in English.
    pub source_lang: String,
    /// Target language name in English.
    pub target_lang: String,
    /// Preceding source text, read-only.
    #[serde(default)]
    pub context: Vec<String>,
    /// Segments to translate, in document order.
    pub segments: Vec<WireSegment>,
    /// Glossary terms of this batch: a source term found in a segment is translated with its
    /// target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub glossary: Vec<WireTerm>,
    /// `formal` or `informal`, when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formality: Option<String>,
    /// What the document is (title, domain), when the client says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<String>,
}

/// One glossary term of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTerm {
    /// The term in the source language.
    pub source: String,
    /// Its required translation.
    pub target: String,
}

/// One segment of a request or of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSegment {
    /// Opaque key, unique in the request.
    pub id: String,
    /// Rendered content (`<gN>…</gN>`, `<xN/>`, escaped text).
    pub text: String,
    /// Earlier translations of similar sentences (requests only; WIRE.md §1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<WireExample>,
    /// The document's note for translators about this segment (requests only; WIRE.md §1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An example given with a segment: an earlier source and its validated translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireExample {
    /// The earlier source, rendered like `text`.
    pub source: String,
    /// Its translation, rendered the same way.
    pub target: String,
}

/// The expected answer (WIRE.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAnswer {
    /// One entry per request segment.
    pub translations: Vec<WireSegment>,
}

impl BatchRequest {
    /// Reads a user message as a batch request: the trimmed text must be a JSON object with
    /// `"task":"translate"` and a non-empty `segments` array. Anything else is not a batch.
    pub fn from_user_text(text: &str) -> Option<BatchRequest> {
        let trimmed = text.trim();
        if !trimmed.starts_with('{') {
            return None;
        }
        let req: BatchRequest = serde_json::from_str(trimmed).ok()?;
        (req.task == "translate" && !req.segments.is_empty()).then_some(req)
    }
}
