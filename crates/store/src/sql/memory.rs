//! The memory operations both backends run word for word, written once (like the glossaries:
//! generic over the database, with [`impl_memory_store!`] writing each backend's trait impl).
//!
//! What stays in `sqlite/memory.rs` and `postgres/memory.rs` is what differs: how a batch of
//! entries is written (row by row in SQLite's one writer, one statement on PostgreSQL so that
//! concurrent writers take their locks in one order) and how a list of term keys is bound and
//! read ([`MemoryDialect`]).

use std::marker::PhantomData;

use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};
use tradia_core::memory::similarity;
use tradia_core::{Content, LanguageTag};
use uuid::Uuid;

use super::rows::{FileRow, JobRow, SegmentRow, StatusCountRow};
use super::{Dialect, JobScope, Queries, SqlBackend};
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::memory::shared::{
    EXACT, EXPORT, EntryRow, IS_MEMBER, TEAMS_OF, decode_job_memory, export_limit, fuzzy_limit,
    fuzzy_text, key_hash, owner_columns, write_owner,
};
use crate::memory::terms::{Chosen, RANKED_CANDIDATES, best_sharing, choose, term_keys};
use crate::model::{Caller, JobId, JobMemory, MemoryEntry, MemoryOwner, MemoryScope, TeamId};
use crate::store::StoreResult;

/// What a backend's memory statements do differently: how a list of term keys is bound.
pub(crate) trait MemoryDialect: Dialect {
    /// A list of term keys as a statement takes it (and as the `terms` column holds it).
    type Keys: for<'q> Encode<'q, Self> + Type<Self> + Send + 'static;

    /// `keys` as a parameter.
    fn keys(keys: &[i64]) -> Self::Keys;

    /// The document frequencies `(term_key, df)` of the terms `$1` (a [`Self::Keys`]).
    const TERM_DF: &'static str;

    /// The postings of the `chosen` terms: per term, in their order, the ids of the entries
    /// posted under it, newest first, at most its limit. Each term's are read from the primary
    /// key in its order, with nothing to sort or group, one term after the other: PostgreSQL,
    /// seeing `LIMIT` over `term_key = ANY (…)`, took a sequential scan of all 13 million
    /// postings instead (2.7 s).
    fn postings(
        conn: &mut Self::Connection,
        chosen: &Chosen,
    ) -> impl Future<Output = StoreResult<Vec<Vec<i64>>>> + Send;

    /// The entries `$1` (ids, as a [`Self::Keys`]) that belong to scope `$2` and languages
    /// `$3`, `$4`, looked up by id one after the other (whatever the planner estimates: with
    /// statistics older than a bulk import, PostgreSQL once took the scope's whole range of
    /// the exact index instead, 170 ms at 100,000 entries).
    const ENTRIES: &'static str;
}

/// Entries not yet in the word index (written before it existed), a batch at a time.
const UNINDEXED: &str = "SELECT id, scope_id, source_lang, target_lang, source_key \
     FROM memory_entries WHERE terms IS NULL ORDER BY id LIMIT 500";

const SET_TERMS: &str = "UPDATE memory_entries SET terms = $1 WHERE id = $2";

const DELETE_ALL: &str = "DELETE FROM memory_entries WHERE scope_id = $1";

const DELETE_OF_JOB: &str = "DELETE FROM memory_entries WHERE scope_id = $1 AND job_id = $2";

const DELETE_JOB_ENTRIES: &str = "DELETE FROM memory_entries WHERE job_id = $1";

const SET_JOB_MEMORY: &str = "INSERT INTO memory_job_options (job_id, memory_scope, keep_memory) \
     VALUES ($1, $2, $3) ON CONFLICT (job_id) DO UPDATE SET \
     memory_scope = excluded.memory_scope, keep_memory = excluded.keep_memory";

const JOB_MEMORY: &str =
    "SELECT memory_scope, keep_memory FROM memory_job_options WHERE job_id = $1";

