//! A segment too long for the server's context, cut at sentence boundaries.
//!
//! When one segment with the instructions and its answer cannot fit in the context per slot,
//! it is sent in parts, each a run of whole sentences, and the translated parts are joined
//! again with the whitespace that separated them. Cuts are made only in text outside any paired
//! code, so every part is valid content on its own and the joined answer has the source's codes.

use tradia_core::{Content, Piece};

/// Ends of sentences: a cut may follow one (with the whitespace after it, or at once after an
/// ideographic one).
fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？')
}

fn ideographic(c: char) -> bool {
    matches!(c, '。' | '！' | '？')
}

/// The content's sentences (pieces each) and the whitespace that follows each one.
fn sentences(core: &Content) -> Vec<(Vec<Piece>, String)> {
    let mut out: Vec<(Vec<Piece>, String)> = Vec::new();
    let mut cur: Vec<Piece> = Vec::new();
    let mut depth = 0usize;
    for p in core.pieces() {
        match p {
            Piece::Text(t) if depth == 0 => {
                let mut rest = t.as_str();
                loop {
                    // The first sentence end followed by whitespace (or ideographic).
                    let cut = rest.char_indices().find_map(|(i, c)| {
                        if !ends_sentence(c) {
                            return None;
                        }
                        let after = &rest[i + c.len_utf8()..];
                        let ws = after.len() - after.trim_start().len();
                        if ws > 0 && !after.trim_start().is_empty() {
                            Some((i + c.len_utf8(), ws))
                        } else if ideographic(c) && !after.is_empty() {
                            Some((i + c.len_utf8(), 0))
                        } else {
                            None
                        }
                    });
                    match cut {
                        Some((end, ws)) => {
                            cur.push(Piece::Text(rest[..end].to_string()));
                            out.push((std::mem::take(&mut cur), rest[end..end + ws].to_string()));
                            rest = &rest[end + ws..];
                        }
                        None => {
                            if !rest.is_empty() {
                                cur.push(Piece::Text(rest.to_string()));
                            }
                            break;
                        }
                    }
                }
            }
            other => {
                match other {
                    Piece::Open(_) => depth += 1,
                    Piece::Close(_) => depth = depth.saturating_sub(1),
                    _ => {}
                }
                cur.push(other.clone());
            }
        }
    }
    if !cur.is_empty() {
        out.push((cur, String::new()));
    }
    out
}

/// `core` cut into parts of whole sentences, each at most `max_bytes` rendered, with the
/// whitespace between consecutive parts; `None` when a single sentence is longer than that.
pub(super) fn split_sentences(
    core: &Content,
    max_bytes: usize,
) -> Option<(Vec<Content>, Vec<String>)> {
    let mut parts: Vec<Content> = Vec::new();
    let mut seps: Vec<String> = Vec::new();
    let mut cur: Vec<Piece> = Vec::new();
    let mut cur_len = 0usize;
    let mut pending_sep = String::new();
    for (pieces, sep) in sentences(core) {
        let len = Content::from_pieces(pieces.clone()).ok()?.render().len();
        if len > max_bytes {
            return None;
        }
        if !cur.is_empty() && cur_len + pending_sep.len() + len > max_bytes {
            parts.push(Content::from_pieces(std::mem::take(&mut cur)).ok()?);
            seps.push(std::mem::take(&mut pending_sep));
            cur_len = 0;
        }
        if !cur.is_empty() {
            cur.push(Piece::Text(std::mem::take(&mut pending_sep)));
            cur_len += 1;
        }
        pending_sep = sep;
        cur_len += len;
        cur.extend(pieces);
    }
    if !cur.is_empty() {
        parts.push(Content::from_pieces(cur).ok()?);
    }
    Some((parts, seps))
}

/// The translated parts joined again with their separators.
pub(super) fn join_parts(parts: &[Content], seps: &[String]) -> Option<Content> {
    let mut pieces = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            pieces.push(Piece::Text(seps.get(i - 1).cloned().unwrap_or_else(|| " ".into())));
        }
        pieces.extend(p.pieces().iter().cloned());
    }
    Content::from_pieces(pieces).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Content {
        Content::parse(s).unwrap()
    }

    #[test]
    fn long_content_is_cut_between_sentences_outside_pairs() {
        let core = c("Première phrase. Deuxième <g1>avec. Un code</g1> ici ! Troisième ? Fin.");
        let (parts, seps) = split_sentences(&core, 40).unwrap();
        let rendered: Vec<String> = parts.iter().map(Content::render).collect();
        assert_eq!(
            rendered,
            ["Première phrase.", "Deuxième <g1>avec. Un code</g1> ici !", "Troisième ? Fin."]
        );
        assert_eq!(seps, [" ", " "]);
        assert_eq!(join_parts(&parts, &seps).unwrap(), core);
        // A sentence longer than the limit cannot be cut.
        assert!(split_sentences(&core, 10).is_none());
        let cjk = c("第一句。第二句。");
        let (parts, seps) = split_sentences(&cjk, 12).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(join_parts(&parts, &seps).unwrap(), cjk);
    }
}
