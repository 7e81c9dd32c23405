//! HTTP backends: Ollama's native API and OpenAI-compatible servers.
//!
//! One [`Backend`] is one server. It speaks either dialect (exact shapes in
//! `shared/docs/llm-servers.md` §1 and §4): `POST /api/chat` with `think:false`, the same
//! `options.num_ctx` on every request (a different value reloads the model), `num_predict` from
//! the request's output budget and `format` with the JSON schema; or `POST /v1/chat/completions`
//! with `response_format` (dropped, and remembered as refused, when the server rejects it).
//! Both stream (NDJSON / SSE) or not. Every response field is optional on purpose: typed SDKs
//! break on "compatible" servers that omit fields (dependencies.md §15).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{LlmError, display_url};
use crate::settings::{AuthScheme, BackendSettings, EngineKind, LlmSettings};

/// One chat completion to run.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// Model name.
    pub model: String,
    /// System message (static instructions: identical across requests for prefix caching).
    pub system: String,
    /// User message.
    pub user: String,
    /// Base64 images attached to the user message (vision models).
    pub images: Vec<String>,
    /// JSON schema the answer must follow (Ollama `format`, OpenAI `response_format`).
    pub schema: Option<Value>,
    /// Output tokens allowed (`num_predict` / `max_tokens`).
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Finish {
    /// Natural end (`stop`).
    Stop,
    /// Output limit reached (`length`): the answer is truncated.
    Length,
    /// Another reason reported by the server.
    Other(String),
    /// The server did not say.
    #[default]
    Unknown,
}

impl Finish {
    fn parse(reason: Option<&str>) -> Finish {
        match reason {
            None | Some("") => Finish::Unknown,
            Some("stop") | Some("eos") | Some("end_turn") => Finish::Stop,
            Some("length") | Some("max_tokens") => Finish::Length,
            Some(other) => Finish::Other(other.to_string()),
        }
    }
}

/// A finished chat completion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatOutcome {
    /// The answer text.
    pub content: String,
    /// Thinking text reported separately by the server, if any.
    pub thinking: Option<String>,
    /// Why generation stopped.
    pub finish: Finish,
    /// Prompt tokens the server counted.
    pub prompt_tokens: Option<u64>,
    /// Output tokens the server counted.
    pub output_tokens: Option<u64>,
    /// Server time spent on this request in a slot (prompt evaluation + generation).
    pub busy: Option<Duration>,
    /// Total server time including queue and load.
    pub total: Option<Duration>,
    /// True when the answer was constrained by the JSON schema.
    pub structured: bool,
}

/// A piece of a streamed completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// Answer text.
    Delta(String),
    /// Thinking text (reported apart by the server).
    Thinking(String),
    /// The end, with the whole answer and the server's counters.
    Done(ChatOutcome),
}

/// A model a server offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    /// Name to put in requests.
    pub name: String,
    /// Size on disk in bytes, when known.
    pub size: Option<u64>,
    /// Parameter count as the server spells it (`24.0B`).
    pub parameter_size: Option<String>,
    /// Quantization (`Q4_K_M`).
    pub quantization: Option<String>,
    /// Family (`mistral3`).
    pub family: Option<String>,
}

/// A model loaded in memory (Ollama `/api/ps`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunningModel {
    /// Model name.
    pub name: String,
    /// Bytes in memory.
    pub size: Option<u64>,
    /// Bytes in GPU memory (equal to `size` when fully on GPU).
    pub size_vram: Option<u64>,
    /// Context per slot the model runs with.
    pub context_length: Option<u64>,
}

/// What `/api/show` says about a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelDetails {
    /// Trained context length.
    pub context_length: Option<u64>,
    /// Capabilities (`completion`, `vision`, `thinking`…).
    pub capabilities: Vec<String>,
}

const SCHEMA_UNKNOWN: u8 = 0;
const SCHEMA_ACCEPTED: u8 = 1;
const SCHEMA_REFUSED: u8 = 2;

/// One LLM server.
#[derive(Clone)]
pub struct Backend {
    kind: EngineKind,
    base: String,
    shown: String,
    client: reqwest::Client,
    api_key: Option<SecretString>,
    auth: AuthScheme,
    num_ctx: u32,
    timeout: Duration,
    schema_support: Arc<AtomicU8>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("kind", &self.kind).field("url", &self.shown).finish()
    }
}

