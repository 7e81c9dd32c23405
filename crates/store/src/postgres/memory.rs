//! [`MemoryStore`] on PostgreSQL: the exact index, `pg_trgm` candidates, scoped writes.

use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use tradia_core::{BoxFuture, Content, LanguageTag};
use uuid::Uuid;

use super::PgStore;
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::memory::MemoryStore;
use crate::memory::shared::{
    EXACT, EXPORT, EntryRow, IS_MEMBER, TEAMS_OF, UPSERT, check_entry, decode_job_memory,
    entry_columns, export_limit, fuzzy_limit, fuzzy_text, key_hash, owner_columns, write_owner,
};
use crate::model::{
    Caller, JobId, JobMemory, MemoryEntry, MemoryOwner, MemoryScope, NewMemoryEntry, TeamId,
};
use crate::sql::{JobScope, now};
use crate::store::StoreResult;

/// Candidates of one scope: `%` is pg_trgm's similarity operator (threshold
/// `pg_trgm.similarity_threshold`, 0.3 by default), answered from the GIN index.
const FUZZY: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM memory_entries e WHERE e.scope_id = $2 AND e.source_lang = $3 \
     AND e.target_lang = $4 AND e.source_key OPERATOR(public.%) $1 \
     ORDER BY public.similarity(e.source_key, $1) DESC LIMIT $5"
);

type Queries = crate::sql::Queries<Postgres>;

