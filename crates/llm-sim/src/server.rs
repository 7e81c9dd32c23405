//! HTTP layer: the Ollama native API and the OpenAI-compatible API on one port, with the exact
//! shapes and error bodies of `llm-servers.md` §1 and §4, authentication, and the `/sim`
//! control endpoints. Connections are served by a hand-written accept loop so that the `reset`
//! fault can close a connection without any response.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use futures::StreamExt;
use rand::Rng;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::answer::{self, Structured};
use crate::config::{ConfigError, DEFAULT_MODEL, FaultKind, SimConfig};
use crate::engine::{Event, InFlight, Job, Sim, SimStats, Timings, fnv1a};

/// Version reported by `GET /api/version`.
pub const OLLAMA_VERSION: &str = "0.12.6";

/// Exact Ollama 503 message (two spaces after the period, as in `server/sched.go`).
pub const MSG_QUEUE_FULL: &str =
    "server busy, please try again.  maximum pending requests exceeded";
/// Message of the simulated 500 (a crashed runner).
pub const MSG_RUNNER_DIED: &str = "llama runner process has terminated: exit status 2";
/// Message of the simulated 429 (a rate-limiting proxy or cloud).
pub const MSG_RATE_LIMIT: &str = "too many requests";
/// Message of a 401.
pub const MSG_UNAUTHORIZED: &str = "unauthorized";
/// Message when the prompt exceeds the context.
pub const MSG_CONTEXT: &str = "the input length exceeds the context length";

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Invalid configuration.
    #[error("invalid simulator configuration: {0}")]
    Config(ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause (in the message, so not repeated as an error source).
        error: std::io::Error,
    },
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    sim: Arc<Sim>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Current statistics.
    pub fn stats(&self) -> SimStats {
        self.sim.stats()
    }

    /// Zeroes the statistics (as `POST /sim/reset`).
    pub fn reset_stats(&self) {
        self.sim.reset();
    }

    /// Stops accepting, closes every connection and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

/// Closes the current connection without a response (the `reset` fault).
#[derive(Clone)]
struct ConnKill(Arc<Notify>);

/// Binds and starts serving in the background.
pub async fn start(config: SimConfig) -> Result<SimHandle, StartError> {
    config.validate()?;
    let addr = SocketAddr::new(config.host, config.port);
    let listener =
        TcpListener::bind(addr).await.map_err(|error| StartError::Bind { addr, error })?;
    let addr = listener.local_addr().map_err(|error| StartError::Bind { addr, error })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let sim = Arc::new(Sim::new(config, shutdown_rx.clone()));
    let app = router(Arc::clone(&sim));
    let task = tokio::spawn(accept_loop(listener, app, shutdown_rx));
    Ok(SimHandle { addr, sim, shutdown_tx, task: Some(task) })
}

async fn accept_loop(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors and the like: back off briefly and keep serving.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                conns.spawn(serve_connection(stream, app));
            }
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router) {
    let kill = Arc::new(Notify::new());
    let k = Arc::clone(&kill);
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnKill(Arc::clone(&k)));
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            app.oneshot(req.map(Body::new)).await
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        () = kill.notified() => {}
    }
}

fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/api/chat", post(ollama_chat))
        .route("/api/generate", post(ollama_generate))
        .route("/api/tags", get(ollama_tags))
        .route("/api/version", get(ollama_version))
        .route("/api/ps", get(ollama_ps))
        .route("/api/show", post(ollama_show))
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/models", get(openai_models))
        .route("/v1/models/{model}", get(openai_model))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&sim), auth));
    Router::new()
        .route("/", get(|| async { "Ollama is running" }).head(|| async { "" }))
        .route("/sim/stats", get(sim_stats))
        .route("/sim/reset", post(sim_reset))
        .merge(api)
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found") })
        .with_state(sim)
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Ollama,
    OpenAi,
}

fn error(dialect: Dialect, status: StatusCode, message: &str) -> Response {
    let body = match dialect {
        Dialect::Ollama => json!({ "error": message }),
        Dialect::OpenAi => {
            let ty = match status.as_u16() {
                400 => "invalid_request_error",
                401 => "authentication_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                _ => "api_error",
            };
            json!({ "error": { "message": message, "type": ty, "param": null, "code": null } })
        }
    };
    (status, axum::Json(body)).into_response()
}