const KEEP_MEMORY: &str = "SELECT keep_memory FROM memory_job_options WHERE job_id = $1";

/// The shared memory operations for one dialect.
pub(crate) struct Memories<D>(PhantomData<D>);

impl<D> Memories<D>
where
    D: MemoryDialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> bool: Encode<'q, D> + Type<D>,
    for<'q> Vec<u8>: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'r> EntryRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> JobRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> FileRow: FromRow<'r, D::Row>,
    for<'r> SegmentRow: FromRow<'r, D::Row>,
    for<'r> StatusCountRow: FromRow<'r, D::Row>,
    for<'r> (String,): FromRow<'r, D::Row>,
    for<'r> (i64,): FromRow<'r, D::Row>,
    for<'r> (i64, i64): FromRow<'r, D::Row>,
    for<'r> (Uuid,): FromRow<'r, D::Row>,
    for<'r> (bool,): FromRow<'r, D::Row>,
    for<'r> (String, bool): FromRow<'r, D::Row>,
    for<'r> (i64, Uuid, String, String, String): FromRow<'r, D::Row>,
{
    async fn is_member(
        b: &impl SqlBackend<Db = D>,
        team: TeamId,
        caller: &Caller,
    ) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as(IS_MEMBER)
            .bind(team.0)
            .bind(caller.user.0)
            .fetch_one(b.reader())
            .await?;
        Ok(n > 0)
    }

    /// The owner ids `scope` reads, in priority order.
    async fn read_scopes(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
    ) -> StoreResult<Vec<Uuid>> {
        Ok(match scope {
            MemoryScope::Off => Vec::new(),
            MemoryScope::Own => vec![caller.user.0],
            MemoryScope::Teams => {
                let teams: Vec<(Uuid,)> =
                    sqlx::query_as(TEAMS_OF).bind(caller.user.0).fetch_all(b.reader()).await?;
                std::iter::once(caller.user.0).chain(teams.into_iter().map(|(t,)| t)).collect()
            }
            MemoryScope::Team(t) => {
                if !Self::is_member(b, t, caller).await? {
                    return Err(StoreError::TeamNotFound(t));
                }
                vec![t.0]
            }
        })
    }

    /// The memory `scope` writes to.
    pub(crate) async fn owner_of(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
    ) -> StoreResult<MemoryOwner> {
        let member = match scope {
            MemoryScope::Team(t) => Self::is_member(b, t, caller).await?,
            _ => false,
        };
        write_owner(caller, scope, |_| member)
    }

    pub(crate) async fn exact(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
        langs: (&LanguageTag, &LanguageTag),
        sources: &[Content],
    ) -> StoreResult<Vec<Option<MemoryEntry>>> {
        let scopes = Self::read_scopes(b, caller, scope).await?;
        let mut conn = b.reader().acquire().await?;
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            let hash = key_hash(source);
            let mut found = None;
            for id in &scopes {
                let row: Option<EntryRow<D::Time>> = sqlx::query_as(EXACT)
                    .bind(*id)
                    .bind(langs.0.as_str())
                    .bind(langs.1.as_str())
                    .bind(hash.clone())
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(row) = row {
                    found = Some(row.into_entry()?);
                    break;
                }
            }
            out.push(found);
        }
        Ok(out)
    }

    /// Fuzzy candidates: per scope, the entries sharing the most of the segment's rarest terms
    /// (see [`crate::memory::terms`]), then all of them ranked by [`similarity`].
    pub(crate) async fn fuzzy(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
        langs: (&LanguageTag, &LanguageTag),
        source: &Content,
        limit: usize,
    ) -> StoreResult<Vec<MemoryEntry>> {
        let text = fuzzy_text(source);
        let scopes = Self::read_scopes(b, caller, scope).await?;
        let limit = fuzzy_limit(limit);
        let mut conn = b.reader().acquire().await?;
        let mut out = Vec::new();
        for id in &scopes {
            let keys = term_keys(*id, langs.0.as_str(), langs.1.as_str(), &text);
            if keys.is_empty() {
                break;
            }
            let frequencies: Vec<(i64, i64)> =
                sqlx::query_as(D::TERM_DF).bind(D::keys(&keys)).fetch_all(&mut *conn).await?;
            let Some(chosen) = choose(frequencies) else { continue };
            let lists = D::postings(&mut *conn, &chosen).await?;
            let best = best_sharing(lists, chosen.min_shared, RANKED_CANDIDATES.max(limit));
            if best.is_empty() {
                continue;
            }
            let rows: Vec<EntryRow<D::Time>> = sqlx::query_as(D::ENTRIES)
                .bind(D::keys(&best))
                .bind(*id)
                .bind(langs.0.as_str())
                .bind(langs.1.as_str())
                .fetch_all(&mut *conn)
                .await?;
            for row in rows {
                let entry = row.into_entry()?;
                out.push((similarity(source, &entry.source), entry));
            }
        }
        // Most similar first; a stable sort keeps the scopes' priority order among equals.
        out.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(out.into_iter().take(limit).map(|(_, e)| e).collect())
    }

    /// Puts the entries written before the word index existed into it (at opening, once).
    pub(crate) async fn index_pending_terms(b: &impl SqlBackend<Db = D>) -> StoreResult<u64> {
        let mut done = 0;
        loop {
            let mut tx = b.begin_write().await?;
            let rows: Vec<(i64, Uuid, String, String, String)> =
                sqlx::query_as(UNINDEXED).fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(done);
            }
            for (id, scope, source_lang, target_lang, text) in rows {
                let keys = term_keys(scope, &source_lang, &target_lang, &text);
                sqlx::query(SET_TERMS).bind(D::keys(&keys)).bind(id).execute(&mut *tx).await?;
                done += 1;
            }
            tx.commit().await?;
        }
    }

    pub(crate) async fn export(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MemoryEntry>> {
        let limit = export_limit(limit)?;
        let (_, _, scope_id) = owner_columns(Self::owner_of(b, caller, scope).await?);
        let rows: Vec<EntryRow<D::Time>> = sqlx::query_as(EXPORT)
            .bind(scope_id)
            .bind(after.unwrap_or(0))
            .bind(limit)
            .fetch_all(b.reader())
            .await?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    pub(crate) async fn count(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
    ) -> StoreResult<u64> {
        let (_, _, scope_id) = owner_columns(Self::owner_of(b, caller, scope).await?);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_entries WHERE scope_id = $1")
            .bind(scope_id)
            .fetch_one(b.reader())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(crate) async fn purge(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        scope: MemoryScope,
        job: Option<JobId>,
    ) -> StoreResult<u64> {
        let (_, _, scope_id) = owner_columns(Self::owner_of(b, caller, scope).await?);
        let mut tx = b.begin_write().await?;
        let done = match job {
            None => sqlx::query(DELETE_ALL).bind(scope_id).execute(&mut *tx).await?,
            Some(job) => {
                sqlx::query(DELETE_OF_JOB).bind(scope_id).bind(job.0).execute(&mut *tx).await?
            }
        };
        tx.commit().await?;
        let deleted = D::rows_affected(&done);
        if deleted > 0 {
            b.after_deletion().await;
        }
        Ok(deleted)
    }

    pub(crate) async fn set_job_memory(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        job: JobId,
        options: JobMemory,
    ) -> StoreResult<()> {
        if let MemoryScope::Team(t) = options.scope
            && !Self::is_member(b, t, caller).await?
        {
            return Err(StoreError::TeamNotFound(t));
        }
        let mut tx = b.begin_write().await?;
        Queries::<D>::check_visible(&mut tx, JobScope::from(caller), job).await?;
        let scope = options.scope.as_string();
        sqlx::query(SET_JOB_MEMORY)
            .bind(job.0)
            .bind(scope.as_str())
            .bind(options.keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn job_memory(
        b: &impl SqlBackend<Db = D>,
        job: JobId,
    ) -> StoreResult<JobMemory> {
        let row: Option<(String, bool)> =
            sqlx::query_as(JOB_MEMORY).bind(job.0).fetch_optional(b.reader()).await?;
        match row {
            Some((scope, keep)) => decode_job_memory(&scope, keep),
            None => Ok(JobMemory::default()),
        }
    }

    pub(crate) async fn delete_with_memory(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: JobId,
        keep: Option<bool>,
    ) -> StoreResult<Vec<BlobKey>> {
        let mut tx = b.begin_write().await?;
        Queries::<D>::check_visible(&mut tx, JobScope::from(caller), id).await?;
        let stored: Option<(bool,)> =
            sqlx::query_as(KEEP_MEMORY).bind(id.0).fetch_optional(&mut *tx).await?;
        if !keep.or(stored.map(|(k,)| k)).unwrap_or(false) {
            sqlx::query(DELETE_JOB_ENTRIES).bind(id.0).execute(&mut *tx).await?;
        }
        let deleted = Queries::<D>::delete_job(&mut tx, id).await?;
        tx.commit().await?;
        b.after_deletion().await;
        Ok(deleted.blob_keys())
    }
}

/// Writes `impl MemoryStore for $backend`: every method forwards to [`Memories`], except
/// `record_memory_for`, which forwards to the backend's own `record`.
macro_rules! impl_memory_store {
    ($backend:ty, $db:ty) => {
        impl $crate::memory::MemoryStore for $backend {
            fn memory_exact_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
                source_lang: &'a ::tradia_core::LanguageTag,
                target_lang: &'a ::tradia_core::LanguageTag,
                sources: &'a [::tradia_core::Content],
            ) -> ::tradia_core::BoxFuture<
                'a,
                $crate::StoreResult<Vec<Option<$crate::model::MemoryEntry>>>,
            > {
                Box::pin($crate::sql::Memories::<$db>::exact(
                    self,
                    caller,
                    scope,
                    (source_lang, target_lang),
                    sources,
                ))
            }

            fn memory_fuzzy_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
                source_lang: &'a ::tradia_core::LanguageTag,
                target_lang: &'a ::tradia_core::LanguageTag,
                source: &'a ::tradia_core::Content,
                limit: usize,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Vec<$crate::model::MemoryEntry>>>
            {
                Box::pin($crate::sql::Memories::<$db>::fuzzy(
                    self,
                    caller,
                    scope,
                    (source_lang, target_lang),
                    source,
                    limit,
                ))
            }

            fn record_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
                entries: Vec<$crate::model::NewMemoryEntry>,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<u64>> {
                Box::pin(self.record(caller, scope, entries))
            }

            fn export_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
                after: Option<i64>,
                limit: u32,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Vec<$crate::model::MemoryEntry>>>
            {
                Box::pin($crate::sql::Memories::<$db>::export(self, caller, scope, after, limit))
            }

            fn count_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Memories::<$db>::count(self, caller, scope))
            }

            fn purge_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                scope: $crate::model::MemoryScope,
                job: Option<$crate::model::JobId>,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Memories::<$db>::purge(self, caller, scope, job))
            }

            fn set_job_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                job: $crate::model::JobId,
                options: $crate::model::JobMemory,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Memories::<$db>::set_job_memory(self, caller, job, options))
            }

            fn job_memory(
                &self,
                job: $crate::model::JobId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::JobMemory>> {
                Box::pin($crate::sql::Memories::<$db>::job_memory(self, job))
            }

            fn delete_job_with_memory_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::JobId,
                keep: Option<bool>,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Vec<$crate::blob::BlobKey>>> {
                Box::pin($crate::sql::Memories::<$db>::delete_with_memory(self, caller, id, keep))
            }
        }
    };
}
pub(crate) use impl_memory_store;
