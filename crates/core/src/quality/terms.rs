//! The glossary check: which terms of a source segment its translation lacks.
//!
//! Why here: the LLM engine checks each answer with it (then asks once more, then flags
//! [`crate::SegmentFlag::GlossaryTermMissing`]), and the translation memory checks an exact
//! match with it before reusing it (a glossary added after the entry was recorded must not be
//! bypassed). Both must agree on what "the term is there" means, so the rule is written once.
//!
//! Matching: the source term on word boundaries (`cours` is not in `parcours`), the target as a
//! substring (a plural or an elided form still counts), both ignoring letter case unless the
//! entry is case-sensitive, on the plain text (inline codes left out). An entry with an empty
//! source never matches.

use crate::content::Content;
use crate::guidance::Term;

/// `text` as the term rule compares it: lower-cased unless `case_sensitive`.
pub fn fold_term(text: &str, case_sensitive: bool) -> String {
    if case_sensitive { text.to_string() } else { text.to_lowercase() }
}

/// True when `needle` occurs in `hay` with no letter or digit right before or after it.
pub fn contains_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// True when `term`'s source occurs in the plain text `source` (given as is and lower-cased,
/// so that a caller checking many terms folds the text once).
pub fn term_in_source(term: &Term, source: &str, source_lower: &str) -> bool {
    let wanted = fold_term(term.source.trim(), term.case_sensitive);
    contains_word(if term.case_sensitive { source } else { source_lower }, &wanted)
}

/// True when `term`'s target occurs in the plain text `target` (as is and lower-cased).
pub fn term_in_target(term: &Term, target: &str, target_lower: &str) -> bool {
    let wanted = fold_term(term.target.trim(), term.case_sensitive);
    (if term.case_sensitive { target } else { target_lower }).contains(&wanted)
}

/// The source terms of `terms` that occur in `source` while their target is absent from
/// `target`, in `terms`' order.
pub fn missing_terms(terms: &[Term], source: &Content, target: &Content) -> Vec<String> {
    if terms.is_empty() {
        return Vec::new();
    }
    let (src, tgt) = (source.plain_text(), target.plain_text());
    let (src_lower, tgt_lower) = (src.to_lowercase(), tgt.to_lowercase());
    terms
        .iter()
        .filter(|t| !t.source.trim().is_empty())
        .filter(|t| term_in_source(t, &src, &src_lower) && !term_in_target(t, &tgt, &tgt_lower))
        .map(|t| t.source.clone())
        .collect()
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

    #[test]
    fn a_term_is_missing_when_its_source_is_a_word_of_the_source_and_its_target_is_absent() {
        let terms = vec![term("cours", "course", false), term("TD", "tutorial", true)];
        let c = |t: &str| Content::parse(t).unwrap();
        assert_eq!(missing_terms(&terms, &c("Le <g1>Cours</g1>."), &c("The lesson.")), ["cours"]);
        assert!(missing_terms(&terms, &c("Le Cours."), &c("The Courses.")).is_empty());
        assert!(missing_terms(&terms, &c("Le parcours."), &c("The path.")).is_empty());
        assert!(missing_terms(&terms, &c("Un td."), &c("A class.")).is_empty(), "case-sensitive");
        assert_eq!(missing_terms(&terms, &c("Un TD."), &c("A Tutorial.")), ["TD"]);
        assert!(missing_terms(&[term(" ", "x", false)], &c("a b"), &c("c")).is_empty());
    }
}