fn sim_error(sim: &Sim, dialect: Dialect, status: StatusCode, message: &str) -> Response {
    sim.record_error(status.as_u16());
    error(dialect, status, message)
}

fn not_found_model(model: &str) -> String {
    format!("model '{model}' not found")
}

// ---------------------------------------------------------------------------------------------
// Authentication

async fn auth(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    if let Some(key) = &sim.config.api_key
        && !authorized(req.headers(), key)
    {
        let dialect =
            if req.uri().path().starts_with("/v1") { Dialect::OpenAi } else { Dialect::Ollama };
        let mut resp = sim_error(&sim, dialect, StatusCode::UNAUTHORIZED, MSG_UNAUTHORIZED);
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ollama\""));
        return resp;
    }
    next.run(req).await
}

/// Accepts `Authorization: Bearer K`, `Authorization: Basic base64(user:K)` (any user name,
/// `api` by convention) and `X-API-Key: K`.
fn authorized(headers: &HeaderMap, key: &str) -> bool {
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(key) {
        return true;
    }
    let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (scheme, value) = auth.split_once(' ').unwrap_or((auth, ""));
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return value == key;
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value) else {
            return false;
        };
        let Ok(decoded) = String::from_utf8(decoded) else { return false };
        return decoded.split_once(':').is_some_and(|(_, pass)| pass == key);
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Model information

fn model_names(sim: &Sim) -> Vec<String> {
    sim.config.models.clone().unwrap_or_else(|| vec![DEFAULT_MODEL.to_string()])
}

fn thinking_capable(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    ["qwen3", "deepseek-r1", "gpt-oss", "magistral", "think"].iter().any(|k| m.contains(k))
}

fn digest(model: &str) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325;
    let mut out = String::new();
    for i in 0u8..4 {
        h = fnv1a(model.as_bytes(), h ^ u64::from(i));
        out.push_str(&format!("{h:016x}"));
    }
    out
}

const MODEL_SIZE: u64 = 15_032_385_536;
const MODIFIED_AT: &str = "2025-07-01T10:00:00.000000000Z";

fn details() -> Value {
    json!({
        "parent_model": "",
        "format": "gguf",
        "family": "mistral3",
        "families": ["mistral3"],
        "parameter_size": "24.0B",
        "quantization_level": "Q4_K_M"
    })
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn ollama_version() -> Response {
    axum::Json(json!({ "version": OLLAMA_VERSION })).into_response()
}

async fn ollama_tags(State(sim): State<Arc<Sim>>) -> Response {
    let models: Vec<Value> = model_names(&sim)
        .into_iter()
        .map(|m| {
            json!({"name": m, "model": m, "modified_at": MODIFIED_AT, "size": MODEL_SIZE,
                   "digest": digest(&m), "details": details()})
        })
        .collect();
    axum::Json(json!({ "models": models })).into_response()
}

async fn ollama_ps(State(sim): State<Arc<Sim>>) -> Response {
    let expires = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let expires =
        expires.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let models: Vec<Value> = sim
        .loaded_models()
        .await
        .into_iter()
        .map(|(m, ctx)| {
            json!({"name": m, "model": m, "size": MODEL_SIZE, "digest": digest(&m),
                   "details": details(), "expires_at": expires, "size_vram": MODEL_SIZE,
                   "context_length": ctx})
        })
        .collect();
    axum::Json(json!({ "models": models })).into_response()
}

async fn ollama_show(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(msg) => return sim_error(&sim, Dialect::Ollama, StatusCode::BAD_REQUEST, &msg),
    };
    let model = v.get("model").or_else(|| v.get("name")).and_then(Value::as_str).unwrap_or("");
    if model.is_empty() {
        return sim_error(&sim, Dialect::Ollama, StatusCode::BAD_REQUEST, "model is required");
    }
    if !sim.config.knows_model(model) {
        return sim_error(&sim, Dialect::Ollama, StatusCode::NOT_FOUND, &not_found_model(model));
    }
    let mut caps = vec!["completion", "vision"];
    if thinking_capable(model) {
        caps.push("thinking");
    }
    let ctx = sim.config.latency.default_num_ctx;
    axum::Json(json!({
        "modelfile": format!("# Modelfile generated by tradia-llm-sim\nFROM {model}\nPARAMETER num_ctx {ctx}\n"),
        "parameters": format!("num_ctx                        {ctx}"),
        "template": "{{ .Prompt }}",
        "details": details(),
        "model_info": {
            "general.architecture": "llama",
            "general.parameter_count": 23_572_403_200_u64,
            "llama.context_length": 131_072,
            "llama.embedding_length": 5120,
            "llama.block_count": 40
        },
        "capabilities": caps,
        "modified_at": MODIFIED_AT
    }))
    .into_response()
}