/// Builds the HTTP client shared by the backends: timeouts, extra CA bundle, proxies.
pub fn build_client(settings: &LlmSettings) -> Result<reqwest::Client, LlmError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .timeout(settings.timeout)
        .pool_max_idle_per_host(settings.slots.max(4) * 2)
        .user_agent(concat!("tradia/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &settings.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| LlmError::Tls {
            url: "TRADIA_LLM_CA_BUNDLE".into(),
            detail: format!("cannot read the CA bundle: {e}"),
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    // Explicit settings replace the environment; without them reqwest reads HTTP_PROXY,
    // HTTPS_PROXY and NO_PROXY (both cases) itself.
    if settings.http_proxy.is_some() || settings.https_proxy.is_some() {
        let no_proxy = settings.no_proxy.as_deref().and_then(reqwest::NoProxy::from_string);
        let bad = |e: reqwest::Error| LlmError::Unreachable {
            url: "proxy".into(),
            detail: format!("invalid proxy setting: {e}"),
        };
        if let Some(p) = &settings.http_proxy {
            builder =
                builder.proxy(reqwest::Proxy::http(p).map_err(bad)?.no_proxy(no_proxy.clone()));
        }
        if let Some(p) = &settings.https_proxy {
            builder = builder.proxy(reqwest::Proxy::https(p).map_err(bad)?.no_proxy(no_proxy));
        }
    }
    builder.build().map_err(|e| LlmError::Tls { url: "client".into(), detail: e.to_string() })
}

impl Backend {
    /// A backend for `server`, sharing `client`.
    pub fn new(server: &BackendSettings, settings: &LlmSettings, client: reqwest::Client) -> Self {
        Backend {
            kind: server.kind,
            base: server.base_url.trim_end_matches('/').to_string(),
            shown: display_url(&server.base_url),
            client,
            api_key: server.api_key.clone(),
            auth: server.auth,
            num_ctx: settings.num_ctx,
            timeout: settings.timeout,
            schema_support: Arc::new(AtomicU8::new(SCHEMA_UNKNOWN)),
        }
    }

    /// The server's URL as it may be shown (no credentials).
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The dialect it speaks.
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// True once an OpenAI-style server refused `response_format` (answers are then unconstrained).
    pub fn schema_refused(&self) -> bool {
        self.schema_support.load(Ordering::Relaxed) == SCHEMA_REFUSED
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, self.endpoint(path));
        match &self.api_key {
            None => rb,
            Some(key) => match self.auth {
                AuthScheme::Basic => rb.basic_auth("api", Some(key.expose_secret())),
                AuthScheme::Bearer => rb.bearer_auth(key.expose_secret()),
                AuthScheme::XApiKey => match HeaderValue::from_str(key.expose_secret()) {
                    Ok(mut v) => {
                        v.set_sensitive(true);
                        let mut h = HeaderMap::new();
                        h.insert("x-api-key", v);
                        rb.headers(h)
                    }
                    Err(_) => rb,
                },
            },
        }
    }

    fn map_err(&self, e: reqwest::Error) -> LlmError {
        map_reqwest(&self.shown, self.timeout, e)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::Response, LlmError> {
        let resp = rb.send().await.map_err(|e| self.map_err(e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(300.0)));
        let body = resp.text().await.unwrap_or_default();
        Err(LlmError::Http {
            url: self.shown.clone(),
            status,
            message: error_message(&body),
            retry_after,
        })
    }

    async fn get_json(&self, path: &str) -> Result<Value, LlmError> {
        let resp = self.send(self.request(reqwest::Method::GET, path)).await?;
        let bytes = resp.bytes().await.map_err(|e| self.map_err(e))?;
        serde_json::from_slice(&bytes).map_err(|e| LlmError::BadResponse {
            url: self.shown.clone(),
            detail: format!("{path}: {e}"),
        })
    }

    /// The models the server offers (`/api/tags` or `/v1/models`).
    pub async fn models(&self) -> Result<Vec<ModelInfo>, LlmError> {
        match self.kind {
            EngineKind::Ollama => {
                let v: TagsResponse = from_value(&self.shown, self.get_json("/api/tags").await?)?;
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
            EngineKind::Openai => {
                let v: OpenAiModels = from_value(&self.shown, self.get_json("/models").await?)?;
                Ok(v.data
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|m| Some(ModelInfo { name: m.id?, ..ModelInfo::default() }))
                    .collect())
            }
        }
    }

    /// The server's version (Ollama `/api/version`; `None` for OpenAI-style servers).
    pub async fn version(&self) -> Result<Option<String>, LlmError> {
        match self.kind {
            EngineKind::Ollama => {
                let v = self.get_json("/api/version").await?;
                Ok(v.get("version").and_then(Value::as_str).map(str::to_string))
            }
            EngineKind::Openai => Ok(None),
        }
    }

    /// Models loaded in memory (Ollama `/api/ps`; empty for OpenAI-style servers).
    pub async fn running(&self) -> Result<Vec<RunningModel>, LlmError> {
        match self.kind {
            EngineKind::Ollama => {
                let v: PsResponse = from_value(&self.shown, self.get_json("/api/ps").await?)?;
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
            EngineKind::Openai => Ok(Vec::new()),
        }
    }

    /// What Ollama's `/api/show` says about `model` (trained context, capabilities).
    pub async fn show(&self, model: &str) -> Result<ModelDetails, LlmError> {
        if self.kind != EngineKind::Ollama {
            return Ok(ModelDetails::default());
        }
        let rb = self.request(reqwest::Method::POST, "/api/show").json(&json!({ "model": model }));
        let resp = self.send(rb).await?;
        let bytes = resp.bytes().await.map_err(|e| self.map_err(e))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| LlmError::BadResponse {
            url: self.shown.clone(),
            detail: e.to_string(),
        })?;
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

    fn ollama_body(&self, req: &ChatRequest, stream: bool) -> Value {
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
                "num_ctx": self.num_ctx,
                "num_predict": req.max_tokens,
                "temperature": req.temperature,
            },
        });
        if let Some(schema) = &req.schema {
            body["format"] = schema.clone();
        }
        body
    }

    fn openai_body(&self, req: &ChatRequest, stream: bool, with_schema: bool) -> Value {
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

    fn use_schema(&self, req: &ChatRequest) -> bool {
        req.schema.is_some() && self.schema_support.load(Ordering::Relaxed) != SCHEMA_REFUSED
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

    /// Runs a completion without streaming.
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatOutcome, LlmError> {
        match self.kind {
            EngineKind::Ollama => {
                let rb = self
                    .request(reqwest::Method::POST, "/api/chat")
                    .json(&self.ollama_body(req, false));
                let resp = self.send(rb).await?;
                let bytes = resp.bytes().await.map_err(|e| self.map_err(e))?;
                let r: OllamaChat = serde_json::from_slice(&bytes).map_err(|e| {
                    LlmError::BadResponse { url: self.shown.clone(), detail: e.to_string() }
                })?;
                if let Some(err) = r.error {
                    return Err(LlmError::Stream { url: self.shown.clone(), message: err });
                }
                let mut out = r.outcome();
                out.content =
                    r.message.as_ref().and_then(|m| m.content.clone()).unwrap_or_default();
                out.structured = req.schema.is_some();
                Ok(out)
            }
            EngineKind::Openai => {
                let with_schema = self.use_schema(req);
                let rb = self
                    .request(reqwest::Method::POST, "/chat/completions")
                    .json(&self.openai_body(req, false, with_schema));
                let resp = match self.send(rb).await {
                    Err(e) if with_schema && Self::refuses_schema(&e) => {
                        tracing::warn!(url = %self.shown, error = %e, "server refused response_format; sending without it");
                        self.schema_support.store(SCHEMA_REFUSED, Ordering::Relaxed);
                        let rb = self
                            .request(reqwest::Method::POST, "/chat/completions")
                            .json(&self.openai_body(req, false, false));
                        self.send(rb).await?
                    }
                    other => other?,
                };
                if with_schema {
                    let _ = self.schema_support.compare_exchange(
                        SCHEMA_UNKNOWN,
                        SCHEMA_ACCEPTED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                }
                let structured = req.schema.is_some() && !self.schema_refused();
                let bytes = resp.bytes().await.map_err(|e| self.map_err(e))?;
                let r: OpenAiChat = serde_json::from_slice(&bytes).map_err(|e| {
                    LlmError::BadResponse { url: self.shown.clone(), detail: e.to_string() }
                })?;
                if let Some(err) = r.error {
                    return Err(LlmError::Stream {
                        url: self.shown.clone(),
                        message: err.message(),
                    });
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
        }
    }

    /// Runs a completion with streaming: answer text as it comes, then [`StreamEvent::Done`].
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
    ) -> Result<BoxStream<'static, Result<StreamEvent, LlmError>>, LlmError> {
        let url = self.shown.clone();
        let timeout = self.timeout;
        match self.kind {
            EngineKind::Ollama => {
                let rb = self
                    .request(reqwest::Method::POST, "/api/chat")
                    .json(&self.ollama_body(req, true));
                let resp = self.send(rb).await?;
                let structured = req.schema.is_some();
                let lines = byte_lines(resp, url.clone(), timeout);
                Ok(ollama_events(lines, url, structured))
            }
            EngineKind::Openai => {
                let with_schema = self.use_schema(req);
                let rb = self
                    .request(reqwest::Method::POST, "/chat/completions")
                    .json(&self.openai_body(req, true, with_schema));
                let resp = match self.send(rb).await {
                    Err(e) if with_schema && Self::refuses_schema(&e) => {
                        self.schema_support.store(SCHEMA_REFUSED, Ordering::Relaxed);
                        let rb = self
                            .request(reqwest::Method::POST, "/chat/completions")
                            .json(&self.openai_body(req, true, false));
                        self.send(rb).await?
                    }
                    other => other?,
                };
                let structured = req.schema.is_some() && !self.schema_refused();
                let lines = byte_lines(resp, url.clone(), timeout);
                Ok(sse_events(lines, url, structured))
            }
        }
    }
}

/// Reads a stream to its end and returns the outcome (what [`Backend::chat`] would return).
pub async fn collect_stream(
    mut stream: BoxStream<'static, Result<StreamEvent, LlmError>>,
) -> Result<ChatOutcome, LlmError> {
    while let Some(ev) = stream.next().await {
        if let StreamEvent::Done(outcome) = ev? {
            return Ok(outcome);
        }
    }
    Err(LlmError::Connection {
        url: String::new(),
        detail: "the stream ended without its final message".into(),
    })
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

fn map_reqwest(url: &str, timeout: Duration, e: reqwest::Error) -> LlmError {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = src {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&s.to_string());
        src = s.source();
    }
    // reqwest puts the URL in its messages; ours carry a credential-free one instead.
    let detail = strip_urls(&chain);
    let lower = detail.to_ascii_lowercase();
    if e.is_timeout() {
        return LlmError::Timeout { url: url.to_string(), seconds: timeout.as_secs().max(1) };
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("ssl")
    {
        return LlmError::Tls { url: url.to_string(), detail };
    }
    if e.is_connect() {
        return LlmError::Unreachable { url: url.to_string(), detail };
    }
    LlmError::Connection { url: url.to_string(), detail }
}

fn strip_urls(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let t = w.trim_matches(|c| c == '(' || c == ')' || c == ',');
            if t.starts_with("http://") || t.starts_with("https://") {
                display_url(t)
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Extracts the message of an error body in any of the documented shapes: Ollama
/// `{"error":"…"}`, OpenAI/vLLM/llama.cpp `{"error":{"message":…}}`, old vLLM
/// `{"object":"error","message":…}`, TGI `{"error":"…","error_type":…}`; else the raw text.
pub fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if let Some(s) = v.get("error").and_then(Value::as_str) {
            return s.to_string();
        }
        if let Some(s) = v.get("error").and_then(|e| e.get("message")).and_then(Value::as_str) {
            return s.to_string();
        }
        if let Some(s) = v.get("message").and_then(Value::as_str) {
            return s.to_string();
        }
        if let Some(s) = v.get("detail").and_then(Value::as_str) {
            return s.to_string();
        }
    }
    let t = body.trim();
    if t.is_empty() { "(no message)".into() } else { t.chars().take(300).collect() }
}

fn from_value<T: serde::de::DeserializeOwned>(url: &str, v: Value) -> Result<T, LlmError> {
    serde_json::from_value(v)
        .map_err(|e| LlmError::BadResponse { url: url.to_string(), detail: e.to_string() })
}

// ---------------------------------------------------------------------------------------------
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
struct OpenAiModels {
    data: Option<Vec<OpenAiModel>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiModel {
    id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OllamaMessage {
    content: Option<String>,
    thinking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OllamaChat {
    message: Option<OllamaMessage>,
    done: Option<bool>,
    done_reason: Option<String>,
    total_duration: Option<u64>,
    prompt_eval_count: Option<u64>,
    prompt_eval_duration: Option<u64>,
    eval_count: Option<u64>,
    eval_duration: Option<u64>,
    error: Option<String>,
}

impl OllamaChat {
    fn outcome(&self) -> ChatOutcome {
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiMessage {
    content: Option<String>,
    reasoning_content: Option<String>,
    reasoning: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiChoice {
    message: Option<OpenAiMessage>,
    delta: Option<OpenAiMessage>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OpenAiUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LlamaTimings {
    prompt_ms: Option<f64>,
    predicted_ms: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OpenAiErrorField {
    Text(String),
    Object {
        #[serde(default)]
        message: Option<String>,
    },
}

impl OpenAiErrorField {
    fn message(&self) -> String {
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
struct OpenAiChat {
    choices: Option<Vec<OpenAiChoice>>,
    usage: Option<OpenAiUsage>,
    timings: Option<LlamaTimings>,
    error: Option<OpenAiErrorField>,
}

fn apply_usage(out: &mut ChatOutcome, usage: Option<&OpenAiUsage>, timings: Option<&LlamaTimings>) {
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

// ---------------------------------------------------------------------------------------------
// Streaming.

/// Splits a response body into lines (without the line break).
fn byte_lines(
    resp: reqwest::Response,
    url: String,
    timeout: Duration,
) -> BoxStream<'static, Result<String, LlmError>> {
    struct St {
        body: BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>,
        buf: Vec<u8>,
        done: bool,
    }
    let st = St { body: resp.bytes_stream().boxed(), buf: Vec::new(), done: false };
    futures::stream::unfold(st, move |mut st| {
        let url = url.clone();
        async move {
            loop {
                if let Some(pos) = st.buf.iter().position(|b| *b == b'\n') {
                    let mut line: Vec<u8> = st.buf.drain(..=pos).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Some((Ok(String::from_utf8_lossy(&line).into_owned()), st));
                }
                if st.done {
                    if st.buf.is_empty() {
                        return None;
                    }
                    let line = String::from_utf8_lossy(&std::mem::take(&mut st.buf)).into_owned();
                    return Some((Ok(line), st));
                }
                match st.body.next().await {
                    Some(Ok(chunk)) => st.buf.extend_from_slice(&chunk),
                    Some(Err(e)) => {
                        st.done = true;
                        st.buf.clear();
                        return Some((Err(map_reqwest(&url, timeout, e)), st));
                    }
                    None => st.done = true,
                }
            }
        }
    })
    .boxed()
}

fn ollama_events(
    lines: BoxStream<'static, Result<String, LlmError>>,
    url: String,
    structured: bool,
) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
    let mut content = String::new();
    let mut thinking = String::new();
    let mut finished = false;
    lines
        .filter_map(move |line| {
            let out: Option<Vec<Result<StreamEvent, LlmError>>> = (|| {
                if finished {
                    return None;
                }
                let line = match line {
                    Ok(l) => l,
                    Err(e) => {
                        finished = true;
                        return Some(vec![Err(e)]);
                    }
                };
                if line.trim().is_empty() {
                    return None;
                }
                let r: OllamaChat = match serde_json::from_str(&line) {
                    Ok(r) => r,
                    Err(e) => {
                        finished = true;
                        return Some(vec![Err(LlmError::BadResponse {
                            url: url.clone(),
                            detail: format!("stream line: {e}"),
                        })]);
                    }
                };
                if let Some(err) = r.error.clone() {
                    finished = true;
                    return Some(vec![Err(LlmError::Stream { url: url.clone(), message: err })]);
                }
                let mut evs = Vec::new();
                if let Some(m) = &r.message {
                    if let Some(t) = m.thinking.as_ref().filter(|t| !t.is_empty()) {
                        thinking.push_str(t);
                        evs.push(Ok(StreamEvent::Thinking(t.clone())));
                    }
                    if let Some(c) = m.content.as_ref().filter(|c| !c.is_empty()) {
                        content.push_str(c);
                        evs.push(Ok(StreamEvent::Delta(c.clone())));
                    }
                }
                if r.done == Some(true) {
                    finished = true;
                    let mut out = r.outcome();
                    out.content = std::mem::take(&mut content);
                    out.thinking = Some(std::mem::take(&mut thinking)).filter(|t| !t.is_empty());
                    out.structured = structured;
                    evs.push(Ok(StreamEvent::Done(out)));
                }
                Some(evs)
            })();
            futures::future::ready(out)
        })
        .flat_map(futures::stream::iter)
        .boxed()
}

fn sse_events(
    lines: BoxStream<'static, Result<String, LlmError>>,
    url: String,
    structured: bool,
) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
    let mut out = ChatOutcome { structured, ..ChatOutcome::default() };
    let mut thinking = String::new();
    let mut finished = false;
    let events = lines.filter_map(move |line| {
        let res: Option<Vec<Result<StreamEvent, LlmError>>> = (|| {
            if finished {
                return None;
            }
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    finished = true;
                    return Some(vec![Err(e)]);
                }
            };
            let data = line.strip_prefix("data:")?.trim_start();
            if data == "[DONE]" {
                finished = true;
                let mut done = std::mem::take(&mut out);
                done.thinking = Some(std::mem::take(&mut thinking)).filter(|t| !t.is_empty());
                return Some(vec![Ok(StreamEvent::Done(done))]);
            }
            let chunk: OpenAiChat = match serde_json::from_str(data) {
                Ok(c) => c,
                Err(e) => {
                    finished = true;
                    return Some(vec![Err(LlmError::BadResponse {
                        url: url.clone(),
                        detail: format!("stream event: {e}"),
                    })]);
                }
            };
            if let Some(err) = &chunk.error {
                finished = true;
                return Some(vec![Err(LlmError::Stream {
                    url: url.clone(),
                    message: err.message(),
                })]);
            }
            let mut evs = Vec::new();
            for choice in chunk.choices.as_deref().unwrap_or_default() {
                if let Some(d) = &choice.delta {
                    if let Some(t) = d
                        .reasoning_content
                        .as_ref()
                        .or(d.reasoning.as_ref())
                        .filter(|t| !t.is_empty())
                    {
                        thinking.push_str(t);
                        evs.push(Ok(StreamEvent::Thinking(t.clone())));
                    }
                    if let Some(c) = d.content.as_ref().filter(|c| !c.is_empty()) {
                        out.content.push_str(c);
                        evs.push(Ok(StreamEvent::Delta(c.clone())));
                    }
                }
                if choice.finish_reason.is_some() {
                    out.finish = Finish::parse(choice.finish_reason.as_deref());
                }
            }
            apply_usage(&mut out, chunk.usage.as_ref(), chunk.timings.as_ref());
            Some(evs)
        })();
        futures::future::ready(res)
    });
    events.flat_map(futures::stream::iter).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_server_are_read() {
        assert_eq!(error_message(r#"{"error":"model 'x' not found"}"#), "model 'x' not found");
        assert_eq!(
            error_message(
                r#"{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}}"#
            ),
            "The model `x` does not exist."
        );
        assert_eq!(
            error_message(
                r#"{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}"#
            ),
            "bad"
        );
        assert_eq!(
            error_message(r#"{"error":"Model is overloaded","error_type":"overloaded"}"#),
            "Model is overloaded"
        );
        assert_eq!(error_message("<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>");
        assert_eq!(error_message(""), "(no message)");
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(Finish::parse(Some("stop")), Finish::Stop);
        assert_eq!(Finish::parse(Some("length")), Finish::Length);
        assert_eq!(Finish::parse(None), Finish::Unknown);
        assert_eq!(Finish::parse(Some("load")), Finish::Other("load".into()));
    }
}
