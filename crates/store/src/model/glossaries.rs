//! Glossaries (term bases): named lists of source term → target term for one language pair,
//! owned by a user or a team.
//!
//! A glossary is addressed by its string id (a UUID, as DeepL addresses its glossaries), holds
//! its entries in order, and may be its owner's default for its language pair: a job or text
//! request that names no glossary uses the caller's own default for the pair, else one of their
//! teams' defaults. Everyone who may read a glossary (its owner, or a member of its team) may
//! change it; administrators have no view of other people's glossaries (they are content).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tradia_core::{LanguageTag, Term};

use super::ids::{GlossaryId, TeamId, UserId};

/// Most entries one glossary holds.
pub const MAX_GLOSSARY_ENTRIES: usize = 10_000;
/// Most characters of a source or target term.
pub const MAX_TERM_CHARS: usize = 500;
/// Most characters of an entry's note.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// Who owns a glossary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Owner {
    /// One user.
    User(UserId),
    /// A team: every member reads and changes it.
    Team(TeamId),
}

/// A glossary as stored, without its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glossary {
    /// Identifier.
    pub id: GlossaryId,
    /// Its owner.
    pub owner: Owner,
    /// The name shown to people.
    pub name: String,
    /// The language of the source terms.
    pub source_lang: LanguageTag,
    /// The language of the target terms.
    pub target_lang: LanguageTag,
    /// Used for the owner's requests in this language pair that name no glossary.
    pub is_default: bool,
    /// How many entries it holds.
    pub entry_count: u64,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it or its entries last changed.
    pub updated_at: OffsetDateTime,
}

/// What creating a glossary takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGlossary {
    /// The caller, or a team the caller belongs to.
    pub owner: Owner,
    /// 1 to 200 characters.
    pub name: String,
    /// Source language.
    pub source_lang: LanguageTag,
    /// Target language (another language than the source).
    pub target_lang: LanguageTag,
    /// Make it the owner's default for the pair (the previous default stops being one).
    pub is_default: bool,
    /// Its entries, at most [`MAX_GLOSSARY_ENTRIES`]; no two with the same source term.
    pub entries: Vec<Term>,
}

/// A change to a glossary; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlossaryUpdate {
    /// A new name.
    pub name: Option<String>,
    /// Make it (or stop it being) the owner's default for its pair.
    pub is_default: Option<bool>,
    /// Replace every entry.
    pub entries: Option<Vec<Term>>,
}

/// The most characters of a job's free-form instructions.
pub const MAX_INSTRUCTIONS_CHARS: usize = 2_000;

/// The most characters of a job's brief (what the document is: title, domain).
pub const MAX_BRIEF_CHARS: usize = 500;

/// A job's glossary and style options, chosen at its creation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobGuidance {
    /// The glossary named at creation (`None`: the owner's default for the pair, if any).
    pub glossary: Option<GlossaryId>,
    /// The register wanted.
    pub formality: tradia_core::Formality,
    /// Free-form instructions (at most [`MAX_INSTRUCTIONS_CHARS`] characters).
    pub instructions: Option<String>,
    /// What the document is, as the user put it (at most [`MAX_BRIEF_CHARS`] characters;
    /// `None`: each file's own title, if it has one).
    pub brief: Option<String>,
}
