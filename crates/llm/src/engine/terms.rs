//! Glossary terms and style on the wire, and the check of each answer against the terms.
//!
//! Why a module of its own: the glossary is per request while the system prompt must stay
//! byte-identical across requests (servers keep its prompt cache), so everything here travels
//! in the user message (WIRE.md §1): `glossary` (only the terms whose source occurs in the
//! batch, at most [`MAX_TERMS_PER_BATCH`]), `formality`, `brief` and `instructions` (cut to
//! [`MAX_BRIEF_CHARS`] and [`MAX_INSTRUCTIONS_CHARS`]; the API refuses longer ones with an
//! error naming the limit, this only bounds what any other caller sends).
//!
//! After an answer passed the other checks, each term whose source occurs in the segment
//! must have its target in the translation. One that does not is asked once more, with a
//! stricter `glossary_note`; if the second answer still misses a term (or fails otherwise),
//! the translation is kept (the best answer obtained) and the segment carries
//! [`SegmentFlag::GlossaryTermMissing`] per missing term: a missing term is a quality issue for
//! a person to look at, never a reason to keep the source. A quiz group (`quiz.rs`) is asked
//! again as a whole, so it reads the misses itself ([`Terms::missing_in`]) and sends the note
//! with [`Terms::wire_noting`].
//!
//! Matching is `tradia_core::quality::missing_terms`'s rule (the translation memory checks exact
//! matches with it too): the source term on word boundaries (`cours` is not in `parcours`), the
//! target as a substring, both ignoring letter case unless the entry is case-sensitive, on the
//! plain text (inline codes left out).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value, json};
use tradia_core::quality::{contains_word, fold_term as fold};
use tradia_core::{Content, Formality, Guidance, SegmentFlag, SegmentId, Term};

/// Most glossary entries sent with one batch.
pub const MAX_TERMS_PER_BATCH: usize = 40;
/// Most characters of the brief sent with a batch.
pub const MAX_BRIEF_CHARS: usize = 500;
/// Most characters of the instructions sent with a batch.
pub const MAX_INSTRUCTIONS_CHARS: usize = 2_000;

/// Note sent with segments asked again because they missed glossary terms.
pub const GLOSSARY_NOTE: &str = "Earlier answers for these segments did not use the required glossary terms. Wherever a source term of \"glossary\" occurs, its translation must contain exactly the given target term.";

/// What an answer is, once checked against the terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Accept it (flags, if any, were recorded).
    Accept,
    /// Ask again with the glossary note.
    Retry,
}

/// A term, prepared for matching.
struct Prepared<'r> {
    term: &'r Term,
    source: String,
    target: String,
}

/// The terms and style of one translation request, and what its answers missed.
pub(super) struct Terms<'r> {
    guidance: &'r Guidance,
    terms: Vec<Prepared<'r>>,
    /// Per unit: the terms whose source occurs in its source.
    per_unit: Vec<Vec<usize>>,
    /// Units asked again for missing terms, with their first answer.
    retrying: Mutex<HashMap<usize, Content>>,
    /// Source terms missing from the accepted translation, per segment.
    missing: Mutex<HashMap<SegmentId, Vec<String>>>,
}

impl<'r> Terms<'r> {
    pub(super) fn new(guidance: &'r Guidance) -> Self {
        let terms = guidance
            .terms
            .iter()
            .filter(|t| !t.source.trim().is_empty())
            .map(|term| Prepared {
                term,
                source: fold(term.source.trim(), term.case_sensitive),
                target: fold(term.target.trim(), term.case_sensitive),
            })
            .collect();
        Terms {
            guidance,
            terms,
            per_unit: Vec::new(),
            retrying: Mutex::new(HashMap::new()),
            missing: Mutex::new(HashMap::new()),
        }
    }

    /// Registers the next unit (units are numbered in the order they are added).
    pub(super) fn add_unit(&mut self, source: &Content) {
        let found = if self.terms.is_empty() {
            Vec::new()
        } else {
            let plain = source.plain_text();
            let lower = plain.to_lowercase();
            (0..self.terms.len())
                .filter(|&i| {
                    let t = &self.terms[i];
                    contains_word(if t.term.case_sensitive { &plain } else { &lower }, &t.source)
                })
                .collect()
        };
        self.per_unit.push(found);
    }

    /// The terms of unit `u` absent from `answer`.
    pub(super) fn missing_in(&self, u: usize, answer: &Content) -> Vec<String> {
        let Some(found) = self.per_unit.get(u).filter(|f| !f.is_empty()) else {
            return Vec::new();
        };
        let plain = answer.plain_text();
        let lower = plain.to_lowercase();
        found
            .iter()
            .map(|&i| &self.terms[i])
            .filter(|t| !(if t.term.case_sensitive { &plain } else { &lower }).contains(&t.target))
            .map(|t| t.term.source.clone())
            .collect()
    }

    /// The fields this request adds to the user message of a batch of `units` (with the
    /// `glossary_note` when one of them is asked again for a missing term).
    pub(super) fn wire(&self, units: &[usize]) -> Map<String, Value> {
        let again = {
            let retrying = self.retrying.lock().unwrap_or_else(|e| e.into_inner());
            units.iter().any(|u| retrying.contains_key(u))
        };
        self.wire_noting(units, again)
    }

