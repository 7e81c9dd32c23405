//! The simulated model's translation: `tradia_core::pseudo` on each text run, with URLs and
//! e-mail addresses left as they are (as the prompt asks of a model).

use tradia_core::pseudo::pseudo_text;
use tradia_core::{Content, Piece};

/// The pseudo-translation of a text run, with URLs and e-mail addresses left as they are (as a
/// model that follows the prompt's rules does).
pub fn pseudo_run(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut plain = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let ws_end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
        plain.push_str(&rest[..ws_end]);
        rest = &rest[ws_end..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = &rest[word_end..];
        let core = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let lower = core.to_ascii_lowercase();
        let verbatim = lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
            || core.split_once('@').is_some_and(|(u, h)| !u.is_empty() && h.contains('.'));
        if verbatim {
            out.push_str(&pseudo_text(&plain));
            plain.clear();
            out.push_str(core);
            plain.push_str(&word[core.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    out.push_str(&pseudo_text(&plain));
    out
}

/// [`pseudo_run`] on every text piece of `content`; codes stay in place.
pub fn pseudo_content(content: &Content) -> Content {
    let pieces = content.pieces().iter().map(|p| match p {
        Piece::Text(t) => Piece::Text(pseudo_run(t)),
        other => other.clone(),
    });
    Content::from_pieces(pieces).unwrap_or_else(|_| content.clone())
}

/// Pseudo-translation of one rendered segment.
pub fn pseudo_segment(text: &str) -> String {
    match Content::parse(text) {
        Ok(c) => pseudo_content(&c).render(),
        Err(_) => pseudo_run(text),
    }
}
