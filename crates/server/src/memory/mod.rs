//! The translation memory in the service: the store's memory behind the engine of every job and
//! text request, and the owner's API to purge, import and export it.
//!
//! Why here: the engine wrapper ([`tradia_core::memory::WithMemory`]) knows no store and the
//! store knows no engine; this module binds one to the other for one caller and one scope
//! ([`StoreMemory`]). A job reads and writes the memory its `memory` option names (default: the
//! owner's own); a job from before accounts (no owner) has none. A memory that fails is logged
//! and counted (`tradia_memory_errors_total`) and the translation goes on without it.

pub mod api;
pub mod offline;

use std::sync::Arc;

use tradia_core::memory::{
    LanguagePair, MemoryError, MemoryMatch, MemoryRecord, TranslationMemory, WithMemory,
};
use tradia_core::{BoxFuture, Content, Engine};
use tradia_store::{Caller, Job, JobId, MemoryOrigin, MemoryScope, NewMemoryEntry, Role, Store};

use crate::state::AppState;

/// The store's memory for one caller and scope, with what each record is stamped with.
pub struct StoreMemory {
    store: Arc<dyn Store>,
    caller: Caller,
    scope: MemoryScope,
    job: Option<JobId>,
    model: Option<String>,
    prompt_version: String,
}

fn failed(e: tradia_store::StoreError) -> MemoryError {
    MemoryError(e.to_string())
}

impl TranslationMemory for StoreMemory {
    fn exact<'a>(
        &'a self,
        pair: &'a LanguagePair,
        sources: &'a [Content],
    ) -> BoxFuture<'a, Result<Vec<Option<MemoryMatch>>, MemoryError>> {
        Box::pin(async move {
            let found = self
                .store
                .memory_exact_for(&self.caller, self.scope, &pair.source, &pair.target, sources)
                .await
                .map_err(failed)?;
            Ok(found
                .into_iter()
                .map(|e| e.map(|e| MemoryMatch { source: e.source, target: e.target }))
                .collect())
        })
    }

    fn fuzzy<'a>(
        &'a self,
        pair: &'a LanguagePair,
        source: &'a Content,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryMatch>, MemoryError>> {
        Box::pin(async move {
            let found = self
                .store
                .memory_fuzzy_for(
                    &self.caller,
                    self.scope,
                    &pair.source,
                    &pair.target,
                    source,
                    limit,
                )
                .await
                .map_err(failed)?;
            Ok(found
                .into_iter()
                .map(|e| MemoryMatch { source: e.source, target: e.target })
                .collect())
        })
    }

    fn record<'a>(
        &'a self,
        pair: &'a LanguagePair,
        records: Vec<MemoryRecord>,
    ) -> BoxFuture<'a, Result<(), MemoryError>> {
        Box::pin(async move {
            let entries = records
                .into_iter()
                .map(|r| NewMemoryEntry {
                    source_lang: pair.source.clone(),
                    target_lang: pair.target.clone(),
                    source: r.source,
                    target: r.target,
                    origin: MemoryOrigin::Llm,
                    model: self.model.clone(),
                    prompt_version: Some(self.prompt_version.clone()),
                    job: self.job,
                })
                .collect();
            self.store
                .record_memory_for(&self.caller, self.scope, entries)
                .await
                .map_err(failed)?;
            Ok(())
        })
    }
}

/// `engine` with the memory `scope` of `caller` (unchanged when the scope is `off`).
pub fn wrap(
    state: &AppState,
    engine: Arc<dyn Engine>,
    caller: Caller,
    scope: MemoryScope,
    job: Option<JobId>,
    model: Option<&str>,
) -> Arc<dyn Engine> {
    if scope == MemoryScope::Off {
        return engine;
    }
    let memory = StoreMemory {
        store: state.jobs.store().clone(),
        caller,
        scope,
        job,
        model: Some(model.map_or_else(|| state.gateway.default_model(), str::to_string)),
        prompt_version: tradia_llm::prompt::PROMPT_VERSION.to_string(),
    };
    let wrapped = WithMemory::new(engine, Arc::new(memory)).on_error(move |e| {
        metrics::counter!("tradia_memory_errors_total").increment(1);
        tracing::warn!(job.id = ?job, error = %e, "translation memory skipped");
    });
    Arc::new(wrapped)
}

/// The engine of a job: with the memory its options name, as its owner.
pub async fn for_job(state: &AppState, job: &Job, engine: Arc<dyn Engine>) -> Arc<dyn Engine> {
    let Some(owner) = job.owner else { return engine };
    let options = match state.jobs.store().job_memory(job.id).await {
        Ok(o) => o,
        Err(e) => {
            metrics::counter!("tradia_memory_errors_total").increment(1);
            tracing::warn!(job.id = %job.id, error = %e, "job memory options unreadable: no memory");
            return engine;
        }
    };
    // Memory scopes depend on the user only, never on a role.
    let caller = Caller { user: owner, role: Role::User };
    wrap(state, engine, caller, options.scope, Some(job.id), job.model.as_deref())
}
