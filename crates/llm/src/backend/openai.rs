//! OpenAI-compatible servers (vLLM, llama.cpp, TGI, LM Studio… `llm-servers.md` §4):
//! `POST /v1/chat/completions` with `response_format` carrying the JSON schema. A server that
//! rejects `response_format` gets the request again without it, and is remembered as refusing
//! it ([`SchemaSupport`]): its answers are then unconstrained and the engine's validator and
//! repair ladder carry the load alone. Repetition is curbed with the standard
//! `frequency_penalty` (0.2 by default; llama.cpp applies it over its last 64 tokens), not with
//! `repeat_penalty`, which only some servers accept and strict ones refuse as unknown.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Value, json};

use super::stream::{byte_lines, sse_events};
use super::{Backend, ChatOutcome, ChatRequest, Finish, ModelInfo, StreamEvent};
use crate::error::LlmError;

const CHAT: &str = "/chat/completions";

/// Whether the server refused `response_format` (shared by the clones of one [`Backend`]).
#[derive(Debug, Default)]
pub(super) struct SchemaSupport {
    refused: AtomicBool,
}

impl SchemaSupport {
    /// True once the server refused `response_format`.
    pub(super) fn refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    fn mark_refused(&self) {
        self.refused.store(true, Ordering::Relaxed);
    }
}

/// `GET /models` (the base URL ends with `/v1`).
pub(super) async fn models(b: &Backend) -> Result<Vec<ModelInfo>, LlmError> {
    let v: OpenAiModels = b.get_json("/models").await?;
    Ok(v.data
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| Some(ModelInfo { name: m.id?, ..ModelInfo::default() }))
        .collect())
}

fn image_mime(b64: &str) -> &'static str {
    if b64.starts_with("iVBOR") {
        "image/png"
    } else if b64.starts_with("R0lG") {
        "image/gif"
    } else if b64.starts_with("UklG") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

fn body(b: &Backend, req: &ChatRequest, stream: bool, with_schema: bool) -> Value {
    let user_content = if req.images.is_empty() {
        json!(req.user)
    } else {
        let mut parts = vec![json!({ "type": "text", "text": req.user })];
        for img in &req.images {
            parts.push(json!({
                "type": "image_url",
                "image_url": { "url": format!("data:{};base64,{img}", image_mime(img)) },
            }));
        }
        Value::Array(parts)
    };
    let mut body = json!({
        "model": req.model,
        "messages": [
            { "role": "system", "content": req.system },
            { "role": "user", "content": user_content },
        ],
        "stream": stream,
        "max_tokens": req.max_tokens,
        "temperature": req.temperature,
        "top_p": 1.0,
    });
    if b.frequency_penalty != 0.0 {
        body["frequency_penalty"] = json!(b.frequency_penalty);
    }
    if stream {
        body["stream_options"] = json!({ "include_usage": true });
    }
    if let (true, Some(schema)) = (with_schema, &req.schema) {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": { "name": "answer", "strict": true, "schema": schema },
        });
    }
    body
}

/// Whether an error means "this server does not take `response_format`".
fn refuses_schema(e: &LlmError) -> bool {
    match e {
        LlmError::Http { status: 400 | 422 | 501, message, .. } => {
            let m = message.to_ascii_lowercase();
            m.contains("response_format")
                || m.contains("json_schema")
                || m.contains("schema")
                || m.contains("grammar")
                || m.contains("not supported")
        }
        _ => false,
    }
}

/// Sends the completion, with `response_format` unless the server is known to refuse it (then,
/// or when it refuses it now, without). Also says whether the answer is schema-constrained.
async fn send(
    b: &Backend,
    req: &ChatRequest,
    stream: bool,
) -> Result<(reqwest::Response, bool), LlmError> {
    let with_schema = req.schema.is_some() && !b.schema.refused();
    let resp = match b.post(CHAT, &body(b, req, stream, with_schema)).await {
        Err(e) if with_schema && refuses_schema(&e) => {
            tracing::warn!(url = %b.shown, error = %e, "server refused response_format; sending without it");
            b.schema.mark_refused();
            b.post(CHAT, &body(b, req, stream, false)).await?
        }
        other => other?,
    };
    Ok((resp, req.schema.is_some() && !b.schema.refused()))
}

/// A completion without streaming.
pub(super) async fn chat(b: &Backend, req: &ChatRequest) -> Result<ChatOutcome, LlmError> {
    let (resp, structured) = send(b, req, false).await?;
    let r: OpenAiChat = b.read_json(resp, CHAT).await?;
    if let Some(err) = r.error {
        return Err(LlmError::Stream { url: b.shown.clone(), message: err.message() });
    }
    let choice = r.choices.unwrap_or_default().into_iter().next().unwrap_or_default();
    let message = choice.message.unwrap_or_default();
    let mut out = ChatOutcome {
        content: message.content.unwrap_or_default(),
        thinking: message.reasoning_content.or(message.reasoning),
        finish: Finish::parse(choice.finish_reason.as_deref()),
        structured,
        ..ChatOutcome::default()
    };
    apply_usage(&mut out, r.usage.as_ref(), r.timings.as_ref());
    Ok(out)
}