impl PgStore {
    async fn is_member(&self, team: TeamId, caller: &Caller) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(IS_MEMBER)
            .bind(team.0)
            .bind(caller.user.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The owner ids `scope` reads, in priority order.
    async fn read_scopes(&self, caller: &Caller, scope: MemoryScope) -> StoreResult<Vec<Uuid>> {
        Ok(match scope {
            MemoryScope::Off => Vec::new(),
            MemoryScope::Own => vec![caller.user.0],
            MemoryScope::Teams => {
                let mut ids = vec![caller.user.0];
                let teams: Vec<Uuid> =
                    sqlx::query_scalar(TEAMS_OF).bind(caller.user.0).fetch_all(&self.pool).await?;
                ids.extend(teams);
                ids
            }
            MemoryScope::Team(t) => {
                if !self.is_member(t, caller).await? {
                    return Err(StoreError::TeamNotFound(t));
                }
                vec![t.0]
            }
        })
    }

    async fn owner_of(&self, caller: &Caller, scope: MemoryScope) -> StoreResult<MemoryOwner> {
        let member = match scope {
            MemoryScope::Team(t) => self.is_member(t, caller).await?,
            _ => false,
        };
        write_owner(caller, scope, |_| member)
    }

    async fn exact(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        langs: (&LanguageTag, &LanguageTag),
        sources: &[Content],
    ) -> StoreResult<Vec<Option<MemoryEntry>>> {
        let scopes = self.read_scopes(caller, scope).await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            let hash = key_hash(source);
            let mut found = None;
            for id in &scopes {
                let row: Option<EntryRow<OffsetDateTime>> = sqlx::query_as(EXACT)
                    .bind(id)
                    .bind(langs.0.as_str())
                    .bind(langs.1.as_str())
                    .bind(&hash)
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

    async fn fuzzy(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        langs: (&LanguageTag, &LanguageTag),
        source: &Content,
        limit: usize,
    ) -> StoreResult<Vec<MemoryEntry>> {
        let text = fuzzy_text(source);
        if text.chars().count() < 3 {
            return Ok(Vec::new());
        }
        let scopes = self.read_scopes(caller, scope).await?;
        let mut out = Vec::new();
        for id in &scopes {
            let rows: Vec<EntryRow<OffsetDateTime>> = sqlx::query_as(FUZZY)
                .bind(&text)
                .bind(id)
                .bind(langs.0.as_str())
                .bind(langs.1.as_str())
                .bind(fuzzy_limit(limit))
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                out.push(row.into_entry()?);
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn record(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        entries: Vec<NewMemoryEntry>,
    ) -> StoreResult<u64> {
        entries.iter().try_for_each(check_entry)?;
        let owner = self.owner_of(caller, scope).await?;
        let (user, team, scope_id) = owner_columns(owner);
        let at = now();
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for e in &entries {
            written += sqlx::query(UPSERT)
                .bind(user)
                .bind(team)
                .bind(scope_id)
                .bind(e.source_lang.as_str())
                .bind(e.target_lang.as_str())
                .bind(key_hash(&e.source))
                .bind(fuzzy_text(&e.source))
                .bind(e.source.render())
                .bind(e.target.render())
                .bind(e.origin.as_str())
                .bind(e.model.as_deref())
                .bind(e.prompt_version.as_deref())
                .bind(e.job.map(|j| j.0))
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn export(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MemoryEntry>> {
        let limit = export_limit(limit)?;
        let owner = self.owner_of(caller, scope).await?;
        let (_, _, scope_id) = owner_columns(owner);
        let rows: Vec<EntryRow<OffsetDateTime>> = sqlx::query_as(EXPORT)
            .bind(scope_id)
            .bind(after.unwrap_or(0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(EntryRow::into_entry).collect()
    }

    async fn count(&self, caller: &Caller, scope: MemoryScope) -> StoreResult<u64> {
        let owner = self.owner_of(caller, scope).await?;
        let (_, _, scope_id) = owner_columns(owner);
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_entries WHERE scope_id = $1")
            .bind(scope_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn purge(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        job: Option<JobId>,
    ) -> StoreResult<u64> {
        let owner = self.owner_of(caller, scope).await?;
        let (_, _, scope_id) = owner_columns(owner);
        let mut tx = self.pool.begin().await?;
        let done = match job {
            None => {
                sqlx::query("DELETE FROM memory_entries WHERE scope_id = $1")
                    .bind(scope_id)
                    .execute(&mut *tx)
                    .await?
            }
            Some(job) => {
                sqlx::query("DELETE FROM memory_entries WHERE scope_id = $1 AND job_id = $2")
                    .bind(scope_id)
                    .bind(job.0)
                    .execute(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn set_job_memory(
        &self,
        caller: &Caller,
        job: JobId,
        options: JobMemory,
    ) -> StoreResult<()> {
        if let MemoryScope::Team(t) = options.scope
            && !self.is_member(t, caller).await?
        {
            return Err(StoreError::TeamNotFound(t));
        }
        let mut tx = self.pool.begin().await?;
        Queries::check_visible(&mut tx, JobScope::from(caller), job).await?;
        sqlx::query(
            "INSERT INTO memory_job_options (job_id, memory_scope, keep_memory) \
             VALUES ($1, $2, $3) ON CONFLICT (job_id) DO UPDATE SET \
             memory_scope = excluded.memory_scope, keep_memory = excluded.keep_memory",
        )
        .bind(job.0)
        .bind(options.scope.as_string())
        .bind(options.keep)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_job_memory(&self, job: JobId) -> StoreResult<JobMemory> {
        let row: Option<(String, bool)> = sqlx::query_as(
            "SELECT memory_scope, keep_memory FROM memory_job_options WHERE job_id = $1",
        )
        .bind(job.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((scope, keep)) => decode_job_memory(&scope, keep),
            None => Ok(JobMemory::default()),
        }
    }

    async fn delete_with_memory(
        &self,
        caller: &Caller,
        id: JobId,
        keep: Option<bool>,
    ) -> StoreResult<Vec<BlobKey>> {
        let mut tx: Transaction<'static, Postgres> = self.pool.begin().await?;
        Queries::check_visible(&mut tx, JobScope::from(caller), id).await?;
        let stored: Option<bool> =
            sqlx::query_scalar("SELECT keep_memory FROM memory_job_options WHERE job_id = $1")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        if !keep.or(stored).unwrap_or(false) {
            sqlx::query("DELETE FROM memory_entries WHERE job_id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        let deleted = Queries::delete_job(&mut tx, id).await?;
        tx.commit().await?;
        Ok(deleted.blob_keys())
    }
}

impl MemoryStore for PgStore {
    fn memory_exact_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        source_lang: &'a LanguageTag,
        target_lang: &'a LanguageTag,
        sources: &'a [Content],
    ) -> BoxFuture<'a, StoreResult<Vec<Option<MemoryEntry>>>> {
        Box::pin(self.exact(caller, scope, (source_lang, target_lang), sources))
    }

    fn memory_fuzzy_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        source_lang: &'a LanguageTag,
        target_lang: &'a LanguageTag,
        source: &'a Content,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<MemoryEntry>>> {
        Box::pin(self.fuzzy(caller, scope, (source_lang, target_lang), source, limit))
    }

    fn record_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        entries: Vec<NewMemoryEntry>,
    ) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(self.record(caller, scope, entries))
    }

    fn export_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        after: Option<i64>,
        limit: u32,
    ) -> BoxFuture<'a, StoreResult<Vec<MemoryEntry>>> {
        Box::pin(self.export(caller, scope, after, limit))
    }

    fn count_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
    ) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(self.count(caller, scope))
    }

    fn purge_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        scope: MemoryScope,
        job: Option<JobId>,
    ) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(self.purge(caller, scope, job))
    }

    fn set_job_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        job: JobId,
        options: JobMemory,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(self.set_job_memory(caller, job, options))
    }

    fn job_memory(&self, job: JobId) -> BoxFuture<'_, StoreResult<JobMemory>> {
        Box::pin(self.get_job_memory(job))
    }

    fn delete_job_with_memory_for<'a>(
        &'a self,
        caller: &'a Caller,
        id: JobId,
        keep: Option<bool>,
    ) -> BoxFuture<'a, StoreResult<Vec<BlobKey>>> {
        Box::pin(self.delete_with_memory(caller, id, keep))
    }
}
