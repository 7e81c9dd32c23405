//! Choosing the translation engine from the command line.

use std::sync::Arc;

use clap::ValueEnum;
use tradia_core::{Engine, IdentityEngine, PseudoEngine};

/// The engines `tradia translate --engine` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EngineKind {
    /// Returns every segment unchanged (checks a round trip).
    Identity,
    /// Deterministic pseudo-translation: visibly changed text, markup kept (needs no LLM).
    Pseudo,
}

impl EngineKind {
    /// Builds the engine.
    pub(crate) fn build(self) -> anyhow::Result<Arc<dyn Engine>> {
        Ok(match self {
            EngineKind::Identity => Arc::new(IdentityEngine),
            EngineKind::Pseudo => Arc::new(PseudoEngine),
        })
    }
}
