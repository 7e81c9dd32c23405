//! Ollama's native API (`llm-servers.md` §1): `POST /api/chat` with `think:false`, the same
//! `options.num_ctx` on every request (a different value reloads the model), `num_predict` from
//! the request's output budget, `format` with the JSON schema, and `repeat_penalty` (Ollama's
//! own default, 1.1 over the last 64 tokens, sent so that a Modelfile cannot turn it off: it
//! curbs repetition loops); and the endpoints `tradia check` reads (`/api/tags`,
//! `/api/version`, `/api/ps`, `/api/show`).

use std::time::Duration;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Value, json};

use super::stream::{byte_lines, ollama_events};
use super::{
    Backend, ChatOutcome, ChatRequest, Finish, ModelDetails, ModelInfo, RunningModel, StreamEvent,
};
use crate::error::LlmError;

/// `GET /api/tags`.
pub(super) async fn models(b: &Backend) -> Result<Vec<ModelInfo>, LlmError> {
    let v: TagsResponse = b.get_json("/api/tags").await?;
    Ok(v.models
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            let details = m.details.unwrap_or_default();
            Some(ModelInfo {
                name: m.name.or(m.model)?,
                size: m.size,
                parameter_size: details.parameter_size,
                quantization: details.quantization_level,
                family: details.family,
            })
        })
        .collect())
}

/// `GET /api/version`.
pub(super) async fn version(b: &Backend) -> Result<Option<String>, LlmError> {
    let v: Value = b.get_json("/api/version").await?;
    Ok(v.get("version").and_then(Value::as_str).map(str::to_string))
}

/// `GET /api/ps`.
pub(super) async fn running(b: &Backend) -> Result<Vec<RunningModel>, LlmError> {
    let v: PsResponse = b.get_json("/api/ps").await?;
    Ok(v.models
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| {
            Some(RunningModel {
                name: m.name.or(m.model)?,
                size: m.size,
                size_vram: m.size_vram,
                context_length: m.context_length,
            })
        })
        .collect())
}

/// `POST /api/show`: the trained context (`model_info.<family>.context_length`) and capabilities.
pub(super) async fn show(b: &Backend, model: &str) -> Result<ModelDetails, LlmError> {
    let resp = b.post("/api/show", &json!({ "model": model })).await?;
    let v: Value = b.read_json(resp, "/api/show").await?;
    let context_length = v.get("model_info").and_then(Value::as_object).and_then(|info| {
        info.iter().find(|(k, _)| k.ends_with(".context_length")).and_then(|(_, v)| v.as_u64())
    });
    let capabilities = v
        .get("capabilities")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(ModelDetails { context_length, capabilities })
}

fn body(b: &Backend, req: &ChatRequest, stream: bool) -> Value {
    let mut user = json!({ "role": "user", "content": req.user });
    if !req.images.is_empty() {
        user["images"] = json!(req.images);
    }
    let mut body = json!({
        "model": req.model,
        "messages": [ { "role": "system", "content": req.system }, user ],
        "stream": stream,
        "think": false,
        "options": {
            "num_ctx": b.num_ctx,
            "num_predict": req.max_tokens,
            "temperature": req.temperature,
            "repeat_penalty": b.repeat_penalty,
            "repeat_last_n": 64,
        },
    });
    if let Some(schema) = &req.schema {
        body["format"] = schema.clone();
    }
    body
}

/// `POST /api/chat` with `stream:false`.
pub(super) async fn chat(b: &Backend, req: &ChatRequest) -> Result<ChatOutcome, LlmError> {
    let resp = b.post("/api/chat", &body(b, req, false)).await?;
    let r: OllamaChat = b.read_json(resp, "/api/chat").await?;
    if let Some(err) = r.error {
        return Err(LlmError::Stream { url: b.shown.clone(), message: err });
    }
    let mut out = r.outcome();
    out.content = r.message.as_ref().and_then(|m| m.content.clone()).unwrap_or_default();
    out.structured = req.schema.is_some();
    Ok(out)
}

/// `POST /api/chat` with `stream:true` (NDJSON).
pub(super) async fn chat_stream(
    b: &Backend,
    req: &ChatRequest,
) -> Result<BoxStream<'static, Result<StreamEvent, LlmError>>, LlmError> {
    let resp = b.post("/api/chat", &body(b, req, true)).await?;
    let lines = byte_lines(resp, b.shown.clone(), b.timeout);
    Ok(ollama_events(lines, b.shown.clone(), req.schema.is_some()))
}

// Wire types (every field optional).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagsResponse {
    models: Option<Vec<TagModel>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagModel {
    name: Option<String>,
    model: Option<String>,
    size: Option<u64>,
    details: Option<TagDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagDetails {
    family: Option<String>,
    parameter_size: Option<String>,
    quantization_level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PsResponse {
    models: Option<Vec<PsModel>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PsModel {
    name: Option<String>,
    model: Option<String>,
    size: Option<u64>,
    size_vram: Option<u64>,
    context_length: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OllamaMessage {
    pub(super) content: Option<String>,
    pub(super) thinking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OllamaChat {
    pub(super) message: Option<OllamaMessage>,
    pub(super) done: Option<bool>,
    done_reason: Option<String>,
    total_duration: Option<u64>,
    prompt_eval_count: Option<u64>,
    prompt_eval_duration: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    pub(super) error: Option<String>,
}

impl OllamaChat {
    /// The counters of a final answer (its text is filled in by the caller).
    pub(super) fn outcome(&self) -> ChatOutcome {
        let busy = match (self.prompt_eval_duration, self.eval_duration) {
            (None, None) => None,
            (p, e) => Some(Duration::from_nanos(p.unwrap_or(0) + e.unwrap_or(0))),
        };
        ChatOutcome {
            content: String::new(),
            thinking: self
                .message
                .as_ref()
                .and_then(|m| m.thinking.clone())
                .filter(|t| !t.is_empty()),
            finish: Finish::parse(self.done_reason.as_deref()),
            prompt_tokens: self.prompt_eval_count,
            output_tokens: self.eval_count,
            busy,
            total: self.total_duration.map(Duration::from_nanos),
            structured: false,
        }
    }
}