async fn openai_models(State(sim): State<Arc<Sim>>) -> Response {
    let data: Vec<Value> = model_names(&sim)
        .into_iter()
        .map(|m| json!({"id": m, "object": "model", "created": 1_751_364_000, "owned_by": "library"}))
        .collect();
    axum::Json(json!({ "object": "list", "data": data })).into_response()
}

async fn openai_model(State(sim): State<Arc<Sim>>, Path(model): Path<String>) -> Response {
    if !sim.config.knows_model(&model) {
        return sim_error(&sim, Dialect::OpenAi, StatusCode::NOT_FOUND, &not_found_model(&model));
    }
    axum::Json(
        json!({"id": model, "object": "model", "created": 1_751_364_000, "owned_by": "library"}),
    )
    .into_response()
}

async fn sim_stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.stats()).into_response()
}

async fn sim_reset(State(sim): State<Arc<Sim>>) -> Response {
    sim.reset();
    axum::Json(json!({ "reset": true })).into_response()
}

// ---------------------------------------------------------------------------------------------
// Generation requests

#[derive(Clone, Copy, PartialEq)]
enum Api {
    Chat,
    Generate,
    OpenAi,
}

impl Api {
    fn dialect(self) -> Dialect {
        if self == Api::OpenAi { Dialect::OpenAi } else { Dialect::Ollama }
    }
}

/// What a generation request asks, whatever its API.
struct Ask {
    model: String,
    stream: bool,
    include_usage: bool,
    structured: Structured,
    think: Option<bool>,
    num_ctx: u32,
    max_tokens: Option<u64>,
    prompt_text: String,
    prompt_tokens: u32,
    user_text: String,
    /// Ollama load/unload request (empty prompt or no messages).
    load: Option<bool>,
    raw: bool,
}

fn parse_body(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err("missing request body".to_string());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if v.is_object() { Ok(v) } else { Err("request body must be a JSON object".to_string()) }
}

/// Text of a message `content`: a string, or OpenAI content parts (text parts joined).
fn content_text(content: Option<&Value>) -> (String, u32) {
    match content {
        Some(Value::String(s)) => (s.clone(), 0),
        Some(Value::Array(parts)) => {
            let mut text = Vec::new();
            let mut images = 0;
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        text.push(p.get("text").and_then(Value::as_str).unwrap_or("").to_string())
                    }
                    Some("image_url") => images += 1,
                    _ => {}
                }
            }
            (text.join("\n"), images)
        }
        _ => (String::new(), 0),
    }
}

fn count_images(v: &Value) -> u32 {
    v.get("images")
        .and_then(Value::as_array)
        .map_or(0, |a| u32::try_from(a.len()).unwrap_or(u32::MAX))
}

fn read_think(v: &Value) -> Option<bool> {
    match v.get("think") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => Some(!s.is_empty() && s != "none"),
        _ => None,
    }
}

