//! Deterministic pseudo-translation.
//!
//! Lets anyone check a document's round trip without a GPU: every text run is visibly changed
//! (Latin letters get accents, the run is wrapped in `⟦…⟧`) while its leading and trailing
//! whitespace and every inline code stay exactly where they were. The brackets are not ASCII so
//! that they can never be read as Markdown, wiki or template syntax by a filter.
//! The LLM simulator uses the same function, so a test can predict what it will answer.

use crate::content::{Content, Piece};

/// Opening mark of a pseudo-translated run.
pub const OPEN_MARK: char = '⟦';
/// Closing mark of a pseudo-translated run.
pub const CLOSE_MARK: char = '⟧';

/// Pseudo-translates one text run: accents on Latin letters, `⟦…⟧` around the non-blank part.
/// Blank text is returned unchanged.
pub fn pseudo_text(text: &str) -> String {
    let trimmed_start = text.trim_start();
    let lead = &text[..text.len() - trimmed_start.len()];
    let core = trimmed_start.trim_end();
    let trail = &trimmed_start[core.len()..];
    if core.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() * 2 + 8);
    out.push_str(lead);
    out.push(OPEN_MARK);
    out.extend(core.chars().map(accent));
    out.push(CLOSE_MARK);
    out.push_str(trail);
    out
}

/// Pseudo-translates every text piece of `content`; codes stay in place.
pub fn pseudo_content(content: &Content) -> Content {
    let pieces = content.pieces().iter().map(|p| match p {
        Piece::Text(t) => Piece::Text(pseudo_text(t)),
        other => other.clone(),
    });
    // Mapping text pieces one to one keeps the structure valid.
    Content::from_pieces(pieces).unwrap_or_else(|_| content.clone())
}

fn accent(c: char) -> char {
    match c {
        'a' => 'á',
        'e' => 'é',
        'i' => 'í',
        'o' => 'ó',
        'u' => 'ú',
        'y' => 'ý',
        'c' => 'ç',
        'n' => 'ñ',
        'A' => 'Á',
        'E' => 'É',
        'I' => 'Í',
        'O' => 'Ó',
        'U' => 'Ú',
        'Y' => 'Ý',
        'C' => 'Ç',
        'N' => 'Ñ',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_marked_and_whitespace_kept() {
        assert_eq!(pseudo_text("  Open the menu \n"), "  ⟦Ópéñ thé méñú⟧ \n");
        assert_eq!(pseudo_text(" \t"), " \t");
        assert_eq!(pseudo_text("2"), "⟦2⟧");
    }

    #[test]
    fn codes_stay_in_place() {
        let src = Content::parse("<g1>Open</g1> the<g2> settings</g2> <x3/>").unwrap();
        let out = pseudo_content(&src);
        assert_eq!(out.render(), "<g1>⟦Ópéñ⟧</g1> ⟦thé⟧<g2> ⟦séttíñgs⟧</g2> <x3/>");
    }
}
