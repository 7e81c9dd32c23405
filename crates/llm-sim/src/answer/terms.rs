//! Glossary terms applied by the simulated model: wherever a request's source term occurs in a
//! segment (ignoring letter case, on word boundaries), the answer carries the target term
//! verbatim instead of the pseudo-translation of those words, so a glossary visibly works. The
//! `term_miss` fault answers one such segment as if one of its terms had not been given.

use tradia_core::{Content, Piece};

use super::pseudo::{pseudo_content, pseudo_run};
use crate::wire::WireTerm;

/// The first occurrence at or after byte `from` of any term in `text`: (start, end, term index).
/// At one position the longest term wins.
fn next_match(text: &str, lower: &[(usize, String)], from: usize) -> Option<(usize, usize, usize)> {
    let bounded = |at: usize, end: usize| {
        !text[..at].chars().next_back().is_some_and(char::is_alphanumeric)
            && !text[end..].chars().next().is_some_and(char::is_alphanumeric)
    };
    for (at, _) in text.char_indices().filter(|(i, _)| *i >= from) {
        let best = lower
            .iter()
            .filter_map(|(i, term)| {
                let end = at + term.len();
                let slice = text.get(at..end)?;
                (slice.to_lowercase() == *term && bounded(at, end)).then_some((end, *i))
            })
            .max_by_key(|(end, _)| *end);
        if let Some((end, i)) = best {
            return Some((at, end, i));
        }
    }
    None
}

/// The pseudo-translation of one text run with the terms applied (all but `skip`); the indices
/// of the terms applied.
fn run_with_terms(text: &str, terms: &[WireTerm], skip: Option<usize>) -> (String, Vec<usize>) {
    let lower: Vec<(usize, String)> = terms
        .iter()
        .enumerate()
        .filter(|(i, t)| Some(*i) != skip && !t.source.trim().is_empty())
        .map(|(i, t)| (i, t.source.trim().to_lowercase()))
        .collect();
    let mut out = String::new();
    let mut applied = Vec::new();
    let mut at = 0;
    while let Some((start, end, i)) = next_match(text, &lower, at) {
        out.push_str(&pseudo_run(&text[at..start]));
        out.push_str(&terms[i].target);
        applied.push(i);
        at = end;
    }
    out.push_str(&pseudo_run(&text[at..]));
    (out, applied)
}

/// [`pseudo_content`] with the terms applied (all but `skip`), and the terms applied.
pub fn pseudo_with_terms(
    content: &Content,
    terms: &[WireTerm],
    skip: Option<usize>,
) -> (Content, Vec<usize>) {
    if terms.is_empty() {
        return (pseudo_content(content), Vec::new());
    }
    let mut applied = Vec::new();
    let pieces: Vec<Piece> = content
        .pieces()
        .iter()
        .map(|p| match p {
            Piece::Text(t) => {
                let (text, used) = run_with_terms(t, terms, skip);
                applied.extend(used);
                Piece::Text(text)
            }
            other => other.clone(),
        })
        .collect();
    match Content::from_pieces(pieces) {
        Ok(c) => (c, applied),
        Err(_) => (pseudo_content(content), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_applied_on_word_boundaries_and_can_be_skipped() {
        let terms = vec![
            WireTerm { source: "cours".into(), target: "course".into() },
            WireTerm { source: "cours magistral".into(), target: "lecture".into() },
        ];
        let c = Content::parse("Le <g1>Cours magistral</g1>, le cours et le parcours.").unwrap();
        let (out, applied) = pseudo_with_terms(&c, &terms, None);
        let plain = out.plain_text();
        assert!(plain.contains("lecture") && plain.contains("course"), "{plain}");
        assert_eq!(applied, vec![1, 0]);
        assert!(!plain.contains("parcours"), "parcours is pseudo-translated: {plain}");
        let (out, applied) = pseudo_with_terms(&c, &terms, Some(0));
        assert_eq!(applied, vec![1]);
        assert!(!out.plain_text().contains("course"));
    }
}