fn read_ask(sim: &Sim, api: Api, v: &Value) -> Result<Ask, Box<Response>> {
    let dialect = api.dialect();
    let lat = &sim.config.latency;
    let model = v.get("model").and_then(Value::as_str).unwrap_or("").to_string();
    if model.is_empty() {
        return Err(Box::new(sim_error(
            sim,
            dialect,
            StatusCode::BAD_REQUEST,
            "model is required",
        )));
    }
    if !sim.config.knows_model(&model) {
        return Err(Box::new(sim_error(
            sim,
            dialect,
            StatusCode::NOT_FOUND,
            &not_found_model(&model),
        )));
    }
    let options = v.get("options");
    let num_ctx = options
        .and_then(|o| o.get("num_ctx"))
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .map_or(lat.default_num_ctx, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let stream_default = api != Api::OpenAi;
    let stream = v.get("stream").and_then(Value::as_bool).unwrap_or(stream_default);
    let mut prompt_text = String::new();
    let mut prompt_tokens: u32 = 0;
    let mut user_text = String::new();
    let mut add = |role: &str, text: &str, images: u32, prompt_text: &mut String| {
        prompt_text.push_str(role);
        prompt_text.push('\n');
        prompt_text.push_str(text);
        prompt_text.push('\n');
        prompt_tokens = prompt_tokens
            .saturating_add(answer::count_tokens(text))
            .saturating_add(lat.template_tokens_per_message)
            .saturating_add(images.saturating_mul(lat.tokens_per_image));
    };
    let (structured, think, max_tokens, include_usage, load, raw);
    match api {
        Api::Chat | Api::OpenAi => {
            let messages = v.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
            for m in &messages {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
                let (text, parts_images) = content_text(m.get("content"));
                add(role, &text, parts_images + count_images(m), &mut prompt_text);
                if role == "user" {
                    user_text = text;
                }
            }
            if api == Api::Chat {
                structured = Structured::from_ollama_format(v.get("format"));
                think = read_think(v);
                max_tokens = options.and_then(|o| o.get("num_predict")).and_then(Value::as_i64);
                include_usage = false;
                load = messages.is_empty().then(|| keep_alive_zero(v));
            } else {
                structured = Structured::from_openai_response_format(v.get("response_format"));
                let effort = v
                    .get("reasoning_effort")
                    .or_else(|| v.get("reasoning").and_then(|r| r.get("effort")))
                    .and_then(Value::as_str);
                think = effort.map(|e| e != "none");
                max_tokens = v
                    .get("max_completion_tokens")
                    .or_else(|| v.get("max_tokens"))
                    .and_then(Value::as_i64);
                include_usage = v
                    .get("stream_options")
                    .and_then(|o| o.get("include_usage"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                load = None;
            }
            raw = false;
        }
        Api::Generate => {
            let system = v.get("system").and_then(Value::as_str).unwrap_or("");
            let prompt = v.get("prompt").and_then(Value::as_str).unwrap_or("");
            if !system.is_empty() {
                add("system", system, 0, &mut prompt_text);
            }
            add("user", prompt, count_images(v), &mut prompt_text);
            user_text = prompt.to_string();
            structured = Structured::from_ollama_format(v.get("format"));
            think = read_think(v);
            max_tokens = options.and_then(|o| o.get("num_predict")).and_then(Value::as_i64);
            include_usage = false;
            load = prompt.is_empty().then(|| keep_alive_zero(v));
            raw = v.get("raw").and_then(Value::as_bool).unwrap_or(false);
        }
    }
    if think == Some(true) && !thinking_capable(&model) {
        let msg = format!("\"{model}\" does not support thinking");
        return Err(Box::new(sim_error(sim, dialect, StatusCode::BAD_REQUEST, &msg)));
    }
    Ok(Ask {
        model,
        stream,
        include_usage,
        structured,
        think,
        num_ctx,
        max_tokens: max_tokens.and_then(|n| u64::try_from(n).ok()).filter(|n| *n > 0),
        prompt_text,
        prompt_tokens,
        user_text,
        load,
        raw,
    })
}

fn keep_alive_zero(v: &Value) -> bool {
    match v.get("keep_alive") {
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => matches!(s.trim(), "0" | "0s" | "0m" | "0h"),
        _ => false,
    }
}

async fn ollama_chat(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::Chat, req).await
}

async fn ollama_generate(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::Generate, req).await
}

async fn openai_chat(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::OpenAi, req).await
}

