//! Quiz terms that must stay consistent after translation: a cloze gap's answer, its options and
//! synonyms, a short-answer field's accepted values.
//!
//! A filter that finds such terms makes each one a segment of its own and describes how they
//! belong together with a [`QuizGroup`] (carried to the engine in
//! [`crate::Guidance::quiz`]). Translating them one by one would break the exercise silently:
//! the gap's answer must still be one of the options the learner is offered, and a synonym
//! still a synonym. An engine that can translate a group *together* (the LLM engine sends the
//! sentence and the whole term set in one request) checks the result with [`check_group`];
//! when the check fails it keeps every term of the group as its source (the quiz then still
//! works, in the source language) and flags each with [`crate::SegmentFlag::QuizKept`].
//!
//! The rule checked: terms whose sources are equal (trimmed, as the quiz compares them) have
//! equal translations (trimmed), so an answer that was one of the options still is one; a
//! translated term may not come back empty or on several lines. Terms a filter keeps exactly
//! (single characters, whitespace) are not segments; their texts travel in
//! [`QuizGroup::fixed`] so that an answer equal to one of them must stay equal to it.

use serde::{Deserialize, Serialize};

use crate::segment::SegmentId;

/// What kind of exercise a group comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuizKind {
    /// A cloze gap: the answer typed or chosen, the options offered, the synonyms accepted.
    Cloze,
    /// A short-answer field: the values accepted as the learner's typed answer.
    ShortAnswer,
}

/// The role of one term in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuizRole {
    /// The expected answer (a cloze gap's text, a short-answer value).
    Answer,
    /// An option shown to the learner.
    Option,
    /// An accepted synonym of the answer.
    Synonym,
}

impl QuizRole {
    /// The role's name on the wire and in messages.
    pub fn name(self) -> &'static str {
        match self {
            QuizRole::Answer => "answer",
            QuizRole::Option => "option",
            QuizRole::Synonym => "synonym",
        }
    }
}

/// Segments that are the terms of one quiz item, translated together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizGroup {
    /// Cloze or short answer.
    pub kind: QuizKind,
    /// The segments giving the terms their sense, in document order: the sentence holding the
    /// gap (where the gap is a standalone code), or the short-answer question's paragraphs.
    /// Context only: they are translated as ordinary segments.
    pub context: Vec<SegmentId>,
    /// The terms, each a segment of its own, with its role, in document order.
    pub terms: Vec<(SegmentId, QuizRole)>,
    /// Texts of the group's terms kept exactly by the filter (single characters, whitespace),
    /// trimmed: an answer equal to one of them in the source must stay equal to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
}

impl QuizGroup {
    /// The group's term segments.
    pub fn term_ids(&self) -> impl Iterator<Item = SegmentId> + '_ {
        self.terms.iter().map(|(id, _)| *id)
    }

    /// The same group with every segment id moved by `offset` (an archive's item placed after
    /// the segments of the entries before it).
    pub fn shifted(mut self, offset: u32) -> Self {
        for id in &mut self.context {
            *id += offset;
        }
        for (id, _) in &mut self.terms {
            *id += offset;
        }
        self
    }
}

/// Checks a group's translated terms: `terms` pairs each term's source text with its
/// translation (plain text, codes removed), in the group's order. `Err` says why the group must
/// keep its source terms.
pub fn check_group(group: &QuizGroup, terms: &[(String, String)]) -> Result<(), String> {
    for ((_, role), (source, target)) in group.terms.iter().zip(terms) {
        let t = target.trim();
        if t.is_empty() {
            return Err(format!("the {} {:?} came back empty", role.name(), source.trim()));
        }
        if t.contains('\n') && !source.trim().contains('\n') {
            return Err(format!(
                "the {} {:?} came back on several lines",
                role.name(),
                source.trim()
            ));
        }
        if group.fixed.iter().any(|f| f == source.trim()) && t != source.trim() {
            return Err(format!(
                "the {} {:?} equals a term kept as it is, and its translation {t:?} does not",
                role.name(),
                source.trim()
            ));
        }
    }
    for (i, (src_a, tr_a)) in terms.iter().enumerate() {
        for (j, (src_b, tr_b)) in terms.iter().enumerate().skip(i + 1) {
            if src_a.trim() == src_b.trim() && tr_a.trim() != tr_b.trim() {
                let role = |k: usize| group.terms.get(k).map_or("term", |(_, r)| r.name());
                return Err(format!(
                    "the {} and the {} are both {:?} in the source but {:?} and {:?} in the \
                     translation",
                    role(i),
                    role(j),
                    src_a.trim(),
                    tr_a.trim(),
                    tr_b.trim()
                ));
            }
        }
    }
    Ok(())
}

/// Whether a term's text is kept exactly: whitespace only, or a single character.
pub fn is_fixed_term(text: &str) -> bool {
    text.trim().chars().count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloze() -> QuizGroup {
        QuizGroup {
            kind: QuizKind::Cloze,
            context: vec![0],
            terms: vec![(1, QuizRole::Answer), (2, QuizRole::Option), (3, QuizRole::Option)],
            fixed: vec!["X".into()],
        }
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
    }

    #[test]
    fn an_answer_that_was_an_option_must_stay_one() {
        let g = cloze();
        let ok = pairs(&[("chat", "cat "), ("chat", " cat"), ("chien", "dog")]);
        assert_eq!(check_group(&g, &ok), Ok(()));
        let bad = pairs(&[("chat", "cat"), ("chat", "kitty"), ("chien", "dog")]);
        let why = check_group(&g, &bad).unwrap_err();
        assert!(why.contains("answer") && why.contains("option") && why.contains("kitty"), "{why}");
    }

    #[test]
    fn empty_multiline_and_fixed_terms_are_refused() {
        let g = cloze();
        assert!(check_group(&g, &pairs(&[("a b", " "), ("c d", "e"), ("f", "g")])).is_err());
        assert!(check_group(&g, &pairs(&[("a b", "x\ny"), ("c d", "e"), ("f", "g")])).is_err());
        assert!(check_group(&g, &pairs(&[("X", "Y"), ("c d", "e"), ("f", "g")])).is_err());
        assert!(is_fixed_term(" X ") && is_fixed_term("  ") && !is_fixed_term("ab"));
    }

    #[test]
    fn shifting_moves_every_id() {
        let g = cloze().shifted(10);
        assert_eq!(g.context, [10]);
        assert_eq!(g.term_ids().collect::<Vec<_>>(), [11, 12, 13]);
    }
}
