//! The glossaries half of the store: term bases owned by a user or a team.
//!
//! Why a trait of its own: glossaries are neither jobs nor accounts, and the translation memory
//! lives beside them the same way. Both backends implement it, and `Store: GlossaryStore`, so
//! the `Arc<dyn Store>` from [`connect`](crate::connect) answers it too.
//!
//! Every method takes the [`Caller`]: a glossary is readable and changeable by its owner, or by
//! the members of its owning team, and by nobody else (administrators included: entries are
//! content). Another user's glossary is
//! [`StoreError::GlossaryNotFound`](crate::StoreError::GlossaryNotFound), like a missing one.

use tradia_core::{BoxFuture, LanguageTag, Term};

use crate::model::{Caller, Glossary, GlossaryId, GlossaryUpdate, JobGuidance, JobId, NewGlossary};
use crate::store::StoreResult;

/// Durable glossaries.
pub trait GlossaryStore: Send + Sync + 'static {
    /// Creates a glossary owned by the caller or by one of the caller's teams (another team is
    /// [`StoreError::TeamNotFound`](crate::StoreError::TeamNotFound)). Fails with
    /// [`StoreError::Invalid`](crate::StoreError::Invalid) naming the problem for a bad name,
    /// the same language on both sides, too many entries, an empty or over-long term, or a
    /// source term given twice (whatever its case, unless both entries are case-sensitive).
    fn create_glossary_for<'a>(
        &'a self,
        caller: &'a Caller,
        glossary: NewGlossary,
    ) -> BoxFuture<'a, StoreResult<Glossary>>;

    /// The glossaries the caller may read (their own, then their teams'), by name.
    fn list_glossaries_for<'a>(
        &'a self,
        caller: &'a Caller,
    ) -> BoxFuture<'a, StoreResult<Vec<Glossary>>>;

    /// One glossary the caller may read.
    fn get_glossary_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: GlossaryId,
    ) -> BoxFuture<'a, StoreResult<Glossary>>;

    /// A glossary the caller may read, with its entries in order.
    fn glossary_entries_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: GlossaryId,
    ) -> BoxFuture<'a, StoreResult<(Glossary, Vec<Term>)>>;

    /// Applies `update` (checked as on creation) and returns the glossary as it now is.
    fn update_glossary_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: GlossaryId,
        update: GlossaryUpdate,
    ) -> BoxFuture<'a, StoreResult<Glossary>>;

    /// Deletes a glossary with its entries.
    fn delete_glossary_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: GlossaryId,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// The glossary used when a request in this pair names none: the caller's own default for
    /// the pair, else the default of one of their teams (the earliest created), else none.
    fn default_glossary_for<'a>(
        &'a self,
        caller: &'a Caller,
        source: &'a LanguageTag,
        target: &'a LanguageTag,
    ) -> BoxFuture<'a, StoreResult<Option<Glossary>>>;

    /// Sets the glossary and style options of a job the caller owns (at its creation). A
    /// glossary the caller may not read is
    /// [`StoreError::GlossaryNotFound`](crate::StoreError::GlossaryNotFound); instructions over
    /// [`MAX_INSTRUCTIONS_CHARS`](crate::MAX_INSTRUCTIONS_CHARS) are
    /// [`StoreError::Invalid`](crate::StoreError::Invalid).
    fn set_job_guidance_for<'a>(
        &'a self,
        caller: &'a Caller,
        job: JobId,
        guidance: JobGuidance,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// A job's glossary and style options (the defaults when none were set): for the worker.
    fn job_guidance(&self, job: JobId) -> BoxFuture<'_, StoreResult<JobGuidance>>;
}
