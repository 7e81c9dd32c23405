//! HTTP backends: Ollama's native API and OpenAI-compatible servers.
//!
//! One [`Backend`] is one server. It speaks either dialect (exact shapes in
//! `shared/docs/llm-servers.md` §1 and §4), both streaming (NDJSON / SSE) or not. This module
//! holds what both share: the request and answer types, the HTTP client, authentication, and
//! the mapping of transport failures and error bodies to [`LlmError`]s (with every URL passed
//! through [`tradia_core::redact_url`], so no credential reaches a message). The dialects live
//! in `ollama` and `openai`, the streamed answers in `stream`. Every response field is
//! optional on purpose: typed SDKs break on "compatible" servers that omit fields
//! (dependencies.md §15).

mod ollama;
mod openai;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tradia_core::redact_url;

pub use stream::collect_stream;

use crate::error::LlmError;
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
    repeat_penalty: f32,
    frequency_penalty: f32,
    timeout: Duration,
    schema: Arc<openai::SchemaSupport>,
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
            detail: redact_urls_in(&format!("invalid proxy setting: {e}")),
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
            shown: redact_url(&server.base_url),
            client,
            api_key: server.api_key.clone(),
            auth: server.auth,
            num_ctx: settings.num_ctx,
            repeat_penalty: settings.repeat_penalty,
            frequency_penalty: settings.frequency_penalty,
            timeout: settings.timeout,
            schema: Arc::default(),
        }
    }

    /// The server's URL as it may be shown (credentials masked by [`redact_url`]).
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The dialect it speaks.
    pub fn kind(&self) -> EngineKind {
        self.kind
    }

    /// True once an OpenAI-style server refused `response_format` (answers are then unconstrained).
    pub fn schema_refused(&self) -> bool {
        self.schema.refused()
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_url(method, &self.endpoint(path))
    }

    /// A request to any URL of the server, with its credentials.
    fn request_url(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let rb = self.client.request(method, url);
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

    /// Reads a whole JSON answer of the request to `path` into `T`.
    async fn read_json<T: DeserializeOwned>(
        &self,
        resp: reqwest::Response,
        path: &str,
    ) -> Result<T, LlmError> {
        let bytes = resp.bytes().await.map_err(|e| self.map_err(e))?;
        serde_json::from_slice(&bytes).map_err(|e| LlmError::BadResponse {
            url: self.shown.clone(),
            detail: format!("{path}: {e}"),
        })
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, LlmError> {
        let resp = self.send(self.request(reqwest::Method::GET, path)).await?;
        self.read_json(resp, path).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<reqwest::Response, LlmError> {
        self.send(self.request(reqwest::Method::POST, path).json(body)).await
    }

    /// The context per slot a request may use: llama-server's `/props` or `/v1/models` `meta`;
    /// on Ollama the `num_ctx` Tradia sends, bounded by the model's trained context
    /// (`/api/show`). `None` when the server does not say (the configured size applies).
    pub async fn context_size(&self, model: &str) -> Result<Option<u32>, LlmError> {
        match self.kind {
            EngineKind::Ollama => {
                let trained = self.show(model).await?.context_length;
                let trained = trained.map_or(u32::MAX, |t| u32::try_from(t).unwrap_or(u32::MAX));
                Ok(Some(self.num_ctx.min(trained)))
            }
            EngineKind::Openai => openai::context_size(self, model).await,
        }
    }

    /// The models the server offers (`/api/tags` or `/v1/models`).
    pub async fn models(&self) -> Result<Vec<ModelInfo>, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::models(self).await,
            EngineKind::Openai => openai::models(self).await,
        }
    }

    /// The server's version (Ollama `/api/version`; `None` for OpenAI-style servers).
    pub async fn version(&self) -> Result<Option<String>, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::version(self).await,
            EngineKind::Openai => Ok(None),
        }
    }

    /// llama-server's build (`build_info` of its `/props`; `None` for Ollama and for
    /// OpenAI-style servers without that route). Tells the simulator's llama.cpp flavour.
    pub async fn build_info(&self) -> Option<String> {
        match self.kind {
            EngineKind::Ollama => None,
            EngineKind::Openai => openai::build_info(self).await,
        }
    }

    /// Models loaded in memory (Ollama `/api/ps`; empty for OpenAI-style servers).
    pub async fn running(&self) -> Result<Vec<RunningModel>, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::running(self).await,
            EngineKind::Openai => Ok(Vec::new()),
        }
    }

    /// What Ollama's `/api/show` says about `model` (trained context, capabilities; nothing for
    /// OpenAI-style servers).
    pub async fn show(&self, model: &str) -> Result<ModelDetails, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::show(self, model).await,
            EngineKind::Openai => Ok(ModelDetails::default()),
        }
    }

    /// Runs a completion without streaming.
    pub async fn chat(&self, req: &ChatRequest) -> Result<ChatOutcome, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::chat(self, req).await,
            EngineKind::Openai => openai::chat(self, req).await,
        }
    }

    /// Runs a completion with streaming: answer text as it comes, then [`StreamEvent::Done`].
    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
    ) -> Result<BoxStream<'static, Result<StreamEvent, LlmError>>, LlmError> {
        match self.kind {
            EngineKind::Ollama => ollama::chat_stream(self, req).await,
            EngineKind::Openai => openai::chat_stream(self, req).await,
        }
    }
}

fn map_reqwest(url: &str, timeout: Duration, e: reqwest::Error) -> LlmError {
    // reqwest puts the URL (with its credentials) in its messages; ours carry a redacted one.
    let e = e.without_url();
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = src {
        if !chain.is_empty() {
            chain.push_str(": ");
        }
        chain.push_str(&s.to_string());
        src = s.source();
    }
    let detail = redact_urls_in(&chain);
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

/// `text` with every `http(s)://` URL in it passed through [`redact_url`] (a URL in a server's
/// error body or in a lower layer's message may carry credentials too).
fn redact_urls_in(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let url = word.trim_matches(|c| matches!(c, '(' | ')' | ',' | '"' | '\'' | '<' | '>'));
            if url.starts_with("http://") || url.starts_with("https://") {
                word.replace(url, &redact_url(url))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Extracts the message of an error body in any of the documented shapes: Ollama
/// `{"error":"…"}`, OpenAI/vLLM/llama.cpp `{"error":{"message":…}}`, old vLLM
/// `{"object":"error","message":…}`, TGI `{"error":"…","error_type":…}`; else the raw text. Any URL
/// in it is redacted.
pub fn error_message(body: &str) -> String {
    redact_urls_in(&raw_error_message(body))
}

fn raw_error_message(body: &str) -> String {
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
    fn urls_in_messages_are_redacted() {
        assert_eq!(
            error_message("upstream http://u:pw@gpu:11434/api/chat (refused), retry"),
            "upstream http://u:***@gpu:11434/api/chat (refused), retry"
        );
        assert_eq!(
            redact_urls_in("for url (https://h/v1?api_key=abc&x=1)"),
            "for url (https://h/v1?api_key=***&x=1)"
        );
        assert_eq!(redact_urls_in("see https://docs.example/x"), "see https://docs.example/x");
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(Finish::parse(Some("stop")), Finish::Stop);
        assert_eq!(Finish::parse(Some("length")), Finish::Length);
        assert_eq!(Finish::parse(None), Finish::Unknown);
        assert_eq!(Finish::parse(Some("load")), Finish::Other("load".into()));
    }
}
