//! [`MemoryStore`](crate::MemoryStore) on PostgreSQL: what differs from SQLite. Term keys are
//! a `BIGINT[]`, and a batch is written in one statement (rows sorted by key), so that the
//! `memory_terms` migration's statement triggers change the postings and frequencies once per
//! batch and in key order: two jobs recording into one memory at once lock the same rows in the
//! same order and cannot deadlock. Everything else is [`Memories`](crate::sql::Memories).

use sqlx::Postgres;
use uuid::Uuid;

use super::PgStore;
use crate::memory::shared::{check_entry, fuzzy_text, key_hash, owner_columns};
use crate::memory::terms::term_keys;
use crate::model::{Caller, MemoryScope, NewMemoryEntry};
use crate::sql::{Memories, MemoryDialect, candidates, impl_memory_store, now};
use crate::store::StoreResult;

impl MemoryDialect for Postgres {
    type Keys = Vec<i64>;

    fn keys(keys: &[i64]) -> Vec<i64> {
        keys.to_vec()
    }

    const TERM_DF: &'static str =
        "SELECT term_key, df::BIGINT FROM memory_term_df WHERE term_key = ANY ($1)";

    const CANDIDATES: &'static str = candidates!(
        "(SELECT q.entry_id FROM unnest($1::BIGINT[]) k CROSS JOIN LATERAL \
          (SELECT entry_id FROM memory_postings WHERE term_key = k \
           ORDER BY entry_id DESC LIMIT $2) q)",
        "CROSS JOIN LATERAL (SELECT * FROM memory_entries x WHERE x.id = c.entry_id OFFSET 0) e"
    );
}

/// Upsert of a batch ($1 owner_user, $2 owner_team, $3 scope_id, $4 created_at, then one array
/// per column, terms as the text of a `BIGINT[]` since arrays of arrays must be rectangular).
const UPSERT_BATCH: &str = "INSERT INTO memory_entries (owner_user, owner_team, scope_id, \
     created_at, source_lang, target_lang, key_hash, source_key, source, target, origin, model, \
     prompt_version, job_id, terms) \
     SELECT $1, $2, $3, $4, u.source_lang, u.target_lang, u.key_hash, u.source_key, u.source, \
       u.target, u.origin, u.model, u.prompt_version, u.job_id, u.terms::BIGINT[] \
     FROM unnest($5::TEXT[], $6::TEXT[], $7::BYTEA[], $8::TEXT[], $9::TEXT[], $10::TEXT[], \
       $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::UUID[], $15::TEXT[]) \
       AS u(source_lang, target_lang, key_hash, source_key, source, target, origin, model, \
       prompt_version, job_id, terms) \
     ON CONFLICT (scope_id, source_lang, target_lang, key_hash) DO UPDATE SET \
     source_key = excluded.source_key, source = excluded.source, target = excluded.target, \
     origin = excluded.origin, model = excluded.model, prompt_version = excluded.prompt_version, \
     job_id = excluded.job_id, created_at = excluded.created_at, terms = excluded.terms";

/// One entry's columns, as the batch binds them.
struct Row {
    source_lang: String,
    target_lang: String,
    key_hash: Vec<u8>,
    source_key: String,
    source: String,
    target: String,
    origin: String,
    model: Option<String>,
    prompt_version: Option<String>,
    job_id: Option<Uuid>,
    terms: String,
}

impl Row {
    fn new(scope: Uuid, e: &NewMemoryEntry) -> Row {
        let text = fuzzy_text(&e.source);
        let terms = term_keys(scope, e.source_lang.as_str(), e.target_lang.as_str(), &text);
        let terms: Vec<String> = terms.iter().map(i64::to_string).collect();
        Row {
            source_lang: e.source_lang.as_str().to_string(),
            target_lang: e.target_lang.as_str().to_string(),
            key_hash: key_hash(&e.source),
            source_key: text,
            source: e.source.render(),
            target: e.target.render(),
            origin: e.origin.as_str().to_string(),
            model: e.model.clone(),
            prompt_version: e.prompt_version.clone(),
            job_id: e.job.map(|j| j.0),
            terms: format!("{{{}}}", terms.join(",")),
        }
    }
}

impl PgStore {
    async fn record(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        entries: Vec<NewMemoryEntry>,
    ) -> StoreResult<u64> {
        entries.iter().try_for_each(check_entry)?;
        let owner = Memories::<Postgres>::owner_of(self, caller, scope).await?;
        let (user, team, scope_id) = owner_columns(owner);
        let mut rows: Vec<Row> = entries.iter().map(|e| Row::new(scope_id, e)).collect();
        // One statement may not change a row twice: the last of the same key wins, as it would
        // row by row. Sorted by key, so that concurrent batches lock entries in one order.
        rows.reverse();
        rows.sort_by(|a, b| {
            (&a.source_lang, &a.target_lang, &a.key_hash).cmp(&(
                &b.source_lang,
                &b.target_lang,
                &b.key_hash,
            ))
        });
        rows.dedup_by(|b, a| {
            (&a.source_lang, &a.target_lang, &a.key_hash)
                == (&b.source_lang, &b.target_lang, &b.key_hash)
        });
        let column = |f: fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(UPSERT_BATCH)
            .bind(user)
            .bind(team)
            .bind(scope_id)
            .bind(now())
            .bind(column(|r| r.source_lang.clone()))
            .bind(column(|r| r.target_lang.clone()))
            .bind(rows.iter().map(|r| r.key_hash.clone()).collect::<Vec<Vec<u8>>>())
            .bind(column(|r| r.source_key.clone()))
            .bind(column(|r| r.source.clone()))
            .bind(column(|r| r.target.clone()))
            .bind(column(|r| r.origin.clone()))
            .bind(rows.iter().map(|r| r.model.clone()).collect::<Vec<Option<String>>>())
            .bind(rows.iter().map(|r| r.prompt_version.clone()).collect::<Vec<Option<String>>>())
            .bind(rows.iter().map(|r| r.job_id).collect::<Vec<Option<Uuid>>>())
            .bind(column(|r| r.terms.clone()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

impl_memory_store!(PgStore, Postgres);
