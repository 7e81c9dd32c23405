//! Choosing the translation engine from the command line.

use std::sync::Arc;

use clap::ValueEnum;
use tradia_core::{Engine, IdentityEngine, PseudoEngine};
use tradia_llm::{LlmArgs, LlmEngine};

/// The engines `tradia translate --engine` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EngineKind {
    /// An Ollama server's native API (OLLAMA_BASE_URL, OLLAMA_MODEL…).
    Ollama,
    /// An OpenAI-compatible server: vLLM, llama.cpp, LM Studio… (OPENAI_BASE_URL…).
    Openai,
    /// Returns every segment unchanged (checks a round trip).
    Identity,
    /// Deterministic pseudo-translation: visibly changed text, markup kept (needs no LLM).
    Pseudo,
}

impl EngineKind {
    /// Builds the engine; LLM engines read their connection settings from `llm`.
    pub(crate) fn build(self, llm: &LlmArgs) -> anyhow::Result<Arc<dyn Engine>> {
        Ok(match self {
            EngineKind::Identity => Arc::new(IdentityEngine),
            EngineKind::Pseudo => Arc::new(PseudoEngine),
            EngineKind::Ollama | EngineKind::Openai => {
                let mut args = llm.clone();
                args.engine = if self == EngineKind::Openai { "openai" } else { "ollama" }.into();
                Arc::new(LlmEngine::new(args.settings()?)?)
            }
        })
    }
}