async fn generation(sim: Arc<Sim>, api: Api, req: Request) -> Response {
    let arrival = Instant::now();
    let in_flight = sim.arrive();
    let kill = req.extensions().get::<ConnKill>().cloned();
    let dialect = api.dialect();
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return sim_error(&sim, dialect, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let v = match parse_body(&body) {
        Ok(v) => v,
        Err(msg) => return sim_error(&sim, dialect, StatusCode::BAD_REQUEST, &msg),
    };
    let ask = match read_ask(&sim, api, &v) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };

    // Ollama's pending queue (`OLLAMA_MAX_QUEUE`): beyond it, 503 with the exact message.
    if sim.waiting() > sim.config.max_queue {
        return sim_error(&sim, dialect, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL);
    }

    if let Some(unload) = ask.load {
        return load_request(&sim, api, &ask, unload).await;
    }

    let mut rng = sim.request_rng(&body);
    let drawn = sim.draw_faults(&mut rng);
    // Transport-level faults first: they replace the answer.
    if drawn.contains(&FaultKind::Reset) {
        sim.record_faults(&[FaultKind::Reset]);
        if let Some(ConnKill(k)) = kill {
            k.notify_one();
            std::future::pending::<()>().await;
        }
        return sim_error(&sim, dialect, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED);
    }
    if drawn.contains(&FaultKind::Timeout) {
        sim.record_faults(&[FaultKind::Timeout]);
        let mut shutdown = sim.shutdown.clone();
        let hang = Duration::try_from_secs_f64(sim.config.hang_real_s)
            .unwrap_or(Duration::from_secs(86_400));
        tokio::select! {
            () = tokio::time::sleep(hang) => {}
            _ = shutdown.changed() => {}
        }
        if let Some(ConnKill(k)) = kill {
            k.notify_one();
            std::future::pending::<()>().await;
        }
        return sim_error(&sim, dialect, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED);
    }
    for (kind, status, msg) in [
        (FaultKind::Http503, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL),
        (FaultKind::Http500, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED),
        (FaultKind::Http429, StatusCode::TOO_MANY_REQUESTS, MSG_RATE_LIMIT),
    ] {
        if drawn.contains(&kind) {
            sim.record_faults(&[kind]);
            return sim_error(&sim, dialect, status, msg);
        }
    }

    let composed = answer::compose(&ask.user_text, &ask.structured, &drawn, &mut rng);
    if let Some(sources) = &composed.batch_sources {
        sim.record_segments(sources);
    }
    if ask.prompt_tokens > ask.num_ctx {
        return sim_error(&sim, dialect, StatusCode::BAD_REQUEST, MSG_CONTEXT);
    }
    let mut applied = composed.applied.clone();
    let slow = drawn.contains(&FaultKind::SlowStream);
    if slow {
        applied.push(FaultKind::SlowStream);
    }
    sim.record_faults(&applied);

    // Output tokens: thinking trace (if the model thinks), then the content.
    let thinks = ask.think.unwrap_or_else(|| thinking_capable(&ask.model));
    let mut tokens: Vec<(bool, String)> = Vec::new();
    if thinks {
        let (lo, hi) = sim.config.latency.think_tokens;
        let n = if hi > lo { rng.random_range(lo..=hi) } else { lo };
        let trace = answer::thinking_trace(&ask.user_text, n);
        tokens.extend(answer::tokenize(&trace).into_iter().map(|t| (true, t.to_string())));
    }
    let content_tokens = answer::tokenize(&composed.content);
    let content_len = content_tokens.len();
    let keep = if composed.truncate { content_len / 2 } else { content_len };
    tokens.extend(content_tokens.into_iter().take(keep).map(|t| (false, t.to_string())));
    let mut done_reason = if composed.truncate { "length" } else { "stop" };
    if let Some(max) = ask.max_tokens {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        if tokens.len() > max {
            tokens.truncate(max);
            done_reason = "length";
        }
    }

    let job = Job {
        model: ask.model.clone(),
        num_ctx: ask.num_ctx,
        prompt_text: ask.prompt_text.clone(),
        prompt_tokens: ask.prompt_tokens,
        tokens,
        done_reason,
        slow,
        arrival,
    };
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(Arc::clone(&sim).run_job(job, tx));

    // Like Ollama, nothing is sent before decoding starts (queue, load and prefill included).
    let mut first = rx.recv().await;
    let started = match first {
        Some(Event::Started(ref s)) => {
            let s = s.clone();
            first = None;
            Some(s)
        }
        None => return sim_error(&sim, dialect, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL),
        _ => None,
    };
    let meta = Meta {
        model: ask.model.clone(),
        id: format!("chatcmpl-{}", sim.next_request_number()),
        created: unix_now(),
        include_usage: ask.include_usage,
        raw: ask.raw,
    };
    let mut resp = if ask.stream {
        stream_response(api, meta, first, rx, in_flight)
    } else {
        let mut content = String::new();
        let mut thinking = String::new();
        let mut event = match first {
            Some(ev) => Some(ev),
            None => rx.recv().await,
        };
        let mut done = None;
        while let Some(ev) = event {
            match ev {
                Event::Token { thinking: true, text } => thinking.push_str(&text),
                Event::Token { thinking: false, text } => content.push_str(&text),
                Event::Started(_) => {}
                Event::Done(t) => {
                    done = Some(full_response(api, &meta, &content, &thinking, &t));
                    break;
                }
            }
            event = rx.recv().await;
        }
        match done {
            Some(r) => r,
            None => {
                return sim_error(
                    &sim,
                    dialect,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    MSG_RUNNER_DIED,
                );
            }
        }
    };
    if let Some(st) = started {
        let h = resp.headers_mut();
        let ms = |s: f64| HeaderValue::from(to_ms(s));
        h.insert("x-sim-load-ms", ms(st.load_s));
        h.insert("x-sim-queue-ms", ms(st.queue_s));
        h.insert("x-sim-prefill-ms", ms(st.prefill_s));
        h.insert("x-sim-cached-tokens", HeaderValue::from(st.cached_tokens));
        h.insert("x-sim-slot", HeaderValue::from(st.slot));
    }
    resp
}