/// A completion streamed as server-sent events.
pub(super) async fn chat_stream(
    b: &Backend,
    req: &ChatRequest,
) -> Result<BoxStream<'static, Result<StreamEvent, LlmError>>, LlmError> {
    let (resp, structured) = send(b, req, true).await?;
    let lines = byte_lines(resp, b.shown.clone(), b.timeout);
    Ok(sse_events(lines, b.shown.clone(), structured))
}

// Wire types (every field optional).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiModels {
    data: Option<Vec<OpenAiModel>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiModel {
    id: Option<String>,
    /// llama-server: the model's metadata, `n_ctx` the context per slot.
    meta: Option<LlamaMeta>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlamaMeta {
    n_ctx: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlamaProps {
    default_generation_settings: Option<LlamaGenerationSettings>,
    /// llama-server's build (`b6123-1a2b3c4`; the simulator's says `tradia-simulator`).
    build_info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlamaGenerationSettings {
    n_ctx: Option<u64>,
}

/// llama-server's build (`build_info` of `GET /props`, at the server's root); `None` for servers
/// without that route (vLLM, LM Studio…) or when it cannot be read.
pub(super) async fn build_info(b: &Backend) -> Option<String> {
    let root = b.base.strip_suffix("/v1").unwrap_or(&b.base);
    let props = b.request_url(reqwest::Method::GET, &format!("{root}/props"));
    let resp = b.send(props).await.ok()?;
    resp.json::<LlamaProps>().await.ok()?.build_info.filter(|v| !v.is_empty())
}

/// The context per slot the server reports: llama-server's `GET /props`
/// (`default_generation_settings.n_ctx`, at the server's root, beside `/v1`), else the `meta.n_ctx`
/// of `model` (or of the only model) in `GET /v1/models`. `None` when the server says neither
/// (vLLM, LM Studio…: the configured size applies).
pub(super) async fn context_size(b: &Backend, model: &str) -> Result<Option<u32>, LlmError> {
    let root = b.base.strip_suffix("/v1").unwrap_or(&b.base);
    let props = b.request_url(reqwest::Method::GET, &format!("{root}/props"));
    if let Ok(resp) = b.send(props).await
        && let Ok(p) = resp.json::<LlamaProps>().await
        && let Some(n) = p.default_generation_settings.and_then(|g| g.n_ctx).filter(|n| *n > 0)
    {
        return Ok(Some(u32::try_from(n).unwrap_or(u32::MAX)));
    }
    let v: OpenAiModels = b.get_json("/models").await?;
    let data = v.data.unwrap_or_default();
    let pick = data.iter().find(|m| m.id.as_deref() == Some(model)).or(if data.len() == 1 {
        data.first()
    } else {
        None
    });
    Ok(pick
        .and_then(|m| m.meta.as_ref())
        .and_then(|m| m.n_ctx)
        .filter(|n| *n > 0)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OpenAiMessage {
    pub(super) content: Option<String>,
    pub(super) reasoning_content: Option<String>,
    pub(super) reasoning: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OpenAiChoice {
    message: Option<OpenAiMessage>,
    pub(super) delta: Option<OpenAiMessage>,
    pub(super) finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OpenAiUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LlamaTimings {
    prompt_ms: Option<f64>,
    predicted_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OpenAiErrorField {
    Text(String),
    Object {
        #[serde(default)]
        message: Option<String>,
    },
}

impl OpenAiErrorField {
    /// The message, whatever the shape.
    pub(super) fn message(&self) -> String {
        match self {
            OpenAiErrorField::Text(s) => s.clone(),
            OpenAiErrorField::Object { message } => {
                message.clone().unwrap_or_else(|| "unknown error".into())
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OpenAiChat {
    pub(super) choices: Option<Vec<OpenAiChoice>>,
    pub(super) usage: Option<OpenAiUsage>,
    pub(super) timings: Option<LlamaTimings>,
    pub(super) error: Option<OpenAiErrorField>,
}

/// Adds the server's token counts and (llama.cpp) timings to `out`.
pub(super) fn apply_usage(
    out: &mut ChatOutcome,
    usage: Option<&OpenAiUsage>,
    timings: Option<&LlamaTimings>,
) {
    if let Some(u) = usage {
        out.prompt_tokens = u.prompt_tokens.or(out.prompt_tokens);
        out.output_tokens = u.completion_tokens.or(out.output_tokens);
    }
    if let Some(t) = timings {
        let ms = t.prompt_ms.unwrap_or(0.0) + t.predicted_ms.unwrap_or(0.0);
        if ms > 0.0 && ms.is_finite() {
            out.busy = Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
}
