//! What the service needs from the language-model layer, as one narrow trait.
//!
//! Document jobs only need a [`tradia_core::Engine`]; text translation streams, the assistants,
//! the model list and health checks need a little more. [`LlmGateway`] gathers those so handlers
//! never see a backend client, tests can run without one, and the LLM crate plugs in through a
//! single implementation (see `llm.rs`).

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tradia_core::{BoxFuture, Engine, EngineStats, LanguageTag, Priority, PseudoEngine};
use utoipa::ToSchema;

/// Receives pieces of an answer as the model produces them.
pub type TokenSender = UnboundedSender<String>;

/// A model offered by a backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ModelInfo {
    /// Name to pass as `model`.
    pub name: String,
    /// Backend serving it (`ollama`, `openai`, `pseudo`…).
    pub backend: String,
    /// True for the model used when none is given.
    pub default: bool,
}

/// One text to translate outside any document.
#[derive(Debug, Clone)]
pub struct TextRequest {
    /// The text.
    pub text: String,
    /// Its language, when known.
    pub source: Option<LanguageTag>,
    /// The language to translate into.
    pub target: LanguageTag,
    /// Model name; `None` for the default.
    pub model: Option<String>,
    /// Who asks (the user's id): the fairness key, so that one user's many requests do not
    /// hold up another's.
    pub owner: String,
}

/// A completion whose answer must follow a JSON schema.
#[derive(Debug, Clone)]
pub struct StructuredRequest {
    /// Instructions.
    pub system: String,
    /// The user's material.
    pub prompt: String,
    /// JSON schema the answer must follow.
    pub schema: serde_json::Value,
    /// Images (raw bytes: PNG, JPEG…) for vision models.
    pub images: Vec<Vec<u8>>,
    /// Model name; `None` for the default (or the vision model when there are images).
    pub model: Option<String>,
    /// Scheduling priority.
    pub priority: Priority,
    /// Who asks (the user's id): the fairness key, as for [`TextRequest::owner`].
    pub owner: String,
}

/// Why the language model could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No backend reachable, or all failed.
    #[error("{0}")]
    Unavailable(String),
    /// The request was refused (unknown model, model without vision…).
    #[error("{0}")]
    Rejected(String),
    /// The answer could not be used even after retries.
    #[error("the model's answer could not be used: {0}")]
    InvalidAnswer(String),
}

