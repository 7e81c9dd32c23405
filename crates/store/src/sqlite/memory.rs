//! [`MemoryStore`](crate::MemoryStore) on SQLite: what differs from PostgreSQL. Term keys are
//! bound and stored as a JSON array (read in statements with `json_each`), and a batch is
//! written row by row (one writer, no lock order to keep; the triggers of the
//! `memory_terms` migration fill the word index). Everything else is
//! [`Memories`](crate::sql::Memories).

use sqlx::{Sqlite, SqliteConnection};

use super::{SqliteStore, UnixMillis};
use crate::error::StoreError;
use crate::memory::shared::{check_entry, entry_columns, fuzzy_text, key_hash, owner_columns};
use crate::memory::terms::{Chosen, keys_json, term_keys};
use crate::model::{Caller, MemoryScope, NewMemoryEntry};
use crate::sql::{Memories, MemoryDialect, StoredTime, impl_memory_store, now};
use crate::store::StoreResult;

/// Upsert of one entry ($1 owner_user, $2 owner_team, $3 scope_id, $4 source_lang,
/// $5 target_lang, $6 key_hash, $7 source_key, $8 source, $9 target, $10 origin, $11 model,
/// $12 prompt_version, $13 job_id, $14 created_at, $15 terms).
const UPSERT: &str = "INSERT INTO memory_entries (owner_user, owner_team, scope_id, \
     source_lang, target_lang, key_hash, source_key, source, target, origin, model, \
     prompt_version, job_id, created_at, terms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (scope_id, source_lang, target_lang, key_hash) DO UPDATE SET \
     source_key = excluded.source_key, source = excluded.source, target = excluded.target, \
     origin = excluded.origin, model = excluded.model, prompt_version = excluded.prompt_version, \
     job_id = excluded.job_id, created_at = excluded.created_at, terms = excluded.terms";

/// The ids of the entries posted under the term `$1`, newest first, at most `$2` of them, as
/// one comma-separated text (NULL when there are none).
const POSTINGS: &str = "SELECT group_concat(entry_id) FROM \
     (SELECT entry_id FROM memory_postings WHERE term_key = $1 ORDER BY entry_id DESC LIMIT $2)";

/// Entry ids as [`POSTINGS`] returns them: comma-separated decimal text, `None` when
/// the term has no posting. Anything else is a store fault.
fn parse_ids(text: Option<&str>) -> Result<Vec<i64>, std::num::ParseIntError> {
    match text {
        None | Some("") => Ok(Vec::new()),
        Some(text) => text.split(',').map(str::parse).collect(),
    }
}

impl MemoryDialect for Sqlite {
    type Keys = String;

    fn keys(keys: &[i64]) -> String {
        keys_json(keys)
    }

    const TERM_DF: &'static str = "SELECT term_key, df FROM memory_term_df \
         WHERE term_key IN (SELECT value FROM json_each($1))";

    const ENTRIES: &'static str = concat!(
        "SELECT ",
        entry_columns!(),
        " FROM json_each($1) k CROSS JOIN memory_entries e ON e.id = k.value \
         WHERE e.scope_id = $2 AND e.source_lang = $3 AND e.target_lang = $4"
    );

    /// One statement per term: SQLite is in the process, a statement costs no round trip (and
    /// its `LIMIT` cannot read a column of an enclosing query).
    async fn postings(conn: &mut SqliteConnection, chosen: &Chosen) -> StoreResult<Vec<Vec<i64>>> {
        let mut lists = Vec::with_capacity(chosen.keys.len());
        for (key, limit) in chosen.keys.iter().zip(&chosen.limits) {
            let (ids,): (Option<String>,) =
                sqlx::query_as(POSTINGS).bind(*key).bind(*limit).fetch_one(&mut *conn).await?;
            lists.push(parse_ids(ids.as_deref()).map_err(|e| {
                StoreError::Corrupt(format!("memory postings are not entry ids: {e}"))
            })?);
        }
        Ok(lists)
    }
}

impl SqliteStore {
    async fn record(
        &self,
        caller: &Caller,
        scope: MemoryScope,
        entries: Vec<NewMemoryEntry>,
    ) -> StoreResult<u64> {
        entries.iter().try_for_each(check_entry)?;
        let owner = Memories::<Sqlite>::owner_of(self, caller, scope).await?;
        let (user, team, scope_id) = owner_columns(owner);
        let at = UnixMillis::from_time(now());
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut written = 0;
        for e in &entries {
            let text = fuzzy_text(&e.source);
            let terms = term_keys(scope_id, e.source_lang.as_str(), e.target_lang.as_str(), &text);
            written += sqlx::query(UPSERT)
                .bind(user)
                .bind(team)
                .bind(scope_id)
                .bind(e.source_lang.as_str())
                .bind(e.target_lang.as_str())
                .bind(key_hash(&e.source))
                .bind(text)
                .bind(e.source.render())
                .bind(e.target.render())
                .bind(e.origin.as_str())
                .bind(e.model.as_deref())
                .bind(e.prompt_version.as_deref())
                .bind(e.job.map(|j| j.0))
                .bind(at)
                .bind(keys_json(&terms))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }
}

impl_memory_store!(SqliteStore, Sqlite);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_their_text() {
        assert_eq!(parse_ids(Some("12,7,-3")).unwrap(), vec![12, 7, -3]);
        assert_eq!(parse_ids(Some("5")).unwrap(), vec![5]);
        assert_eq!(parse_ids(None).unwrap(), Vec::<i64>::new());
        assert_eq!(parse_ids(Some("")).unwrap(), Vec::<i64>::new());
        assert!(parse_ids(Some("1,x")).is_err());
    }
}
