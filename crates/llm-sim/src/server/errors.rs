//! Error answers in each dialect's shape: Ollama's `{"error": "…"}`, Ollama's OpenAI layer's
//! `{"error": {"message", "type", "param", "code"}}` (`llm-servers.md` §1.5 and §4), and
//! llama-server's `{"error": {"code", "message", "type"}}` (its types by status, as observed).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::Flavor;
use crate::engine::Sim;

#[derive(Clone, Copy, PartialEq)]
/// Which API's error shape to answer with.
pub(super) enum Dialect {
    /// Ollama native API.
    Ollama,
    /// OpenAI-compatible API.
    OpenAi,
}

/// The error body of `dialect`.
pub(super) fn error(dialect: Dialect, status: StatusCode, message: &str) -> Response {
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

/// llama-server's error type for a status (`server-common.cpp`, `format_error_response`).
fn llama_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        501 => "not_supported_error",
        503 => "unavailable_error",
        _ => "server_error",
    }
}

/// llama-server's error body, with `extra` fields merged in.
pub(super) fn llama_error(status: StatusCode, message: &str, extra: serde_json::Value) -> Response {
    let mut err =
        json!({ "code": status.as_u16(), "message": message, "type": llama_type(status) });
    if let (Some(obj), serde_json::Value::Object(more)) = (err.as_object_mut(), extra) {
        obj.extend(more);
    }
    (status, axum::Json(json!({ "error": err }))).into_response()
}

/// An error answer, counted in the statistics.
pub(super) fn sim_error(
    sim: &Sim,
    dialect: Dialect,
    status: StatusCode,
    message: &str,
) -> Response {
    sim.record_error(status.as_u16());
    if dialect == Dialect::OpenAi && sim.config.flavor == Flavor::LlamaCpp {
        return llama_error(status, message, json!({}));
    }
    error(dialect, status, message)
}

/// The context-overflow error: llama-server's exact message and fields on its API, Ollama's
/// message elsewhere.
pub(super) fn context_error(
    sim: &Sim,
    dialect: Dialect,
    prompt_tokens: u32,
    n_ctx: u32,
) -> Response {
    if dialect == Dialect::OpenAi && sim.config.flavor == Flavor::LlamaCpp {
        sim.record_error(400);
        let msg = format!(
            "request ({prompt_tokens} tokens) exceeds the available context size ({n_ctx} tokens), try increasing it"
        );
        return llama_error(
            StatusCode::BAD_REQUEST,
            &msg,
            json!({ "type": "exceed_context_size_error", "n_prompt_tokens": prompt_tokens, "n_ctx": n_ctx }),
        );
    }
    sim_error(sim, dialect, StatusCode::BAD_REQUEST, super::MSG_CONTEXT)
}

/// Ollama's message for an unknown model.
pub(super) fn not_found_model(model: &str) -> String {
    format!("model '{model}' not found")
}
