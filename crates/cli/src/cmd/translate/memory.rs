//! `tradia translate --memory`: the engine wrapped with the local user's translation memory on
//! the configured store (`TRADIA_DATA_DIR` / `DATABASE_URL`), as `tradia tm` reads and writes it.
//!
//! Exact matches are answered without the model, near ones are sent with their segment as
//! examples, and every validated translation is recorded ([`tradia_core::memory::WithMemory`]).
//! A memory that fails mid-run never fails a file: the lookup or record is skipped with a
//! warning on stderr.

use std::sync::Arc;

use serde::Serialize;
use tradia_core::Engine;
use tradia_core::memory::{MemoryStats, WithMemory};
use tradia_store::Store;

use crate::engine::EngineKind;

/// The memory counters of a run (`memory` in the JSON summary).
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct MemoryCounts {
    /// Segments answered from memory, without the model.
    exact: u64,
    /// Segments sent with fuzzy examples.
    fuzzy: u64,
    /// Translations recorded.
    recorded: u64,
    /// Memory operations that failed (skipped).
    errors: u64,
}

impl From<MemoryStats> for MemoryCounts {
    fn from(s: MemoryStats) -> Self {
        MemoryCounts { exact: s.exact, fuzzy: s.fuzzy, recorded: s.recorded, errors: s.errors }
    }
}

impl MemoryCounts {
    /// The summary line's part.
    pub(super) fn line(&self) -> String {
        format!(
            "; memory: {} exact, {} fuzzy, {} recorded, {} errors",
            self.exact, self.fuzzy, self.recorded, self.errors
        )
    }
}

/// An engine wrapped with the memory, and the store to close at the end.
pub(super) struct Memory {
    engine: Arc<WithMemory<Arc<dyn Engine>>>,
    store: Arc<dyn Store>,
}

impl Memory {
    /// Opens the store and wraps `engine` with the memory `scope` of the local user.
    pub(super) async fn open(
        args: &super::TranslateArgs,
        engine: Arc<dyn Engine>,
    ) -> anyhow::Result<Memory> {
        let model = match args.engine {
            EngineKind::Identity => "identity".to_string(),
            EngineKind::Pseudo => "pseudo".to_string(),
            kind => kind.model(&args.llm).unwrap_or_else(|| engine.name().to_string()),
        };
        let (store, memory) = tradia_server::memory::offline::local_memory(
            &args.store,
            &args.memory_scope,
            Some(model),
        )
        .await?;
        let wrapped = WithMemory::new(engine, Arc::new(memory)).on_error(|e| {
            eprintln!("warning: {e}: skipped");
        });
        Ok(Memory { engine: Arc::new(wrapped), store })
    }

    /// The wrapped engine.
    pub(super) fn engine(&self) -> Arc<dyn Engine> {
        self.engine.clone()
    }

    /// Counters so far.
    pub(super) fn counts(&self) -> MemoryCounts {
        self.engine.memory_stats().into()
    }

    /// Closes the store.
    pub(super) async fn close(self) {
        self.store.close().await;
    }
}