fn to_ms(sim_s: f64) -> u64 {
    // Saturating float-to-int conversion is the intent.
    (sim_s * 1000.0).round().max(0.0) as u64
}

async fn load_request(sim: &Sim, api: Api, ask: &Ask, unload: bool) -> Response {
    let reason = if unload {
        sim.unload(&ask.model).await;
        "unload"
    } else {
        sim.ensure_loaded(&ask.model, ask.num_ctx).await;
        "load"
    };
    let mut body = json!({ "model": ask.model, "created_at": now_rfc3339() });
    if api == Api::Chat {
        body["message"] = json!({ "role": "assistant", "content": "" });
    } else {
        body["response"] = json!("");
    }
    body["done_reason"] = json!(reason);
    body["done"] = json!(true);
    axum::Json(body).into_response()
}

struct Meta {
    model: String,
    id: String,
    created: u64,
    include_usage: bool,
    raw: bool,
}

fn insert_metrics(obj: &mut Map<String, Value>, t: &Timings) {
    // Metric fields are `omitempty` in Ollama: absent when 0.
    for (name, value) in [
        ("total_duration", t.total_ns),
        ("load_duration", t.load_ns),
        ("prompt_eval_count", u64::from(t.prompt_eval_count)),
        ("prompt_eval_duration", t.prompt_eval_ns),
        ("eval_count", u64::from(t.eval_count)),
        ("eval_duration", t.eval_ns),
    ] {
        if value != 0 {
            obj.insert(name.to_string(), json!(value));
        }
    }
}

fn fake_context(t: &Timings) -> Value {
    let n = (t.prompt_eval_count + t.eval_count).min(4096);
    Value::Array((0..n).map(|i| json!(1000 + i % 30000)).collect())
}

fn ollama_final(api: Api, meta: &Meta, content: &str, thinking: &str, t: &Timings) -> Value {
    let mut obj = Map::new();
    obj.insert("model".into(), json!(meta.model));
    obj.insert("created_at".into(), json!(now_rfc3339()));
    if api == Api::Chat {
        let mut msg = json!({ "role": "assistant", "content": content });
        if !thinking.is_empty() {
            msg["thinking"] = json!(thinking);
        }
        obj.insert("message".into(), msg);
    } else {
        obj.insert("response".into(), json!(content));
        if !thinking.is_empty() {
            obj.insert("thinking".into(), json!(thinking));
        }
    }
    obj.insert("done".into(), json!(true));
    obj.insert("done_reason".into(), json!(t.done_reason));
    if api == Api::Generate && !meta.raw {
        obj.insert("context".into(), fake_context(t));
    }
    insert_metrics(&mut obj, t);
    Value::Object(obj)
}

