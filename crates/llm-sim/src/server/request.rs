//! What a generation request asks, whatever its API (`/api/chat`, `/api/generate`,
//! `/v1/chat/completions`): model, streaming, schema, thinking, context, output limit, the
//! prompt's text and token count. Invalid requests are answered here with the server's error.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::errors::{Dialect, not_found_model, sim_error};
use super::models::thinking_capable;
use crate::answer::{self, Structured};
use crate::config::{DEFAULT_MODEL, Flavor};
use crate::engine::Sim;

#[derive(Clone, Copy, PartialEq)]
/// The generation endpoint a request came to.
pub(super) enum Api {
    /// `POST /api/chat`.
    Chat,
    /// `POST /api/generate`.
    Generate,
    /// `POST /v1/chat/completions`.
    OpenAi,
}

impl Api {
    /// The error shape of this endpoint.
    pub(super) fn dialect(self) -> Dialect {
        if self == Api::OpenAi { Dialect::OpenAi } else { Dialect::Ollama }
    }
}

/// What a generation request asks, whatever its API.
pub(super) struct Ask {
    pub(super) model: String,
    pub(super) stream: bool,
    pub(super) include_usage: bool,
    pub(super) structured: Structured,
    pub(super) think: Option<bool>,
    pub(super) num_ctx: u32,
    pub(super) max_tokens: Option<u64>,
    pub(super) prompt_text: String,
    pub(super) prompt_tokens: u32,
    pub(super) user_text: String,
    /// Ollama load/unload request (empty prompt or no messages).
    pub(super) load: Option<bool>,
    pub(super) raw: bool,
}

/// The request body as a JSON object, or the message of the 400 to answer.
pub(super) fn parse_body(body: &[u8]) -> Result<Value, String> {
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

/// Reads what the request asks; a request the server would refuse comes back as its answer.
pub(super) fn read_ask(sim: &Sim, api: Api, v: &Value) -> Result<Ask, Box<Response>> {
    let dialect = api.dialect();
    let lat = &sim.config.latency;
    let llama = sim.config.flavor == Flavor::LlamaCpp;
    if llama && v.get("messages").and_then(Value::as_array).is_none() {
        return Err(Box::new(sim_error(
            sim,
            dialect,
            StatusCode::BAD_REQUEST,
            "'messages' is required",
        )));
    }
    let mut model = v.get("model").and_then(Value::as_str).unwrap_or("").to_string();
    if llama {
        // llama-server serves its one model whatever the request names, under its alias.
        model = sim
            .config
            .models
            .as_ref()
            .and_then(|m| m.first().cloned())
            .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    }
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
    if let Structured::Schema(schema) = &structured
        && let Err(msg) = check_schema(schema, "#")
    {
        let msg = if llama {
            format!(
                "Unable to generate parser for this template. Automatic parser generation failed: {msg}"
            )
        } else {
            format!("invalid JSON schema in format: {msg}")
        };
        return Err(Box::new(sim_error(sim, dialect, StatusCode::BAD_REQUEST, &msg)));
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

/// Refuses a schema a grammar cannot be built from, as llama.cpp's converter does: an unknown
/// `type`, or a `properties`/`items`/`required` of the wrong JSON type. Says where.
pub(super) fn check_schema(schema: &Value, at: &str) -> Result<(), String> {
    const TYPES: [&str; 7] = ["object", "array", "string", "number", "integer", "boolean", "null"];
    let Some(obj) = schema.as_object() else {
        return if schema.is_boolean() {
            Ok(())
        } else {
            Err(format!("JSON schema error at {at}: a schema must be an object"))
        };
    };
    let types: Vec<&Value> = match obj.get("type") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(t) => vec![t],
    };
    for t in types {
        match t.as_str() {
            Some(name) if TYPES.contains(&name) => {}
            Some(name) => {
                return Err(format!("JSON schema error at {at}: unrecognized type {name}"));
            }
            None => return Err(format!("JSON schema error at {at}: type must be a string")),
        }
    }
    if let Some(props) = obj.get("properties") {
        let Some(props) = props.as_object() else {
            return Err(format!("JSON schema error at {at}/properties: must be an object"));
        };
        for (name, sub) in props {
            check_schema(sub, &format!("{at}/properties/{name}"))?;
        }
    }
    if let Some(items) = obj.get("items") {
        check_schema(items, &format!("{at}/items"))?;
    }
    if obj.get("required").is_some_and(|r| !r.is_array()) {
        return Err(format!("JSON schema error at {at}/required: must be an array"));
    }
    Ok(())
}

fn keep_alive_zero(v: &Value) -> bool {
    match v.get("keep_alive") {
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::String(s)) => matches!(s.trim(), "0" | "0s" | "0m" | "0h"),
        _ => false,
    }
}
