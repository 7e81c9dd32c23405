//! Translation-memory records: validated translations of segment cores, owned by a user or a
//! team, and the memory options of a job.
//!
//! A memory entry holds document text (a source core and its translation), so it is owned and
//! scoped like a job: read only within the scope a job or request names, and deleted with its
//! owner (see [`crate::MemoryStore`]).

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use tradia_core::{Content, LanguageTag};

use super::ids::{JobId, TeamId, UserId};

/// Which memory a job or request reads (and writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MemoryScope {
    /// No memory at all.
    Off,
    /// The caller's own memory (the default): read and written there.
    #[default]
    Own,
    /// The caller's own memory and every team's they belong to, read; written to their own.
    Teams,
    /// One team's memory (the caller must be a member), read and written there.
    Team(TeamId),
}

impl MemoryScope {
    /// `off`, `own`, `teams` or `team:<uuid>`.
    pub fn as_string(&self) -> String {
        match self {
            MemoryScope::Off => "off".into(),
            MemoryScope::Own => "own".into(),
            MemoryScope::Teams => "teams".into(),
            MemoryScope::Team(t) => format!("team:{t}"),
        }
    }
}

impl fmt::Display for MemoryScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

/// A malformed [`MemoryScope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("memory scope {0:?} is none of off, own, teams, team:<id>")]
pub struct InvalidMemoryScope(pub String);

impl FromStr for MemoryScope {
    type Err = InvalidMemoryScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" | "none" => Ok(MemoryScope::Off),
            "own" | "user" | "" => Ok(MemoryScope::Own),
            "teams" | "all" => Ok(MemoryScope::Teams),
            other => other
                .strip_prefix("team:")
                .and_then(|id| id.parse().ok())
                .map(MemoryScope::Team)
                .ok_or_else(|| InvalidMemoryScope(other.chars().take(80).collect())),
        }
    }
}

/// Who owns a memory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryOwner {
    /// A user's own memory.
    User(UserId),
    /// A team's shared memory.
    Team(TeamId),
}

/// Where a memory entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryOrigin {
    /// A model's validated translation.
    Llm,
    /// A person's edit of a translation.
    Edited,
    /// Imported (TMX).
    Imported,
}

impl MemoryOrigin {
    /// `llm`, `edited` or `imported`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MemoryOrigin::Llm => "llm",
            MemoryOrigin::Edited => "edited",
            MemoryOrigin::Imported => "imported",
        }
    }

    /// The origin named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "llm" => Some(MemoryOrigin::Llm),
            "edited" => Some(MemoryOrigin::Edited),
            "imported" => Some(MemoryOrigin::Imported),
            _ => None,
        }
    }
}

/// A translation to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMemoryEntry {
    /// Source language.
    pub source_lang: LanguageTag,
    /// Target language.
    pub target_lang: LanguageTag,
    /// The source core (inline codes included).
    pub source: Content,
    /// Its translation.
    pub target: Content,
    /// Where it comes from.
    pub origin: MemoryOrigin,
    /// The model that produced it, if any.
    pub model: Option<String>,
    /// The prompt version (fingerprint) it was produced with, if any.
    pub prompt_version: Option<String>,
    /// The job it was produced in, if any.
    pub job: Option<JobId>,
}

/// A stored memory entry.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEntry {
    /// Identifier, in insertion order.
    pub id: i64,
    /// Its owner.
    pub owner: MemoryOwner,
    /// Source language.
    pub source_lang: LanguageTag,
    /// Target language.
    pub target_lang: LanguageTag,
    /// The source core.
    pub source: Content,
    /// Its translation.
    pub target: Content,
    /// Where it comes from.
    pub origin: MemoryOrigin,
    /// The model that produced it.
    pub model: Option<String>,
    /// The prompt version it was produced with.
    pub prompt_version: Option<String>,
    /// The job it was produced in (`None` once that job is gone and the entry was kept).
    pub job: Option<JobId>,
    /// When it was recorded (or last replaced by a newer translation of the same source).
    pub created_at: OffsetDateTime,
}

/// A job's memory options, chosen at its creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobMemory {
    /// Which memory the job reads and writes.
    pub scope: MemoryScope,
    /// Keep the entries the job recorded when the job is deleted (default: delete them).
    pub keep: bool,
}
