//! Errors of the LLM layer, with stable codes and a retry classification.
//!
//! Whether an error is worth retrying is decided here, once, from what the servers of
//! `llm-servers.md` actually answer: 429, 500 (Ollama's runner died), 502/503/504, timeouts and
//! broken connections are transient; 400, 401, 403, 404 and 422 will fail again identically.
//! Messages never contain a credential: every URL in them went through
//! [`tradia_core::redact_url`] and keys only ever live in [`secrecy::SecretString`]s.

use std::time::Duration;

/// What went wrong talking to an LLM server (or with what it answered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The server could not be reached (connection refused, unknown host…).
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        /// The server's URL, credentials redacted.
        url: String,
        /// What the network layer said.
        detail: String,
    },
    /// The TLS handshake failed (untrusted or invalid certificate…).
    #[error("TLS error talking to {url}: {detail}")]
    Tls {
        /// The server's URL, credentials redacted.
        url: String,
        /// What the TLS layer said.
        detail: String,
    },
    /// No complete answer within the configured timeout.
    #[error("{url} did not answer within {seconds} s")]
    Timeout {
        /// The server's URL, credentials redacted.
        url: String,
        /// The timeout that elapsed.
        seconds: u64,
    },
    /// The connection broke while the answer was being read.
    #[error("the connection to {url} broke: {detail}")]
    Connection {
        /// The server's URL, credentials redacted.
        url: String,
        /// What the network layer said.
        detail: String,
    },
    /// The server answered with an HTTP error status.
    #[error("{url} answered HTTP {status}: {message}")]
    Http {
        /// The server's URL, credentials redacted.
        url: String,
        /// HTTP status code.
        status: u16,
        /// The server's error message (from its JSON error body when there is one).
        message: String,
        /// The `Retry-After` delay the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// An error reported inside an otherwise successful (streamed) answer.
    #[error("{url} reported an error while answering: {message}")]
    Stream {
        /// The server's URL, credentials redacted.
        url: String,
        /// The server's message.
        message: String,
    },
    /// The answer could not be read (not the documented JSON shape).
    #[error("{url} sent an answer that cannot be read: {detail}")]
    BadResponse {
        /// The server's URL, credentials redacted.
        url: String,
        /// Why it cannot be read.
        detail: String,
    },
    /// Every configured backend is out of service (circuit breakers open).
    #[error("no LLM backend is available: {0}")]
    NoBackend(String),
    /// The model's answer is not usable (structured completions).
    #[error("the model's answer is not usable: {0}")]
    Answer(String),
    /// The work was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::Unreachable { .. } => "llm_unreachable",
            LlmError::Tls { .. } => "llm_tls",
            LlmError::Timeout { .. } => "llm_timeout",
            LlmError::Connection { .. } => "llm_connection",
            LlmError::Http { status: 401 | 403, .. } => "llm_unauthorized",
            LlmError::Http { status: 404, .. } => "llm_not_found",
            LlmError::Http { status: 429, .. } => "llm_rate_limited",
            LlmError::Http { .. } if self.is_context_overflow() => "llm_context_overflow",
            LlmError::Http { status, .. } if *status >= 500 => "llm_server_error",
            LlmError::Http { .. } => "llm_rejected",
            LlmError::Stream { .. } => "llm_stream_error",
            LlmError::BadResponse { .. } => "llm_bad_response",
            LlmError::NoBackend(_) => "llm_no_backend",
            LlmError::Answer(_) => "llm_bad_answer",
            LlmError::Cancelled => "cancelled",
        }
    }

    /// True for transient failures worth retrying with backoff.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Unreachable { .. }
            | LlmError::Timeout { .. }
            | LlmError::Connection { .. }
            | LlmError::Stream { .. }
            | LlmError::BadResponse { .. } => true,
            LlmError::Http { status, .. } => matches!(status, 408 | 429 | 500 | 502 | 503 | 504),
            LlmError::Tls { .. }
            | LlmError::NoBackend(_)
            | LlmError::Answer(_)
            | LlmError::Cancelled => false,
        }
    }

    /// True when the failure says something about the backend's health (feeds its circuit
    /// breaker): transport failures and 5xx, not a refused request.
    pub fn is_backend_failure(&self) -> bool {
        match self {
            LlmError::Unreachable { .. }
            | LlmError::Tls { .. }
            | LlmError::Timeout { .. }
            | LlmError::Connection { .. }
            | LlmError::Stream { .. } => true,
            LlmError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// True when the prompt did not fit the model's context (a smaller request may succeed).
    pub fn is_context_overflow(&self) -> bool {
        match self {
            LlmError::Http { status: 400, message, .. } => {
                let m = message.to_ascii_lowercase();
                m.contains("context length")
                    || m.contains("context size")
                    || m.contains("maximum context")
                    || m.contains("exceed_context")
            }
            _ => false,
        }
    }

    /// The delay the server asked for before retrying, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, message: &str) -> LlmError {
        LlmError::Http { url: "u".into(), status, message: message.into(), retry_after: None }
    }

    #[test]
    fn retry_classification_follows_the_policy() {
        for s in [429, 500, 502, 503, 504] {
            assert!(http(s, "x").is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!http(s, "x").is_retryable(), "{s}");
        }
        assert!(LlmError::Timeout { url: "u".into(), seconds: 1 }.is_retryable());
        assert!(!LlmError::Cancelled.is_retryable());
    }

    #[test]
    fn context_overflow_is_recognised_in_each_servers_words() {
        assert!(http(400, "the input length exceeds the context length").is_context_overflow());
        assert!(
            http(400, "request (4476 tokens) exceeds the available context size (4096 tokens)")
                .is_context_overflow()
        );
        assert!(
            http(400, "This model's maximum context length is 8192 tokens. However, you requested")
                .is_context_overflow()
        );
        assert_eq!(
            http(400, "the input length exceeds the context length").code(),
            "llm_context_overflow"
        );
        assert!(!http(400, "model is required").is_context_overflow());
    }
}
