//! Glossary rows as both backends read them, and the checks on glossaries on their way in.

use std::collections::HashSet;

use tradia_core::{LanguageTag, Term};
use uuid::Uuid;

use super::StoredTime;
use super::account_rows::check_name;
use super::rows::corrupt;
use crate::error::StoreError;
use crate::model::{
    Glossary, GlossaryId, MAX_GLOSSARY_ENTRIES, MAX_NOTE_CHARS, MAX_TERM_CHARS, Owner, TeamId,
    UserId,
};

/// The columns of [`GlossaryRow`] from `glossaries` aliased `g`, as a literal for `concat!`.
macro_rules! glossary_columns {
    () => {
        "g.id, g.owner_user, g.owner_team, g.name, g.source_lang, g.target_lang, g.is_default, \
         g.created_at, g.updated_at, \
         (SELECT COUNT(*) FROM glossary_entries e WHERE e.glossary_id = g.id) AS entry_count"
    };
}
pub(crate) use glossary_columns;

/// A `glossaries` row with its entry count.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GlossaryRow<T> {
    pub id: Uuid,
    pub owner_user: Option<Uuid>,
    pub owner_team: Option<Uuid>,
    pub name: String,
    pub source_lang: String,
    pub target_lang: String,
    pub is_default: bool,
    pub created_at: T,
    pub updated_at: T,
    pub entry_count: i64,
}

impl<T: StoredTime> GlossaryRow<T> {
    pub(crate) fn into_glossary(self) -> Result<Glossary, StoreError> {
        let owner = match (self.owner_user, self.owner_team) {
            (Some(user), None) => Owner::User(UserId(user)),
            (None, Some(team)) => Owner::Team(TeamId(team)),
            _ => return Err(corrupt("owner_user", "both or neither owner columns set")),
        };
        let lang = |column: &str, value: &str| {
            LanguageTag::parse(value).map_err(|_| corrupt(column, value))
        };
        Ok(Glossary {
            id: GlossaryId(self.id),
            owner,
            name: self.name,
            source_lang: lang("source_lang", &self.source_lang)?,
            target_lang: lang("target_lang", &self.target_lang)?,
            is_default: self.is_default,
            entry_count: u64::try_from(self.entry_count)
                .map_err(|_| corrupt("entry_count", self.entry_count))?,
            created_at: self.created_at.into_time("created_at")?,
            updated_at: self.updated_at.into_time("updated_at")?,
        })
    }
}

/// A `glossary_entries` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EntryRow {
    pub source_term: String,
    pub target_term: String,
    pub do_not_translate: bool,
    pub case_sensitive: bool,
    pub note: Option<String>,
}

impl EntryRow {
    pub(crate) fn into_term(self) -> Term {
        Term {
            source: self.source_term,
            target: self.target_term,
            do_not_translate: self.do_not_translate,
            case_sensitive: self.case_sensitive,
            note: self.note,
        }
    }
}

/// The owner columns (`owner_user`, `owner_team`) of `owner`.
pub(crate) fn owner_columns(owner: Owner) -> (Option<Uuid>, Option<Uuid>) {
    match owner {
        Owner::User(user) => (Some(user.0), None),
        Owner::Team(team) => (None, Some(team.0)),
    }
}

/// Checks a glossary's name and languages.
pub(crate) fn check_glossary(
    name: &str,
    source: &LanguageTag,
    target: &LanguageTag,
) -> Result<(), StoreError> {
    check_name("glossary name", name)?;
    if source.same_language(target) {
        return Err(StoreError::Invalid(format!(
            "a glossary translates between two languages, not {source} to {target}"
        )));
    }
    Ok(())
}

/// Checks entries (count, lengths, duplicates) and returns them with a do-not-translate entry's
/// target set to its source.
pub(crate) fn check_entries(entries: Vec<Term>) -> Result<Vec<Term>, StoreError> {
    if entries.len() > MAX_GLOSSARY_ENTRIES {
        return Err(StoreError::Invalid(format!(
            "a glossary holds at most {MAX_GLOSSARY_ENTRIES} entries, not {}",
            entries.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (i, mut term) in entries.into_iter().enumerate() {
        let n = i + 1;
        term.source = term.source.trim().to_string();
        term.target = term.target.trim().to_string();
        if term.do_not_translate {
            term.target = term.source.clone();
        }
        for (what, text) in [("source", &term.source), ("target", &term.target)] {
            let chars = text.chars().count();
            if chars == 0 || chars > MAX_TERM_CHARS {
                return Err(StoreError::Invalid(format!(
                    "entry {n}: a {what} term has 1 to {MAX_TERM_CHARS} characters, not {chars}"
                )));
            }
            if text.chars().any(char::is_control) {
                return Err(StoreError::Invalid(format!(
                    "entry {n}: a {what} term has no control character"
                )));
            }
        }
        if let Some(note) = &term.note {
            let chars = note.chars().count();
            if chars > MAX_NOTE_CHARS {
                return Err(StoreError::Invalid(format!(
                    "entry {n}: a note has at most {MAX_NOTE_CHARS} characters, not {chars}"
                )));
            }
        }
        term.note = term.note.filter(|note| !note.trim().is_empty());
        let key =
            if term.case_sensitive { term.source.clone() } else { term.source.to_lowercase() };
        if !seen.insert((term.case_sensitive, key)) {
            return Err(StoreError::Invalid(format!(
                "entry {n}: the source term `{}` is given twice",
                term.source
            )));
        }
        out.push(term);
    }
    Ok(out)
}
