//! [`MemoryStore`](crate::MemoryStore) on PostgreSQL: what differs from SQLite. Term keys are
//! a `BIGINT[]`, and a batch is written in one statement (rows sorted by key), so that the
//! `memory_terms` migration's statement triggers change the postings and frequencies once per
//! batch and in key order: two jobs recording into one memory at once lock the same rows in the
//! same order and cannot deadlock. Everything else is [`Memories`](crate::sql::Memories).
//!
//! Every [`MEMORY_TIDY_EVERY`] entries this process writes, the memory's tables get a
//! `VACUUM (ANALYZE)` ([`PgStore::tidy_memory`]), awaited by the write that crossed the mark.
//! A lookup reads postings with index-only scans, which visit the table for every row until
//! `VACUUM` has marked its pages all-visible: at 1,000,000 freshly imported entries, fuzzy
//! lookups cost 15.8 ms p50 / 70 ms p99 before and 1.9 / 4.5 ms after. Autovacuum does the
//! same when it is on, but it can be off (it is, on the PostgreSQL of this project's CI
//! machine) or far behind a large TMX import; after one, this costs about a second per
//! 100,000 entries, as the map of pages already all-visible lets `VACUUM` skip the rest.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use super::PgStore;
use crate::memory::shared::{check_entry, entry_columns, fuzzy_text, key_hash, owner_columns};
use crate::memory::terms::{Chosen, term_keys};
use crate::model::{Caller, MemoryScope, NewMemoryEntry};
use crate::sql::{Memories, MemoryDialect, impl_memory_store, now};
use crate::store::StoreResult;

/// The postings of the terms `$1` (a `BIGINT[]`), at most `$2[i]` of the `i`-th (newest first),
/// one row per term in their order. Each term's are a backward index-only scan of the primary
/// key with its own `LIMIT`, a lateral subquery per term.
const POSTINGS: &str = "SELECT p.ids FROM unnest($1::BIGINT[], $2::BIGINT[]) WITH ORDINALITY \
       AS t(term_key, n, i) \
     CROSS JOIN LATERAL (SELECT array_agg(q.entry_id) AS ids FROM (SELECT entry_id \
       FROM memory_postings m WHERE m.term_key = t.term_key ORDER BY entry_id DESC LIMIT t.n) q) p \
     ORDER BY t.i";

impl MemoryDialect for Postgres {
    type Keys = Vec<i64>;

    fn keys(keys: &[i64]) -> Vec<i64> {
        keys.to_vec()
    }

    const TERM_DF: &'static str =
        "SELECT term_key, df::BIGINT FROM memory_term_df WHERE term_key = ANY ($1)";

    const ENTRIES: &'static str = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM unnest($1::BIGINT[]) k \
         CROSS JOIN LATERAL (SELECT * FROM memory_entries x WHERE x.id = k OFFSET 0) e \
         WHERE e.scope_id = $2 AND e.source_lang = $3 AND e.target_lang = $4"
    );

    /// All the terms in one statement, one round trip, their ids as binary `BIGINT[]`s.
    async fn postings(conn: &mut PgConnection, chosen: &Chosen) -> StoreResult<Vec<Vec<i64>>> {
        let rows: Vec<(Option<Vec<i64>>,)> = sqlx::query_as(POSTINGS)
            .bind(&chosen.keys)
            .bind(&chosen.limits)
            .fetch_all(conn)
            .await?;
        Ok(rows.into_iter().map(|(ids,)| ids.unwrap_or_default()).collect())
    }
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

/// Entries written by one process between two tidy-ups of the memory's tables.
pub const MEMORY_TIDY_EVERY: u64 = 100_000;

/// Counts the entries written, to know when the tables are due for a tidy-up.
#[derive(Debug)]
pub(crate) struct Tidy {
    every: u64,
    written: AtomicU64,
}

impl Default for Tidy {
    fn default() -> Self {
        Tidy::new(MEMORY_TIDY_EVERY)
    }
}

impl Tidy {
    /// Due every `every` entries written (never when 0).
    fn new(every: u64) -> Self {
        Tidy { every, written: AtomicU64::new(0) }
    }

    /// Counts `n` entries written; true when they crossed a multiple of `every` (never when
    /// `every` is 0).
    fn due(&self, n: u64) -> bool {
        if self.every == 0 {
            return false;
        }
        let before = self.written.fetch_add(n, Ordering::Relaxed);
        (before + n) / self.every > before / self.every
    }
}

impl PgStore {
    /// This store with its memory's tables tidied up every `entries` entries written (0:
    /// never, leaving it to autovacuum) instead of every [`MEMORY_TIDY_EVERY`].
    pub fn with_memory_tidy_every(mut self, entries: u64) -> Self {
        self.memory_tidy = std::sync::Arc::new(Tidy::new(entries));
        self
    }

    /// `VACUUM (ANALYZE)` of the memory's tables: their pages marked all-visible (a posting is
    /// then read from the index alone) and their statistics renewed. Takes no lock that
    /// writers or readers wait for.
    pub async fn tidy_memory(&self) -> StoreResult<()> {
        sqlx::query("VACUUM (ANALYZE) memory_entries, memory_postings, memory_term_df")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

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
        if self.memory_tidy.due(done.rows_affected())
            && let Err(e) = self.tidy_memory().await
        {
            // The entries are written; only later lookups stay slower until autovacuum runs.
            tracing::warn!(error = %e, "the translation memory's tables could not be vacuumed");
        }
        Ok(done.rows_affected())
    }
}

impl_memory_store!(PgStore, Postgres);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tidy_up_is_due_each_time_the_count_crosses_a_multiple() {
        let tidy = Tidy::new(25);
        let due: Vec<bool> = [10, 10, 10, 3, 1, 50, 0].iter().map(|&n| tidy.due(n)).collect();
        assert_eq!(due, [false, false, true, false, false, true, false]);
        let never = Tidy::new(0);
        assert!(!never.due(1_000_000));
    }
}
