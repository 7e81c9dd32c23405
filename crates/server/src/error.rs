//! The one conversion from a failure to an HTTP response.
//!
//! Every handler returns [`ApiError`]; it becomes `{"error": {"code": "…", "message": "…"}}` with
//! a status. Codes are stable snake_case strings the web interface translates, so they never
//! change once published; messages are for people and may change.
//!
//! Codes in use: `invalid_request`, `invalid_json`, `invalid_query`, `invalid_cursor`,
//! `malformed_multipart`, `missing_file`, `missing_text`, `missing_target_lang`, `empty_file`,
//! `too_many_files`, `too_many_texts`, `upload_too_large` (413), `text_too_long` (413),
//! `request_too_large` (413), `image_too_large` (413), `invalid_image`, `invalid_style`,
//! `invalid_language`, `same_language`, `unknown_model`, `request_rejected`,
//! `unsupported_format` (415) and the other document codes of `tradia_formats::FormatError`,
//! `job_not_found` (404), `not_found` (404), `job_not_finished` (409), `no_result` (409),
//! `llm_unavailable` (503), `llm_invalid_answer` (502), `cancelled` (503), `internal_error` (500).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A failure answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`invalid_language`, `upload_too_large`, …).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with any status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404 for a job that does not exist (or was deleted or purged).
    pub fn job_not_found(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "job_not_found", format!("no job with id {id}"))
    }
    /// 500; the detail is logged here (once) and not shown to the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("{context}; the server log has the details"),
        )
    }
    /// 503 when the language model cannot be reached.
    pub fn llm_unavailable(error: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "llm_unavailable",
            format!("the translation model is not reachable right now: {error}"),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            ErrorBody { error: ErrorDetail { code: self.code.to_string(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<tradia_formats::FormatError> for ApiError {
    fn from(error: tradia_formats::FormatError) -> Self {
        let status = match &error {
            tradia_formats::FormatError::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<tradia_core::InvalidLanguage> for ApiError {
    fn from(error: tradia_core::InvalidLanguage) -> Self {
        ApiError::bad_request("invalid_language", error.to_string())
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
