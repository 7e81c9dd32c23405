//! Error answers in each dialect's shape: Ollama's `{"error": "…"}`, OpenAI's
//! `{"error": {"message", "type", "param", "code"}}` (`llm-servers.md` §1.5 and §4).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

/// An error answer, counted in the statistics.
pub(super) fn sim_error(
    sim: &Sim,
    dialect: Dialect,
    status: StatusCode,
    message: &str,
) -> Response {
    sim.record_error(status.as_u16());
    error(dialect, status, message)
}

/// Ollama's message for an unknown model.
pub(super) fn not_found_model(model: &str) -> String {
    format!("model '{model}' not found")
}
