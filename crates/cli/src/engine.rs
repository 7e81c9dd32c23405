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
                Arc::new(LlmEngine::new(self.llm_args(llm).settings()?)?)
            }
        })
    }

    /// How many files `tradia translate` translates at once by default: as many as the LLM
    /// servers have slots in all (`TRADIA_LLM_SLOTS` per server), so that a run of small files
    /// keeps them busy; one for the engines without a server (they compute on this machine,
    /// where running files side by side gains nothing).
    pub(crate) fn default_parallel_files(self, llm: &LlmArgs) -> usize {
        match self {
            EngineKind::Identity | EngineKind::Pseudo => 1,
            EngineKind::Ollama | EngineKind::Openai => self
                .llm_args(llm)
                .settings()
                .map(|s| s.slots * s.backends.len().max(1))
                .unwrap_or(1)
                .max(1),
        }
    }

    /// The model an LLM engine asks (`None` for the others or unreadable settings).
    pub(crate) fn model(self, llm: &LlmArgs) -> Option<String> {
        match self {
            EngineKind::Identity | EngineKind::Pseudo => None,
            EngineKind::Ollama | EngineKind::Openai => {
                self.llm_args(llm).settings().ok().map(|s| s.model)
            }
        }
    }

    /// `llm` with the API this engine speaks.
    fn llm_args(self, llm: &LlmArgs) -> LlmArgs {
        let mut args = llm.clone();
        args.engine = if self == EngineKind::Openai { "openai" } else { "ollama" }.into();
        args
    }
}
