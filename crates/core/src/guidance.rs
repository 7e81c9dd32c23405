//! What an engine is told besides the segments themselves, and what it says back about each one.
//!
//! A translation request carries [`Guidance`]: earlier translations of similar segments (fuzzy
//! translation-memory matches, per segment), glossary terms, the formality wanted, a brief about
//! the document, free-form instructions and the document's own notes for translators (per
//! segment, from the file: ITS localization notes, `.resx` comments, gettext extracted
//! comments…). Engines that have no model (`identity`, `pseudo`)
//! ignore it; the LLM engine sends each batch only the examples and terms that concern it, so the
//! system prompt stays identical across requests.
//!
//! Each [`crate::SegmentResult`] carries [`SegmentFlag`]s: what happened to that segment on its way
//! (reused from memory, codes repaired, a glossary term missing…). They feed the quality report.
//!
//! Both live here, in the domain crate, because the producers (the translation memory in the
//! store, glossaries, the LLM engine) and the consumers (the job runner, the command line, the
//! report) must agree on them without depending on each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::quiz::QuizGroup;
use crate::segment::SegmentId;

/// Everything an engine may use besides the segments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Guidance {
    /// Earlier translations of similar segments, best first, per pending segment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub examples: BTreeMap<SegmentId, Vec<Example>>,
    /// Glossary entries for the request's language pair; an engine sends a batch only the terms
    /// whose source occurs in it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<Term>,
    /// Register wanted in the target language.
    #[serde(default)]
    pub formality: Formality,
    /// What the document is (title, domain), from the document or the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<String>,
    /// Free-form instructions of the user (bounded by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Quiz terms to translate together and consistently ([`crate::quiz`]), from the filter
    /// (`Document::quiz`); an engine without a model may ignore them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quiz: Vec<QuizGroup>,
    /// Notes for translators that the document gives about some of its segments (what a
    /// string means, where it appears, a length limit), per segment; an engine sends each with
    /// its segment, bounded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<SegmentId, String>,
}

impl Guidance {
    /// True when there is nothing to tell the engine.
    pub fn is_empty(&self) -> bool {
        self == &Guidance::default()
    }

    /// This guidance with a document's notes for translators added (a job's guidance is the
    /// same for all its files; the notes are each file's own).
    pub fn with_notes(&self, notes: &BTreeMap<SegmentId, String>) -> Guidance {
        let mut out = self.clone();
        out.notes.extend(notes.iter().map(|(id, note)| (*id, note.clone())));
        out
    }
}

/// An earlier translation shown to the engine as an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The earlier source segment.
    pub source: Content,
    /// Its validated translation.
    pub target: Content,
    /// Similarity to the segment it is an example for, in `0.0..=1.0`.
    pub score: f32,
}

/// One glossary entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The term in the source language.
    pub source: String,
    /// Its required translation (equal to `source` when `do_not_translate`).
    pub target: String,
    /// The term must appear unchanged in the translation.
    #[serde(default)]
    pub do_not_translate: bool,
    /// Match the source term with its case.
    #[serde(default)]
    pub case_sensitive: bool,
    /// A note for translators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Term {
    /// An ordinary entry: `source` becomes `target`, matched without case, no note.
    pub fn new(source: impl Into<String>, target: impl Into<String>) -> Self {
        Term {
            source: source.into(),
            target: target.into(),
            do_not_translate: false,
            case_sensitive: false,
            note: None,
        }
    }
}

/// The register of the translation (DeepL's `formality`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Formality {
    /// Whatever the model finds natural.
    #[default]
    Default,
    /// Formal address (vous, Sie, usted).
    More,
    /// Informal address (tu, du, tú).
    Less,
}

impl Formality {
    /// Its name, as the API, the store and serde write it: `default`, `more` or `less`.
    pub fn as_str(self) -> &'static str {
        match self {
            Formality::Default => "default",
            Formality::More => "more",
            Formality::Less => "less",
        }
    }

    /// The formality named `name` ([`Formality::as_str`]); `None` for any other text.
    pub fn from_name(name: &str) -> Option<Self> {
        [Formality::Default, Formality::More, Formality::Less]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// What happened to one segment on its way to the output, for the quality report.
///
/// Producers add variants as they learn to detect things; consumers match exhaustively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum SegmentFlag {
    /// Taken from the translation memory as an exact match; no model was asked.
    MemoryExact,
    /// Translated with fuzzy memory matches given as examples.
    MemoryFuzzy {
        /// The best example's similarity.
        score_percent: u8,
    },
    /// The model's inline codes were wrong and were repaired by alignment.
    CodesRepaired,
    /// A glossary source term occurs in the source and its target term not in the translation.
    GlossaryTermMissing {
        /// The source term.
        term: String,
    },
    /// A number of the source is absent from the translation (compared as digits, see
    /// [`crate::quality`]).
    NumberMissing {
        /// The number as the source writes it.
        value: String,
    },
    /// A URL or e-mail address of the source is absent from the translation.
    UrlMissing {
        /// The URL or address.
        url: String,
    },
    /// The translation's length is far from what the language pair leads to expect.
    LengthOff {
        /// The translation's length as a percentage of the source's.
        ratio_percent: u16,
        /// The percentage expected for the language pair.
        expected_percent: u16,
    },
    /// The translation has the source's letters although the languages differ.
    SameAsSource,
    /// A quiz term (cloze answer, option, synonym, short-answer value) kept as its source with
    /// the rest of its group, because the translated terms would not have matched
    /// ([`crate::quiz::check_group`]) or could not be obtained.
    QuizKept {
        /// Why, for people.
        reason: String,
    },
    /// The model that produced the translation.
    Model {
        /// Its name, as the backend knows it.
        name: String,
    },
}

impl SegmentFlag {
    /// The flag's stable name (its `flag` tag in JSON), for counts and metric labels.
    pub fn key(&self) -> &'static str {
        match self {
            SegmentFlag::MemoryExact => "memory_exact",
            SegmentFlag::MemoryFuzzy { .. } => "memory_fuzzy",
            SegmentFlag::CodesRepaired => "codes_repaired",
            SegmentFlag::GlossaryTermMissing { .. } => "glossary_term_missing",
            SegmentFlag::NumberMissing { .. } => "number_missing",
            SegmentFlag::UrlMissing { .. } => "url_missing",
            SegmentFlag::LengthOff { .. } => "length_off",
            SegmentFlag::SameAsSource => "same_as_source",
            SegmentFlag::QuizKept { .. } => "quiz_kept",
            SegmentFlag::Model { .. } => "model",
        }
    }

    /// How much a person should look at a segment with this flag: 0 (informative: memory
    /// reuse, the model) to 3 (its content may be wrong). Orders the report's worst segments.
    pub fn severity(&self) -> u32 {
        match self {
            SegmentFlag::MemoryExact | SegmentFlag::Model { .. } => 0,
            SegmentFlag::MemoryFuzzy { .. } | SegmentFlag::LengthOff { .. } => 1,
            SegmentFlag::CodesRepaired
            | SegmentFlag::SameAsSource
            | SegmentFlag::QuizKept { .. } => 2,
            SegmentFlag::GlossaryTermMissing { .. }
            | SegmentFlag::NumberMissing { .. }
            | SegmentFlag::UrlMissing { .. } => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Formality;

    #[test]
    fn a_formality_is_read_back_from_its_name_as_serde_writes_it() {
        for f in [Formality::Default, Formality::More, Formality::Less] {
            assert_eq!(Formality::from_name(f.as_str()), Some(f));
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
        assert_eq!(Formality::from_name("formal"), None);
    }
}
