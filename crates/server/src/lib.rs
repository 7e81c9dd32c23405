//! The Tradia service: the HTTP API, durable document jobs, text translation, the writing
//! assistants, health and metrics.
//!
//! Layout: [`settings`] (flags and environment), [`serve`](mod@serve) (start and graceful stop),
//! [`access`] (what every request passes first: `Host`, CSRF, rate limits, security headers),
//! [`api`] (routes and handlers), [`compat`] (the LibreTranslate and DeepL APIs), [`jobs`] (upload, job store access, the runner), [`gateway`] (what the
//! service needs from the language-model layer), [`error`] (the error codes and the one error →
//! response conversion), [`sse`] (event-stream helpers), [`telemetry`] (logs and metrics). Only
//! this crate knows HTTP.

#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod api;
pub mod compat;
pub mod data_lock;
pub mod detect;
pub mod error;
pub mod gateway;
pub mod guidance;
pub mod health;
pub mod http_server;
pub mod jobs;
pub mod llm;
pub mod memory;
pub mod serve;
pub mod settings;
pub mod sse;
pub mod state;
pub mod telemetry;

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use gateway::{LlmGateway, PseudoGateway};
pub use serve::{RunningServer, run, serve, start};
pub use settings::{EngineKind, ServeArgs, ServerSettings};