/// The language-model features the service uses.
pub trait LlmGateway: Send + Sync {
    /// Short backend name for logs and metrics labels.
    fn backend_name(&self) -> String;
    /// The model used when a request names none.
    fn default_model(&self) -> String;
    /// Available models, default first.
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, GatewayError>>;
    /// Ok when the backend answers.
    fn health(&self) -> BoxFuture<'_, Result<(), GatewayError>>;
    /// True while every backend's circuit breaker is open (or half-open, waiting for its probe
    /// to succeed): document jobs wait for the model. `false` for a gateway without breakers.
    fn all_backends_down(&self) -> bool {
        false
    }
    /// The document engine for a model (`None`: the default one).
    fn engine(&self, model: Option<&str>) -> Arc<dyn Engine>;
    /// Counters of the document engines (requests, retries, tokens).
    fn stats(&self) -> EngineStats;
    /// True while every backend of the default model is known to be down (their circuit
    /// breakers are open): work waits for the model to come back.
    fn unreachable(&self) -> bool {
        false
    }
    /// True when the backend is a simulation (the pseudo engine, or `tradia simulate-llm`):
    /// the page labels itself a demonstration.
    fn simulated(&self) -> bool {
        false
    }
    /// Sets backend gauges and counters (per-backend load, breaker state) before a scrape.
    fn export_metrics(&self) {}
    /// Since when every backend has been out of service (circuit breakers open), `None` while
    /// one serves or without backends. Cheap: no request is made (for `/healthz` and the page).
    fn all_down_since(&self) -> Option<std::time::SystemTime> {
        None
    }
    /// Translates plain text, sending pieces of the translation to `tokens` as they come.
    fn translate_text(
        &self,
        request: TextRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<String, GatewayError>>;
    /// Completes with a JSON-schema-constrained answer, sending raw pieces to `tokens`.
    fn complete_structured(
        &self,
        request: StructuredRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<serde_json::Value, GatewayError>>;
}

/// The pseudo-translation gateway: no model, deterministic, labelled `pseudo`.
///
/// It lets anyone try the service (and its tests run) without a language model: translations
/// are [`tradia_core::pseudo`] output and structured answers are built from the schema, every
/// string field holding the pseudo-translated input.
#[derive(Debug, Default, Clone, Copy)]
pub struct PseudoGateway;

impl LlmGateway for PseudoGateway {
    fn backend_name(&self) -> String {
        "pseudo".into()
    }
    fn simulated(&self) -> bool {
        true
    }
    fn default_model(&self) -> String {
        "pseudo".into()
    }
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, GatewayError>> {
        Box::pin(async {
            Ok(vec![ModelInfo { name: "pseudo".into(), backend: "pseudo".into(), default: true }])
        })
    }
    fn health(&self) -> BoxFuture<'_, Result<(), GatewayError>> {
        Box::pin(async { Ok(()) })
    }
    fn engine(&self, _model: Option<&str>) -> Arc<dyn Engine> {
        Arc::new(PseudoEngine)
    }
    fn stats(&self) -> EngineStats {
        EngineStats::default()
    }
    fn translate_text(
        &self,
        request: TextRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<String, GatewayError>> {
        Box::pin(async move {
            let out = tradia_core::pseudo::pseudo_text(&request.text);
            send_in_pieces(&out, tokens.as_ref());
            Ok(out)
        })
    }
    fn complete_structured(
        &self,
        request: StructuredRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<serde_json::Value, GatewayError>> {
        Box::pin(async move {
            let text = tradia_core::pseudo::pseudo_text(&request.prompt);
            let value = value_for_schema(&request.schema, &text);
            send_in_pieces(&value.to_string(), tokens.as_ref());
            Ok(value)
        })
    }
}

/// Sends `text` word by word, as a streaming model would.
fn send_in_pieces(text: &str, tokens: Option<&TokenSender>) {
    let Some(tokens) = tokens else { return };
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' && i > start {
            let _ = tokens.send(text[start..i].to_string());
            start = i;
        }
    }
    if start < text.len() {
        let _ = tokens.send(text[start..].to_string());
    }
}

/// A value that follows `schema`, with `text` in every string.
fn value_for_schema(schema: &serde_json::Value, text: &str) -> serde_json::Value {
    use serde_json::Value;
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let mut map = serde_json::Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in props {
                    map.insert(key.clone(), value_for_schema(sub, text));
                }
            }
            Value::Object(map)
        }
        Some("array") => match schema.get("items") {
            Some(items) => Value::Array(vec![value_for_schema(items, text)]),
            None => Value::Array(vec![]),
        },
        Some("boolean") => Value::Bool(false),
        Some("integer") | Some("number") => Value::from(0),
        _ => Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_structured_answer_follows_schema() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "items": {"type": "array", "items": {"type": "string"}}
            }
        });
        let v = value_for_schema(&schema, "x");
        assert_eq!(v, serde_json::json!({"text": "x", "items": ["x"]}));
    }

    #[tokio::test]
    async fn pseudo_text_streams_what_it_returns() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let request = TextRequest {
            text: "Bonjour le monde".into(),
            source: None,
            target: LanguageTag::parse("en").unwrap(),
            model: None,
            owner: "user".into(),
        };
        let out = PseudoGateway.translate_text(request, Some(tx)).await.unwrap();
        let mut streamed = String::new();
        while let Ok(piece) = rx.try_recv() {
            streamed.push_str(&piece);
        }
        assert_eq!(streamed, out);
        assert!(out.contains('⟦'));
    }
}
