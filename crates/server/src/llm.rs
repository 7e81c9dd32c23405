//! The bridge to the LLM crate: builds the [`LlmGateway`] for `TRADIA_ENGINE=llm`.

use std::sync::Arc;

use crate::gateway::LlmGateway;
use crate::settings::ServerSettings;

/// The gateway over the configured LLM backends.
pub fn gateway_from_settings(_settings: &ServerSettings) -> anyhow::Result<Arc<dyn LlmGateway>> {
    anyhow::bail!("this build has no LLM backend yet; use TRADIA_ENGINE=pseudo")
}

/// The LLM part of `--check-config`.
pub fn describe_llm_settings(_settings: &ServerSettings) -> String {
    String::new()
}
