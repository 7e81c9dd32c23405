//! A segment too long for the server's context (or longer than `TRADIA_MAX_SEGMENT_CHARS`),
//! cut at sentence boundaries.
//!
//! When one segment with the instructions and its answer cannot fit in the context per slot,
//! or is longer than the configured longest segment, it is sent in parts, each a run of whole
//! sentences, and the translated parts are joined again with the whitespace that separated
//! them. A sentence that is longer than a part may be on its own is cut between words, and a
//! word longer than that between characters, so that no text is ever sent whole above the
//! budget. Cuts are made only in text outside any paired code, so every part is valid content
//! on its own and the joined answer has the source's codes; a paired code whose content alone
//! is over the budget cannot be cut (`None`).

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

fn rendered_len(pieces: &[Piece]) -> Option<usize> {
    Some(Content::from_pieces(pieces.to_vec()).ok()?.render().len())
}

/// One sentence (`pieces`, followed by `sep`) cut into runs of words, each at most `max_bytes`
/// rendered, with the whitespace after each; a word longer than that is cut between characters.
/// A paired code with its content is one unit; `None` when such a unit alone is too long.
fn words(pieces: Vec<Piece>, sep: String, max_bytes: usize) -> Option<Vec<(Vec<Piece>, String)>> {
    let mut out: Vec<(Vec<Piece>, String)> = Vec::new();
    let mut group: Vec<Piece> = Vec::new();
    let mut depth = 0usize;
    for p in pieces {
        match p {
            Piece::Text(t) if depth == 0 => {
                let mut rest = t.as_str();
                while !rest.is_empty() {
                    let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    let after = &rest[word_end..];
                    let ws_end = word_end + (after.len() - after.trim_start().len());
                    let mut word = &rest[..word_end];
                    // A word too long on its own: pieces of whole characters.
                    while word.len() > max_bytes {
                        let mut cut = max_bytes.max(1);
                        while !word.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        if cut == 0 {
                            cut = word.chars().next().map_or(word.len(), char::len_utf8);
                        }
                        out.push((vec![Piece::Text(word[..cut].to_string())], String::new()));
                        word = &word[cut..];
                    }
                    let ws = rest[word_end..ws_end].to_string();
                    if word.is_empty() {
                        // Whitespace before the first word, or after a cut word.
                        match out.last_mut() {
                            Some(last) => last.1.push_str(&ws),
                            None => out.push((Vec::new(), ws)),
                        }
                    } else {
                        out.push((vec![Piece::Text(word.to_string())], ws));
                    }
                    rest = &rest[ws_end..];
                }
            }
            other => {
                match other {
                    Piece::Open(_) => depth += 1,
                    Piece::Close(_) => depth = depth.saturating_sub(1),
                    _ => {}
                }
                group.push(other);
                if depth == 0 {
                    let unit = std::mem::take(&mut group);
                    if rendered_len(&unit)? > max_bytes {
                        return None;
                    }
                    out.push((unit, String::new()));
                }
            }
        }
    }
    if !group.is_empty() {
        return None;
    }
    match out.last_mut() {
        Some(last) => last.1.push_str(&sep),
        None => out.push((Vec::new(), sep)),
    }
    Some(out)
}

/// `core` cut into parts of whole sentences (or, for a sentence too long alone, of whole
/// words), each at most `max_bytes` rendered, with the whitespace between consecutive parts;
/// `None` when a paired code with its content alone is longer than that.
pub(super) fn split_sentences(
    core: &Content,
    max_bytes: usize,
) -> Option<(Vec<Content>, Vec<String>)> {
    let mut parts: Vec<Content> = Vec::new();
    let mut seps: Vec<String> = Vec::new();
    let mut cur: Vec<Piece> = Vec::new();
    let mut cur_len = 0usize;
    let mut pending_sep = String::new();
    let mut units: Vec<(Vec<Piece>, String)> = Vec::new();
    for (pieces, sep) in sentences(core) {
        if rendered_len(&pieces)? > max_bytes {
            units.extend(words(pieces, sep, max_bytes)?);
        } else {
            units.push((pieces, sep));
        }
    }
    for (pieces, sep) in units {
        let len = rendered_len(&pieces)?;
        if pieces.is_empty() {
            // Whitespace only: it joins the separator before it, or starts the first part.
            if !cur.is_empty() {
                pending_sep.push_str(&sep);
            } else if let Some(last) = seps.last_mut() {
                last.push_str(&sep);
            } else {
                cur_len += sep.len();
                cur.push(Piece::Text(sep));
            }
            continue;
        }
        if !cur.is_empty() && cur_len + pending_sep.len() + len > max_bytes {
            parts.push(Content::from_pieces(std::mem::take(&mut cur)).ok()?);
            seps.push(std::mem::take(&mut pending_sep));
            cur_len = 0;
        }
        if !cur.is_empty() {
            cur_len += pending_sep.len();
            cur.push(Piece::Text(std::mem::take(&mut pending_sep)));
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
        // A paired code whose content alone is over the limit cannot be cut.
        assert!(split_sentences(&c("Avant <g1>un long passage codé</g1> après."), 10).is_none());
        let cjk = c("第一句。第二句。");
        let (parts, seps) = split_sentences(&cjk, 12).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(join_parts(&parts, &seps).unwrap(), cjk);
    }

    /// Every part is within the budget, and the parts joined give the source back.
    fn check_cut(core: &Content, max: usize) -> Vec<String> {
        let (parts, seps) = split_sentences(core, max).unwrap();
        for p in &parts {
            assert!(p.render().len() <= max, "part over {max} bytes: {:?}", p.render());
        }
        assert_eq!(join_parts(&parts, &seps).unwrap(), *core);
        parts.iter().map(Content::render).collect()
    }

    #[test]
    fn a_sentence_too_long_alone_is_cut_between_words_then_characters() {
        // No sentence end at all (a 49 MB paragraph of the issue, in small): cut at spaces.
        let core = c("un deux trois quatre <g1>cinq six</g1> sept huit neuf dix onze douze");
        let parts = check_cut(&core, 20);
        assert!(parts.len() > 3, "{parts:?}");
        assert!(parts.iter().any(|p| p == "<g1>cinq six</g1>"), "{parts:?}");
        // Sentences that fit stay whole next to one that does not.
        let core = c("Court. Une phrase beaucoup trop longue pour tenir dans une seule part. Fin.");
        let parts = check_cut(&core, 24);
        assert_eq!(parts.first().map(String::as_str), Some("Court. Une phrase"), "{parts:?}");
        // A word longer than a part: between characters, never inside one.
        let core = c("Anticonstitutionnellementéééé fin");
        let parts = check_cut(&core, 7);
        assert!(parts.iter().all(|p| p.len() <= 7), "{parts:?}");
        // A long text of many short words, as one segment: every part under the budget.
        let long: String = (0..2_000).map(|n| format!("mot{n} ")).collect();
        let core = c(long.trim_end());
        assert!(check_cut(&core, 400).len() >= 2_000 * 7 / 400);
    }
}
