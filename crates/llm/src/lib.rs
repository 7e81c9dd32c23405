//! Tradia's LLM engine: Ollama and OpenAI-compatible backends, a slot-aware fair scheduler,
//! batching with read-only context, answer validation and a repair ladder that never lets a bad
//! answer into a document.
//!
//! Layers, bottom up: [`backend`] (HTTP dialects), [`scheduler`] (slots, priorities, fairness,
//! circuit breakers), [`prompt`] (versioned prompts and schemas), [`answer`] (tolerant JSON
//! extraction, validation, code reinsertion), [`engine`] ([`LlmEngine`], which implements
//! `tradia_core::Engine`; [`runaway`] watches its streamed batch answers), [`diagnostics`] (`tradia models` / `tradia check`, which reads the
//! engine). Each layer uses only those below it.

#![forbid(unsafe_code)]

pub mod answer;
pub mod backend;
pub mod diagnostics;
pub mod engine;
pub mod error;
pub mod prompt;
pub mod runaway;
pub mod scheduler;
pub mod settings;

pub use backend::{Backend, ChatOutcome, ChatRequest, Finish, ModelInfo, StreamEvent};
pub use diagnostics::{
    CheckLine, CheckReport, CheckStatus, CommandError, check_command, models_command,
};
pub use engine::{BackendHealth, DetailedStats, LlmEngine};
pub use error::LlmError;
pub use settings::{AuthScheme, EngineKind, LlmArgs, LlmSettings, SettingsError};