    /// [`Terms::wire`], with the `glossary_note` when `again` says so: for a caller that asks
    /// its units again as a whole and keeps their first answers itself (`quiz.rs`).
    pub(super) fn wire_noting(&self, units: &[usize], again: bool) -> Map<String, Value> {
        let mut out = Map::new();
        let mut chosen: Vec<usize> =
            units.iter().filter_map(|&u| self.per_unit.get(u)).flatten().copied().collect();
        chosen.sort_unstable();
        chosen.dedup();
        chosen.truncate(MAX_TERMS_PER_BATCH);
        if !chosen.is_empty() {
            let glossary: Vec<Value> = chosen
                .iter()
                .map(|&i| {
                    let t = self.terms[i].term;
                    let mut entry = json!({"source": t.source, "target": t.target});
                    if let Some(note) = &t.note {
                        entry["note"] = Value::String(note.clone());
                    }
                    entry
                })
                .collect();
            out.insert("glossary".into(), Value::Array(glossary));
            if again {
                out.insert("glossary_note".into(), Value::String(GLOSSARY_NOTE.into()));
            }
        }
        match self.guidance.formality {
            Formality::Default => {}
            Formality::More => {
                out.insert("formality".into(), Value::String("formal".into()));
            }
            Formality::Less => {
                out.insert("formality".into(), Value::String("informal".into()));
            }
        }
        let bounded = |text: &Option<String>, max: usize| {
            text.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| Value::String(t.chars().take(max).collect()))
        };
        if let Some(brief) = bounded(&self.guidance.brief, MAX_BRIEF_CHARS) {
            out.insert("brief".into(), brief);
        }
        if let Some(instructions) = bounded(&self.guidance.instructions, MAX_INSTRUCTIONS_CHARS) {
            out.insert("instructions".into(), instructions);
        }
        out
    }

    /// Checks unit `u`'s answer (already valid otherwise) whose segments are `segments`.
    pub(super) fn review(
        &self,
        u: usize,
        answer: &Content,
        segments: impl IntoIterator<Item = SegmentId>,
    ) -> Verdict {
        let missing = self.missing_in(u, answer);
        let mut retrying = self.retrying.lock().unwrap_or_else(|e| e.into_inner());
        let second = retrying.remove(&u).is_some();
        if missing.is_empty() {
            return Verdict::Accept;
        }
        if !second {
            retrying.insert(u, answer.clone());
            return Verdict::Retry;
        }
        drop(retrying);
        self.record(missing, segments);
        Verdict::Accept
    }

    /// The first answer of a unit asked again for missing terms whose second attempt failed:
    /// accepted with its flags. `None` for any other unit.
    pub(super) fn fallback(
        &self,
        u: usize,
        segments: impl IntoIterator<Item = SegmentId>,
    ) -> Option<Content> {
        let first = self.retrying.lock().unwrap_or_else(|e| e.into_inner()).remove(&u)?;
        self.record(self.missing_in(u, &first), segments);
        Some(first)
    }

    fn record(&self, missing: Vec<String>, segments: impl IntoIterator<Item = SegmentId>) {
        let mut all = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        for id in segments {
            all.insert(id, missing.clone());
        }
    }

    /// The flags of segment `id`'s accepted translation.
    pub(super) fn flags(&self, id: SegmentId) -> Vec<SegmentFlag> {
        let all = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        all.get(&id)
            .into_iter()
            .flatten()
            .map(|term| SegmentFlag::GlossaryTermMissing { term: term.clone() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(source: &str, target: &str, case_sensitive: bool) -> Term {
        Term {
            source: source.into(),
            target: target.into(),
            do_not_translate: false,
            case_sensitive,
            note: None,
        }
    }

    fn content(text: &str) -> Content {
        Content::parse(text).unwrap()
    }

    #[test]
    fn only_terms_present_travel_and_misses_are_retried_once_then_flagged() {
        let guidance = Guidance {
            terms: vec![
                term("cours", "course", false),
                term("TD", "tutorial", true),
                term("absent", "missing", false),
            ],
            formality: Formality::More,
            ..Guidance::default()
        };
        let mut terms = Terms::new(&guidance);
        terms.add_unit(&content("Le <g1>Cours</g1> et le parcours, td."));
        terms.add_unit(&content("Un TD."));
        let wire = terms.wire(&[0]);
        let sources: Vec<&str> = wire["glossary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["source"].as_str().unwrap())
            .collect();
        assert_eq!(sources, vec!["cours"], "word boundaries and case sensitivity respected");
        assert_eq!(wire["formality"], "formal");
        assert!(wire.get("glossary_note").is_none());

        assert_eq!(terms.review(1, &content("A tutorial."), [1]), Verdict::Accept);
        assert!(terms.flags(1).is_empty());
        assert_eq!(terms.review(0, &content("The lesson."), [0]), Verdict::Retry);
        assert!(terms.wire(&[0]).contains_key("glossary_note"));
        assert_eq!(terms.review(0, &content("The lesson again."), [0, 7]), Verdict::Accept);
        let flagged = vec![SegmentFlag::GlossaryTermMissing { term: "cours".into() }];
        assert_eq!(terms.flags(0), flagged);
        assert_eq!(terms.flags(7), flagged);
        // A first miss whose retry failed otherwise: the first answer is kept, flagged.
        assert_eq!(terms.review(1, &content("A Tutorial."), [1]), Verdict::Retry);
        assert_eq!(terms.fallback(1, [1]), Some(content("A Tutorial.")));
        assert_eq!(terms.flags(1), vec![SegmentFlag::GlossaryTermMissing { term: "TD".into() }]);
        assert_eq!(terms.fallback(0, [0]), None);
    }

    #[test]
    fn brief_and_instructions_are_bounded() {
        let guidance = Guidance {
            brief: Some("x".repeat(MAX_BRIEF_CHARS + 10)),
            instructions: Some("  ".into()),
            ..Guidance::default()
        };
        let terms = Terms::new(&guidance);
        let wire = terms.wire(&[]);
        assert_eq!(wire["brief"].as_str().unwrap().chars().count(), MAX_BRIEF_CHARS);
        assert!(!wire.contains_key("instructions") && !wire.contains_key("glossary"));
    }
}
