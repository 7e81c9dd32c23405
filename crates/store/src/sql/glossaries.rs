//! [`GlossaryStore`](crate::GlossaryStore) for both backends, written once (like the account
//! statements: generic over the database, with a macro writing each backend's trait impl).
//!
//! Scoping: every statement that reads or changes a glossary carries the caller's id and keeps
//! only the glossaries owned by them or by a team they belong to (`readable!`); anything else
//! is not found.

use std::marker::PhantomData;

use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};
use tradia_core::{LanguageTag, Term};
use uuid::Uuid;

use super::glossary_rows::{
    EntryRow, GlossaryRow, check_entries, check_glossary, glossary_columns, owner_columns,
};
use super::{Dialect, SqlBackend, StoredTime, now};
use crate::error::StoreError;
use crate::model::{
    Caller, Glossary, GlossaryId, GlossaryUpdate, JobGuidance, MAX_BRIEF_CHARS,
    MAX_INSTRUCTIONS_CHARS, NewGlossary, Owner,
};
use crate::store::StoreResult;

/// The shared glossary operations for one dialect.
pub(crate) struct Glossaries<D>(PhantomData<D>);

/// The condition that keeps the glossaries `g` the caller (`$1`) may read.
macro_rules! readable {
    () => {
        "(g.owner_user = $1 OR g.owner_team IN \
         (SELECT team_id FROM team_members WHERE user_id = $1))"
    };
}

const GLOSSARY_FOR: &str =
    concat!("SELECT ", glossary_columns!(), " FROM glossaries g WHERE g.id = $2 AND ", readable!());

const GLOSSARIES_FOR: &str = concat!(
    "SELECT ",
    glossary_columns!(),
    " FROM glossaries g WHERE ",
    readable!(),
    " ORDER BY (g.owner_user IS NULL), g.name, g.id"
);

const DEFAULTS_FOR: &str = concat!(
    "SELECT ",
    glossary_columns!(),
    " FROM glossaries g WHERE g.is_default AND ",
    readable!(),
    " ORDER BY (g.owner_user IS NULL), g.id"
);

const IS_MEMBER: &str = "SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND user_id = $2";

const INSERT_GLOSSARY: &str = "INSERT INTO glossaries (id, owner_user, owner_team, name, \
     source_lang, target_lang, is_default, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

const UPDATE_GLOSSARY: &str =
    "UPDATE glossaries SET name = $2, is_default = $3, updated_at = $4 WHERE id = $1";

/// Clears the default flag of the owner's other glossaries of the pair (`$1` the one kept).
const CLEAR_OTHER_DEFAULTS: &str = "UPDATE glossaries SET is_default = FALSE \
     WHERE id <> $1 AND is_default AND source_lang = $2 AND target_lang = $3 \
     AND ((owner_user IS NOT NULL AND owner_user = $4) OR (owner_team IS NOT NULL AND owner_team = $5))";

const INSERT_ENTRY: &str = "INSERT INTO glossary_entries (glossary_id, position, source_term, \
     target_term, do_not_translate, case_sensitive, note) VALUES ($1, $2, $3, $4, $5, $6, $7)";

const ENTRIES: &str = "SELECT source_term, target_term, do_not_translate, case_sensitive, note \
     FROM glossary_entries WHERE glossary_id = $1 ORDER BY position";

const DELETE_ENTRIES: &str = "DELETE FROM glossary_entries WHERE glossary_id = $1";

const DELETE_GLOSSARY: &str = "DELETE FROM glossaries WHERE id = $1";

/// Sets the guidance of job `$2` when the caller (`$1`) owns it.
const SET_JOB_GUIDANCE: &str = "INSERT INTO job_guidance (job_id, glossary_id, formality, \
     instructions, brief) SELECT id, $3, $4, $5, $6 FROM jobs WHERE id = $2 AND owner = $1 \
     ON CONFLICT (job_id) DO UPDATE SET glossary_id = excluded.glossary_id, \
     formality = excluded.formality, instructions = excluded.instructions, \
     brief = excluded.brief";

/// A `job_guidance` row: glossary id, formality, instructions, brief.
type GuidanceRow = (Option<Uuid>, String, Option<String>, Option<String>);

const JOB_GUIDANCE: &str =
    "SELECT glossary_id, formality, instructions, brief FROM job_guidance WHERE job_id = $1";

