//! The one conversion from a failure to an HTTP response.
//!
//! Every handler returns [`ApiError`]; it becomes `{"error": {"code": "…", "message": "…"}}`
//! with the status of its code. The codes are the closed set of [`ErrorCode`] (listed in
//! `docs/ERROR-CODES.md`); each library error maps to one in [`mapping`]. Messages are for
//! people and may change. A handler that panics is answered in the same shape too
//! ([`catch_panic_layer`]), never in plain text.

pub mod code;
pub mod mapping;

use std::any::Any;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::ToSchema;

pub use code::{ErrorCode, UnknownErrorCode};

/// A failure answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Stable machine-readable code; it decides the status.
    pub code: ErrorCode,
    /// What happened, for people.
    pub message: String,
    /// Seconds after which trying again may succeed, sent as `Retry-After` (quotas, rate
    /// limits, sign-in throttling).
    pub retry_after: Option<u64>,
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

impl ErrorDetail {
    /// The detail of an error with this code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorDetail { code: code.as_str().to_string(), message: message.into() }
    }
}

impl ApiError {
    /// An error with `code` (and the status the code is answered with).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), retry_after: None }
    }

    /// The same error, answered with `Retry-After: <seconds>` (at least 1).
    pub fn with_retry_after(mut self, wait: std::time::Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.retry_after = Some(secs.max(1));
        self
    }

    /// The HTTP status: the code's, or `500` for a code only ever stored on a job.
    pub fn status(&self) -> StatusCode {
        self.code.status().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 404 for a job that does not exist (or was deleted or purged), or a path segment that is
    /// not a job id.
    pub fn job_not_found(id: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::JobNotFound, format!("no job with id {id}"))
    }

    /// 500; the detail is logged here (once) and not shown to the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        Self::new(ErrorCode::InternalError, format!("{context}; the server log has the details"))
    }

    /// 503 when the language model cannot be reached.
    pub fn llm_unavailable(error: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::LlmUnavailable, mapping::unreachable_message(&error))
    }

    /// The body the client receives.
    pub fn body(&self) -> ErrorBody {
        ErrorBody { error: ErrorDetail::new(self.code, self.message.clone()) }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status().as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The answer to a request whose handler panicked: `500 internal_error` in the usual shape, the
/// panic's message logged.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (None, Some(s)) => s.clone(),
        (None, None) => "a panic without a message".to_string(),
    };
    ApiError::internal("the request failed unexpectedly", format!("handler panicked: {detail}"))
        .into_response()
}

/// Handler of [`catch_panic_layer`].
pub type PanicHandler = fn(Box<dyn Any + Send + 'static>) -> Response;

/// Turns a panicking handler into a JSON `500` (see [`panic_response`]).
pub fn catch_panic_layer() -> CatchPanicLayer<PanicHandler> {
    CatchPanicLayer::custom(panic_response as PanicHandler)
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn an_error_answers_its_status_and_json_body() {
        let response =
            ApiError::new(ErrorCode::UploadTooLarge, "the upload is too large").into_response();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = body_json(response).await;
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "upload_too_large", "message": "the upload is too large"}})
        );
        assert!(response_has_no_retry_after().await);
        let limited = ApiError::new(ErrorCode::RateLimited, "slow down")
            .with_retry_after(std::time::Duration::from_millis(2100))
            .into_response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[axum::http::header::RETRY_AFTER], "3");
        let stored_only = ApiError::new(ErrorCode::StorageError, "x");
        assert_eq!(stored_only.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    async fn response_has_no_retry_after() -> bool {
        let response = ApiError::new(ErrorCode::JobNotFound, "x").into_response();
        !response.headers().contains_key(axum::http::header::RETRY_AFTER)
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_in_the_json_error_shape() {
        async fn boom() -> &'static str {
            panic!("the handler broke")
        }
        let app = Router::new().route("/boom", get(boom)).layer(catch_panic_layer());
        let request = Request::builder().uri("/boom").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let content_type = response.headers()[axum::http::header::CONTENT_TYPE].clone();
        assert_eq!(content_type, "application/json");
        let body = body_json(response).await;
        assert_eq!(body["error"]["code"], "internal_error", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(!message.contains("the handler broke"), "the panic stays in the log: {message}");
    }
}
