//! The translation memory's half of the store: entries owned by a user or a team, found by an
//! exact key or by similarity, always within a scope the caller may read.
//!
//! Why this shape: an entry holds document text, so it is scoped like a job. Every method takes
//! the [`Caller`] and a [`MemoryScope`]: `Own` reads and writes the caller's entries, `Team`
//! one team's (the caller must be a member, else [`StoreError::TeamNotFound`]), `Teams` reads
//! the caller's and all their teams' and writes the caller's. Membership is checked at each
//! call, so someone who leaves a team stops reading its memory at once.
//!
//! ## Indexes
//! - **Exact**: a unique index on (scope, languages, SHA-256 of [`tradia_core::memory::memory_key`]).
//!   Recording the same source again replaces the entry (the newest translation wins), so a
//!   memory grows with distinct sentences, not with runs.
//! - **Fuzzy**: a word index of our own (`memory/terms.rs`): each entry's distinct lower-cased words
//!   (character pairs in scripts without spaces) are posted under a key of (scope, languages,
//!   word), with each key's document frequency beside. A lookup reads the frequencies of the
//!   segment's words, keeps its rarest few, reads their short posting lists, and fetches only
//!   the entries sharing the most of them, which the store ranks by
//!   [`tradia_core::memory::similarity`] (the caller's score, the same on both backends). The
//!   same plain tables on SQLite and PostgreSQL, kept by triggers from the entry's `terms`
//!   column. It replaced FTS5 `trigram` and `pg_trgm` (migration `memory_terms`): common
//!   trigrams have long posting lists, and a lookup cost 96 ms p50 / 194 ms p99 at 100,000
//!   entries; see `memory/terms.rs` for the figures at 1,000,000.
//!
//! ## Privacy
//! Deleting a user deletes their entries (foreign key cascade), deleting a team its entries;
//! [`MemoryStore::purge_memory_for`] deletes all of a scope's entries or one job's.
//! [`MemoryStore::delete_job_with_memory_for`] deletes a job and, unless it was asked to keep
//! them ([`JobMemory::keep`] or the call's `keep`), the entries it recorded. The retention purge
//! ([`crate::Store::purge_expired`]) keeps them: the entries then name no job.

pub(crate) mod shared;
pub(crate) mod terms;

use tradia_core::{BoxFuture, Content, LanguageTag};

use crate::blob::BlobKey;
use crate::model::{Caller, JobId, JobMemory, MemoryEntry, MemoryScope, NewMemoryEntry};
use crate::store::StoreResult;

/// Longest source or target accepted in an entry, in bytes of its rendering.
pub const MAX_MEMORY_TEXT_BYTES: usize = 64 * 1024;

/// The translation memory (every [`crate::Store`] is one).
pub trait MemoryStore: Send + Sync + 'static {
    /// For each of `sources` (segment cores), the entry of `scope` with the same exact key and
    /// languages, if any, in order. The first scope that has one wins (the caller's own before
    /// their teams').
    fn memory_exact_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        source_lang: &'a LanguageTag,
        target_lang: &'a LanguageTag,
        sources: &'a [Content],
    ) -> BoxFuture<'a, StoreResult<Vec<Option<MemoryEntry>>>>;

    /// Up to `limit` (at most 100) entries of `scope` whose source resembles `source`, best
    /// first by the index's ranking.
    fn memory_fuzzy_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        source_lang: &'a LanguageTag,
        target_lang: &'a LanguageTag,
        source: &'a Content,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<MemoryEntry>>>;

    /// Records entries in the memory `scope` writes to (one transaction); an entry with the
    /// same exact key replaces the older one. Returns how many were written.
    /// [`StoreError::Invalid`](crate::StoreError::Invalid) for an empty or over-long text or
    /// for the `Off` scope.
    fn record_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        entries: Vec<NewMemoryEntry>,
    ) -> BoxFuture<'a, StoreResult<u64>>;

    /// Entries of `scope` in id order: at most `limit` (1 to 10 000) after id `after`.
    fn export_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        after: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'a, StoreResult<Vec<MemoryEntry>>>;

    /// How many entries the memory `scope` writes to holds (the caller's own, or one team's).
    fn count_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
    ) -> BoxFuture<'a, StoreResult<u64>>;

    /// Deletes the entries of the memory `scope` writes to (the caller's own, or one team's),
    /// all of them or those recorded by job `job`. Returns how many.
    fn purge_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        job: Option<JobId>,
    ) -> BoxFuture<'a, StoreResult<u64>>;

    /// Sets the memory options of a job the caller may see (at its creation).
    fn set_job_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        job: JobId,
        options: JobMemory,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// A job's memory options (the defaults when none were set): for the worker.
    fn job_memory(&self, job: JobId) -> BoxFuture<'_, StoreResult<JobMemory>>;

    /// [`crate::Store::delete_job_for`], deleting in the same transaction the entries the job
    /// recorded unless `keep` (or, when `keep` is `None`, the job's [`JobMemory::keep`]).
    fn delete_job_with_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: JobId,
        keep: Option<bool>,
    ) -> BoxFuture<'a, StoreResult<Vec<BlobKey>>>;
}