fn parse_formality(s: &str) -> StoreResult<tradia_core::Formality> {
    tradia_core::Formality::from_name(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown stored formality `{s}`")))
}

impl<D> Glossaries<D>
where
    D: Dialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> bool: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> D::Time: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<Uuid>: Encode<'q, D> + Type<D>,
    for<'r> GlossaryRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> EntryRow: FromRow<'r, D::Row>,
    for<'r> (i64,): FromRow<'r, D::Row>,
{
    async fn readable(
        conn: &mut D::Connection,
        caller: &Caller,
        id: GlossaryId,
    ) -> StoreResult<Glossary> {
        let row: Option<GlossaryRow<D::Time>> = sqlx::query_as(GLOSSARY_FOR)
            .bind(caller.user.0)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
        row.ok_or(StoreError::GlossaryNotFound(id))?.into_glossary()
    }

    async fn write_entries(
        conn: &mut D::Connection,
        id: GlossaryId,
        entries: &[Term],
    ) -> StoreResult<()> {
        sqlx::query(DELETE_ENTRIES).bind(id.0).execute(&mut *conn).await?;
        for (position, term) in (0i64..).zip(entries) {
            sqlx::query(INSERT_ENTRY)
                .bind(id.0)
                .bind(position)
                .bind(term.source.as_str())
                .bind(term.target.as_str())
                .bind(term.do_not_translate)
                .bind(term.case_sensitive)
                .bind(term.note.as_deref())
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    async fn clear_other_defaults(conn: &mut D::Connection, g: &Glossary) -> StoreResult<()> {
        let (user, team) = owner_columns(g.owner);
        sqlx::query(CLEAR_OTHER_DEFAULTS)
            .bind(g.id.0)
            .bind(g.source_lang.as_str())
            .bind(g.target_lang.as_str())
            .bind(user)
            .bind(team)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub(crate) async fn create_glossary_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        glossary: NewGlossary,
    ) -> StoreResult<Glossary> {
        check_glossary(&glossary.name, &glossary.source_lang, &glossary.target_lang)?;
        let entries = check_entries(glossary.entries)?;
        let mut tx = b.begin_write().await?;
        match glossary.owner {
            Owner::User(user) if user == caller.user => {}
            Owner::User(user) => return Err(StoreError::UserNotFound(user)),
            Owner::Team(team) => {
                let (n,): (i64,) = sqlx::query_as(IS_MEMBER)
                    .bind(team.0)
                    .bind(caller.user.0)
                    .fetch_one(&mut *tx)
                    .await?;
                if n == 0 {
                    return Err(StoreError::TeamNotFound(team));
                }
            }
        }
        let id = GlossaryId::new();
        let (user, team) = owner_columns(glossary.owner);
        sqlx::query(INSERT_GLOSSARY)
            .bind(id.0)
            .bind(user)
            .bind(team)
            .bind(glossary.name.as_str())
            .bind(glossary.source_lang.as_str())
            .bind(glossary.target_lang.as_str())
            .bind(glossary.is_default)
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await?;
        Self::write_entries(&mut tx, id, &entries).await?;
        let created = Self::readable(&mut tx, caller, id).await?;
        if created.is_default {
            Self::clear_other_defaults(&mut tx, &created).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    pub(crate) async fn list_glossaries_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
    ) -> StoreResult<Vec<Glossary>> {
        let rows: Vec<GlossaryRow<D::Time>> =
            sqlx::query_as(GLOSSARIES_FOR).bind(caller.user.0).fetch_all(b.reader()).await?;
        rows.into_iter().map(GlossaryRow::into_glossary).collect()
    }

    pub(crate) async fn get_glossary_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: GlossaryId,
    ) -> StoreResult<Glossary> {
        Self::readable(&mut *b.reader().acquire().await?, caller, id).await
    }

    pub(crate) async fn glossary_entries_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: GlossaryId,
    ) -> StoreResult<(Glossary, Vec<Term>)> {
        // One transaction, so the entries are those of the glossary read.
        let mut tx = b.reader().begin().await?;
        let glossary = Self::readable(&mut tx, caller, id).await?;
        let rows: Vec<EntryRow> = sqlx::query_as(ENTRIES).bind(id.0).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok((glossary, rows.into_iter().map(EntryRow::into_term).collect()))
    }

    pub(crate) async fn update_glossary_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: GlossaryId,
        update: GlossaryUpdate,
    ) -> StoreResult<Glossary> {
        let entries = update.entries.map(check_entries).transpose()?;
        let mut tx = b.begin_write().await?;
        let before = Self::readable(&mut tx, caller, id).await?;
        let name = update.name.unwrap_or_else(|| before.name.clone());
        check_glossary(&name, &before.source_lang, &before.target_lang)?;
        let is_default = update.is_default.unwrap_or(before.is_default);
        sqlx::query(UPDATE_GLOSSARY)
            .bind(id.0)
            .bind(name.as_str())
            .bind(is_default)
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await?;
        if let Some(entries) = entries {
            Self::write_entries(&mut tx, id, &entries).await?;
        }
        let after = Self::readable(&mut tx, caller, id).await?;
        if after.is_default {
            Self::clear_other_defaults(&mut tx, &after).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn delete_glossary_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: GlossaryId,
    ) -> StoreResult<()> {
        let mut tx = b.begin_write().await?;
        Self::readable(&mut tx, caller, id).await?;
        // The entries go with the row (ON DELETE CASCADE).
        sqlx::query(DELETE_GLOSSARY).bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        b.after_deletion().await;
        Ok(())
    }

    pub(crate) async fn default_glossary_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        source: &LanguageTag,
        target: &LanguageTag,
    ) -> StoreResult<Option<Glossary>> {
        let rows: Vec<GlossaryRow<D::Time>> =
            sqlx::query_as(DEFAULTS_FOR).bind(caller.user.0).fetch_all(b.reader()).await?;
        for row in rows {
            let glossary = row.into_glossary()?;
            if glossary.source_lang.same_language(source)
                && glossary.target_lang.same_language(target)
            {
                return Ok(Some(glossary));
            }
        }
        Ok(None)
    }
}

impl<D> Glossaries<D>
where
    D: Dialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<Uuid>: Encode<'q, D> + Type<D>,
    for<'r> GlossaryRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> GuidanceRow: FromRow<'r, D::Row>,
{
    pub(crate) async fn set_job_guidance_for(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        job: crate::model::JobId,
        guidance: JobGuidance,
    ) -> StoreResult<()> {
        if let Some(text) = &guidance.instructions
            && text.chars().count() > MAX_INSTRUCTIONS_CHARS
        {
            return Err(StoreError::Invalid(format!(
                "instructions are longer than {MAX_INSTRUCTIONS_CHARS} characters"
            )));
        }
        if let Some(text) = &guidance.brief
            && text.chars().count() > MAX_BRIEF_CHARS
        {
            return Err(StoreError::Invalid(format!(
                "the brief is longer than {MAX_BRIEF_CHARS} characters"
            )));
        }
        let mut tx = b.begin_write().await?;
        if let Some(id) = guidance.glossary {
            let row: Option<GlossaryRow<D::Time>> = sqlx::query_as(GLOSSARY_FOR)
                .bind(caller.user.0)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            row.ok_or(StoreError::GlossaryNotFound(id))?;
        }
        let done = sqlx::query(SET_JOB_GUIDANCE)
            .bind(caller.user.0)
            .bind(job.0)
            .bind(guidance.glossary.map(|g| g.0))
            .bind(guidance.formality.as_str())
            .bind(guidance.instructions.as_deref())
            .bind(guidance.brief.as_deref())
            .execute(&mut *tx)
            .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound(job));
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn job_guidance(
        b: &impl SqlBackend<Db = D>,
        job: crate::model::JobId,
    ) -> StoreResult<JobGuidance> {
        let row: Option<GuidanceRow> =
            sqlx::query_as(JOB_GUIDANCE).bind(job.0).fetch_optional(b.reader()).await?;
        match row {
            None => Ok(JobGuidance::default()),
            Some((glossary, formality, instructions, brief)) => Ok(JobGuidance {
                glossary: glossary.map(GlossaryId),
                formality: parse_formality(&formality)?,
                instructions,
                brief,
            }),
        }
    }
}

/// Implements [`GlossaryStore`](crate::GlossaryStore) for `$backend` (a `SqlBackend` whose
/// database is `$db`) by forwarding every method to [`Glossaries`].
macro_rules! impl_glossary_store {
    ($backend:ty, $db:ty) => {
        impl $crate::glossaries::GlossaryStore for $backend {
            fn create_glossary_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                glossary: $crate::model::NewGlossary,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::Glossary>> {
                Box::pin($crate::sql::Glossaries::<$db>::create_glossary_for(
                    self, caller, glossary,
                ))
            }

            fn list_glossaries_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Vec<$crate::model::Glossary>>>
            {
                Box::pin($crate::sql::Glossaries::<$db>::list_glossaries_for(self, caller))
            }

            fn get_glossary_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::GlossaryId,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::Glossary>> {
                Box::pin($crate::sql::Glossaries::<$db>::get_glossary_for(self, caller, id))
            }

            fn glossary_entries_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::GlossaryId,
            ) -> ::tradia_core::BoxFuture<
                'a,
                $crate::StoreResult<($crate::model::Glossary, Vec<::tradia_core::Term>)>,
            > {
                Box::pin($crate::sql::Glossaries::<$db>::glossary_entries_for(self, caller, id))
            }

            fn update_glossary_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::GlossaryId,
                update: $crate::model::GlossaryUpdate,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::Glossary>> {
                Box::pin($crate::sql::Glossaries::<$db>::update_glossary_for(
                    self, caller, id, update,
                ))
            }

            fn delete_glossary_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::GlossaryId,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Glossaries::<$db>::delete_glossary_for(self, caller, id))
            }

            fn default_glossary_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                source: &'a ::tradia_core::LanguageTag,
                target: &'a ::tradia_core::LanguageTag,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Option<$crate::model::Glossary>>>
            {
                Box::pin($crate::sql::Glossaries::<$db>::default_glossary_for(
                    self, caller, source, target,
                ))
            }

            fn set_job_guidance_for<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                job: $crate::model::JobId,
                guidance: $crate::model::JobGuidance,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Glossaries::<$db>::set_job_guidance_for(
                    self, caller, job, guidance,
                ))
            }

            fn job_guidance(
                &self,
                job: $crate::model::JobId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::JobGuidance>> {
                Box::pin($crate::sql::Glossaries::<$db>::job_guidance(self, job))
            }
        }
    };
}
pub(crate) use impl_glossary_store;
