//! What both backends' memory code shares: keys, the fuzzy index's text, checks on the way in,
//! and the row decoding (the operations themselves are in `sql/memory.rs`).

use sha2::{Digest, Sha256};
use tradia_core::Content;
use tradia_core::memory::{memory_key, normalise_text};
use uuid::Uuid;

use super::MAX_MEMORY_TEXT_BYTES;
use crate::error::StoreError;
use crate::model::{
    Caller, JobId, MemoryEntry, MemoryOrigin, MemoryOwner, MemoryScope, NewMemoryEntry, TeamId,
    UserId,
};
use crate::sql::{StoredTime, corrupt};
use crate::store::StoreResult;

/// The columns of [`EntryRow`], as a literal for `concat!`.
macro_rules! entry_columns {
    () => {
        "e.id, e.owner_user, e.owner_team, e.source_lang, e.target_lang, e.source, e.target, \
         e.origin, e.model, e.prompt_version, e.job_id, e.created_at"
    };
}
pub(crate) use entry_columns;

/// Members of a team: is the caller one?
pub(crate) const IS_MEMBER: &str =
    "SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND user_id = $2";

/// The teams of a user.
pub(crate) const TEAMS_OF: &str =
    "SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id";

/// Exact lookup in one scope.
pub(crate) const EXACT: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM memory_entries e WHERE e.scope_id = $1 AND e.source_lang = $2 \
     AND e.target_lang = $3 AND e.key_hash = $4"
);

/// Export of one scope, in id order.
pub(crate) const EXPORT: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM memory_entries e WHERE e.scope_id = $1 AND e.id > $2 ORDER BY e.id LIMIT $3"
);

/// SHA-256 of the exact key of a core.
pub(crate) fn key_hash(core: &Content) -> Vec<u8> {
    Sha256::digest(memory_key(core).as_bytes()).to_vec()
}

/// What the fuzzy index holds of a core: its plain text, whitespace collapsed.
pub(crate) fn fuzzy_text(core: &Content) -> String {
    normalise_text(&core.plain_text())
}

/// Checks an entry on its way in.
pub(crate) fn check_entry(entry: &NewMemoryEntry) -> StoreResult<()> {
    for (side, content) in [("source", &entry.source), ("target", &entry.target)] {
        if content.is_empty() {
            return Err(StoreError::Invalid(format!("memory entry with an empty {side}")));
        }
        if content.render().len() > MAX_MEMORY_TEXT_BYTES {
            return Err(StoreError::Invalid(format!(
                "memory entry {side} longer than {MAX_MEMORY_TEXT_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

/// Bounds a fuzzy `limit`.
pub(crate) fn fuzzy_limit(limit: usize) -> usize {
    limit.clamp(1, 100)
}

/// Bounds an export `limit`.
pub(crate) fn export_limit(limit: u32) -> StoreResult<i64> {
    if (1..=10_000).contains(&limit) {
        Ok(i64::from(limit))
    } else {
        Err(StoreError::Invalid(format!("export limit {limit} is not within 1 to 10000")))
    }
}

/// Where `scope` writes: the caller's own memory, or a team's (membership checked by the
/// caller of this function, which passes whether the caller is a member).
pub(crate) fn write_owner(
    caller: &Caller,
    scope: MemoryScope,
    member: impl FnOnce(TeamId) -> bool,
) -> StoreResult<MemoryOwner> {
    match scope {
        MemoryScope::Off => Err(StoreError::Invalid("the memory is off for this request".into())),
        MemoryScope::Own | MemoryScope::Teams => Ok(MemoryOwner::User(caller.user)),
        MemoryScope::Team(t) if member(t) => Ok(MemoryOwner::Team(t)),
        MemoryScope::Team(t) => Err(StoreError::TeamNotFound(t)),
    }
}

/// The owner columns of an entry: (owner_user, owner_team, scope_id).
pub(crate) fn owner_columns(owner: MemoryOwner) -> (Option<Uuid>, Option<Uuid>, Uuid) {
    match owner {
        MemoryOwner::User(u) => (Some(u.0), None, u.0),
        MemoryOwner::Team(t) => (None, Some(t.0), t.0),
    }
}

/// A memory entry as both backends select it ([`entry_columns`]).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EntryRow<T> {
    pub id: i64,
    pub owner_user: Option<Uuid>,
    pub owner_team: Option<Uuid>,
    pub source_lang: String,
    pub target_lang: String,
    pub source: String,
    pub target: String,
    pub origin: String,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub job_id: Option<Uuid>,
    pub created_at: T,
}

impl<T: StoredTime> EntryRow<T> {
    pub(crate) fn into_entry(self) -> StoreResult<MemoryEntry> {
        let owner = match (self.owner_user, self.owner_team) {
            (Some(u), None) => MemoryOwner::User(UserId(u)),
            (None, Some(t)) => MemoryOwner::Team(TeamId(t)),
            _ => return Err(corrupt("owner_user", self.id)),
        };
        let content = |column: &str, text: &str| {
            Content::parse(text).map_err(|_| corrupt(column, "content that does not parse"))
        };
        Ok(MemoryEntry {
            id: self.id,
            owner,
            source_lang: self
                .source_lang
                .parse()
                .map_err(|_| corrupt("source_lang", &self.source_lang))?,
            target_lang: self
                .target_lang
                .parse()
                .map_err(|_| corrupt("target_lang", &self.target_lang))?,
            source: content("source", &self.source)?,
            target: content("target", &self.target)?,
            origin: MemoryOrigin::parse(&self.origin)
                .ok_or_else(|| corrupt("origin", &self.origin))?,
            model: self.model,
            prompt_version: self.prompt_version,
            job: self.job_id.map(JobId),
            created_at: self.created_at.into_time("created_at")?,
        })
    }
}

/// A job's memory options as stored: (scope text, keep).
pub(crate) fn decode_job_memory(scope: &str, keep: bool) -> StoreResult<crate::model::JobMemory> {
    Ok(crate::model::JobMemory {
        scope: scope.parse().map_err(|_| corrupt("memory_scope", scope))?,
        keep,
    })
}