fn usage(t: &Timings) -> Value {
    json!({
        "prompt_tokens": t.prompt_eval_count,
        "completion_tokens": t.eval_count,
        "total_tokens": t.prompt_eval_count + t.eval_count
    })
}

fn full_response(api: Api, meta: &Meta, content: &str, thinking: &str, t: &Timings) -> Response {
    let body = match api {
        Api::Chat | Api::Generate => ollama_final(api, meta, content, thinking, t),
        Api::OpenAi => {
            let mut message = json!({ "role": "assistant", "content": content });
            if !thinking.is_empty() {
                message["reasoning"] = json!(thinking);
            }
            json!({
                "id": meta.id,
                "object": "chat.completion",
                "created": meta.created,
                "model": meta.model,
                "system_fingerprint": "fp_ollama",
                "choices": [{ "index": 0, "message": message, "finish_reason": t.done_reason }],
                "usage": usage(t)
            })
        }
    };
    axum::Json(body).into_response()
}

fn frame(api: Api, meta: &Meta, ev: Event) -> Vec<Bytes> {
    let line = |v: Value| Bytes::from(format!("{v}\n"));
    let sse = |v: Value| Bytes::from(format!("data: {v}\n\n"));
    match (api, ev) {
        (_, Event::Started(_)) => Vec::new(),
        (Api::Chat, Event::Token { thinking, text }) => {
            let msg = if thinking {
                json!({ "role": "assistant", "content": "", "thinking": text })
            } else {
                json!({ "role": "assistant", "content": text })
            };
            vec![line(
                json!({"model": meta.model, "created_at": now_rfc3339(), "message": msg, "done": false}),
            )]
        }
        (Api::Generate, Event::Token { thinking, text }) => {
            let v = if thinking {
                json!({"model": meta.model, "created_at": now_rfc3339(), "response": "", "thinking": text, "done": false})
            } else {
                json!({"model": meta.model, "created_at": now_rfc3339(), "response": text, "done": false})
            };
            vec![line(v)]
        }
        (Api::Chat | Api::Generate, Event::Done(t)) => {
            vec![line(ollama_final(api, meta, "", "", &t))]
        }
        (Api::OpenAi, Event::Token { thinking, text }) => {
            let delta = if thinking {
                json!({ "role": "assistant", "content": "", "reasoning": text })
            } else {
                json!({ "role": "assistant", "content": text })
            };
            vec![sse(chunk(meta, json!([{ "index": 0, "delta": delta, "finish_reason": null }])))]
        }
        (Api::OpenAi, Event::Done(t)) => {
            let mut out = vec![sse(chunk(
                meta,
                json!([{ "index": 0, "delta": {}, "finish_reason": t.done_reason }]),
            ))];
            if meta.include_usage {
                let mut c = chunk(meta, json!([]));
                c["usage"] = usage(&t);
                out.push(sse(c));
            }
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            out
        }
    }
}

fn chunk(meta: &Meta, choices: Value) -> Value {
    json!({
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": "fp_ollama",
        "choices": choices
    })
}

fn stream_response(
    api: Api,
    meta: Meta,
    first: Option<Event>,
    rx: mpsc::Receiver<Event>,
    in_flight: InFlight,
) -> Response {
    let meta = Arc::new(meta);
    let m = Arc::clone(&meta);
    let head = futures::stream::iter(first.map(|ev| frame(api, &meta, ev)).unwrap_or_default());
    let rest = futures::stream::unfold((rx, in_flight), |(mut rx, guard)| async move {
        rx.recv().await.map(|ev| (ev, (rx, guard)))
    })
    .flat_map(move |ev| futures::stream::iter(frame(api, &m, ev)));
    let body = Body::from_stream(head.chain(rest).map(Ok::<_, Infallible>));
    let content_type =
        if api == Api::OpenAi { "text/event-stream" } else { "application/x-ndjson" };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if api == Api::OpenAi {
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}
