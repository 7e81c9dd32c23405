//! Inline codes the model lost: putting them back, and not exposing placeholders as text.
//!
//! [`reinsert_codes`] is the repair of last resort before keeping the source: the answer's tags
//! are removed and the source's codes placed back. A pair whose source text appears verbatim
//! once in the answer (a name, a number, a placeholder) wraps that text again; other codes go to
//! the word boundary nearest their relative position, and a pair that wrapped text in the source
//! always wraps some text again (never an empty pair around words that were inside it).
//!
//! [`protect_placeholders`] turns a placeholder that is the whole text of a paired code (an
//! XLIFF `<pc ctype="x-python-brace-param">{doctype}</pc>`) into a standalone code before the
//! segment goes to a model, so it is neither translated nor lost; [`Protected::restore`] puts the
//! text back in the answer.

use tradia_core::{CodeId, Content, MarkupError, Piece};

/// Removes anything that looks like an inline code tag (`<g3>`, `</g3>`, `<x4/>`), keeping text.
pub(super) fn strip_code_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let from = &rest[pos..];
        let b = from.as_bytes();
        let mut i = 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
        }
        let is_code = matches!(b.get(i), Some(b'g' | b'x'));
        let mut j = i + 1;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        if is_code && j > i + 1 && b.get(j) == Some(&b'>') {
            rest = &from[j + 1..];
        } else {
            out.push('<');
            rest = &from[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Most codes a segment may have for [`reinsert_codes`] to place them by proportion.
pub const MAX_REINSERTED_CODES: usize = 8;

/// The source text inside pair `id` (from its opening to its closing piece).
fn inner_text(pieces: &[Piece], id: CodeId) -> String {
    let mut out = String::new();
    let mut inside = false;
    for p in pieces {
        match p {
            Piece::Open(i) if *i == id => inside = true,
            Piece::Close(i) if *i == id => break,
            Piece::Text(t) if inside => out.push_str(t),
            _ => {}
        }
    }
    out
}

/// Char index of the only occurrence of `needle` in `hay`, if it occurs exactly once.
fn unique_occurrence(hay: &str, needle: &str) -> Option<usize> {
    let mut found = hay.match_indices(needle);
    let (byte, _) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(hay[..byte].chars().count())
}

/// Puts the source core's inline codes into a translation whose own codes are wrong. Order, and
/// so nesting, is preserved; the result carries exactly the source's codes. `None` when the text
/// is empty, there are too many codes to place safely, or a pair that wrapped text cannot wrap
/// any text of the answer.
pub fn reinsert_codes(core: &Content, answer: &str) -> Option<Content> {
    if core.code_count() > MAX_REINSERTED_CODES {
        return None;
    }
    let text = Content::parse(&strip_code_tags(answer)).ok()?.plain_text();
    if text.trim().is_empty() {
        return None;
    }
    let src_len: usize = core
        .pieces()
        .iter()
        .map(|p| if let Piece::Text(t) = p { t.chars().count() } else { 0 })
        .sum();
    let chars: Vec<char> = text.chars().collect();
    let tgt_len = chars.len();
    // Candidate insertion points: start, end, and every position next to whitespace.
    let boundaries: Vec<usize> = (0..=tgt_len)
        .filter(|&i| {
            i == 0
                || i == tgt_len
                || chars[i - 1].is_whitespace()
                || chars.get(i).is_some_and(|c| c.is_whitespace())
        })
        .collect();
    let nearest = |want: f64, from: usize, ok: &dyn Fn(usize) -> bool| {
        boundaries.iter().copied().filter(|&b| b >= from && ok(b)).min_by(|a, b| {
            let da = (*a as f64 - want).abs();
            let db = (*b as f64 - want).abs();
            da.total_cmp(&db)
        })
    };
    let has_text = |from: usize, to: usize| chars[from..to].iter().any(|c| !c.is_whitespace());
    let mut offset = 0usize;
    let mut last = 0usize;
    // Per open pair: where it was put, its verbatim end when anchored, whether it wrapped text.
    let mut open: Vec<(CodeId, usize, Option<usize>, bool)> = Vec::new();
    let mut placed: Vec<(usize, Piece)> = Vec::new();
    for p in core.pieces() {
        let want = if src_len == 0 { 0.0 } else { offset as f64 / src_len as f64 * tgt_len as f64 };
        let pos = match p {
            Piece::Text(t) => {
                offset += t.chars().count();
                continue;
            }
            Piece::Open(id) => {
                let inner = inner_text(core.pieces(), *id);
                let needle = inner.trim();
                let anchor = (!needle.is_empty())
                    .then(|| unique_occurrence(&text, needle))
                    .flatten()
                    .filter(|&at| at >= last);
                let wraps = !needle.is_empty();
                match anchor {
                    Some(at) => {
                        open.push((*id, at, Some(at + needle.chars().count()), wraps));
                        at
                    }
                    None => {
                        let at = nearest(want, last, &|_| true).unwrap_or(tgt_len);
                        open.push((*id, at, None, wraps));
                        at
                    }
                }
            }
            Piece::Close(id) => {
                let (_, start, end, wraps) = open.pop().filter(|o| o.0 == *id)?;
                match end.filter(|&e| e >= last) {
                    Some(e) => e,
                    None if wraps => nearest(want, last, &|b| b > start && has_text(start, b))?,
                    None => nearest(want, last, &|_| true).unwrap_or(tgt_len),
                }
            }
            Piece::Standalone(_) => nearest(want, last, &|_| true).unwrap_or(tgt_len),
        };
        last = pos;
        placed.push((pos, p.clone()));
    }
    let mut pieces = Vec::new();
    let mut cursor = 0usize;
    for (pos, code) in placed {
        if pos > cursor {
            pieces.push(Piece::Text(chars[cursor..pos].iter().collect()));
            cursor = pos;
        }
        pieces.push(code);
    }
    if cursor < tgt_len {
        pieces.push(Piece::Text(chars[cursor..].iter().collect()));
    }
    let content = Content::from_pieces(pieces).ok()?;
    content.check_codes_against(core).ok()?;
    Some(content)
}

/// Whether `s` is a format placeholder as a whole: `{name}`, `{0}`, `{{name}}`, `{n:.2f}`,
/// `${name}`, `%s`, `%(name)s`, `%1$d`.
pub fn is_placeholder(s: &str) -> bool {
    let ident = |inner: &str| {
        !inner.is_empty()
            && inner.chars().all(|c| c.is_alphanumeric() || "_.:-[]!#,".contains(c))
            && inner.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    if let Some(inner) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
        return ident(inner.trim());
    }
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        return ident(inner);
    }
    if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        return ident(inner);
    }
    let Some(mut rest) = s.strip_prefix('%') else { return false };
    if let Some(named) = rest.strip_prefix('(') {
        let Some((name, after)) = named.split_once(')') else { return false };
        if !ident(name) {
            return false;
        }
        rest = after;
    }
    let positional = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    if let Some(after) = positional.strip_prefix('$') {
        rest = after;
    }
    let rest = rest.trim_start_matches(['-', '+', ' ', '#', '0']);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let rest = rest.trim_start_matches(['l', 'h']);
    rest.len() == 1 && rest.chars().all(|c| "sdifuxXeEgGcr@".contains(c))
}

/// A core whose placeholders travel as codes, and how to put their text back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// The core as the model sees it.
    pub core: Content,
    /// Standalone codes added for placeholders, with the text each stands for.
    pub restore: Vec<(CodeId, String)>,
}

impl Protected {
    /// The answer with each added code replaced by its placeholder text again.
    pub fn restore(&self, answer: &Content) -> Result<Content, MarkupError> {
        if self.restore.is_empty() {
            return Ok(answer.clone());
        }
        Content::from_pieces(answer.pieces().iter().map(|p| {
            match p {
                Piece::Standalone(id) => self
                    .restore
                    .iter()
                    .find(|(r, _)| r == id)
                    .map_or_else(|| p.clone(), |(_, text)| Piece::Text(text.clone())),
                other => other.clone(),
            }
        }))
    }
}

/// Turns each placeholder that is the whole text of a paired code (`<g1>{doctype}</g1>`), or the
/// whole core, into a new standalone code (ids after the core's own).
pub fn protect_placeholders(core: &Content) -> Protected {
    let pieces = core.pieces();
    let mut next = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Open(i) | Piece::Close(i) | Piece::Standalone(i) => Some(*i),
            Piece::Text(_) => None,
        })
        .max()
        .unwrap_or(0);
    let mut restore = Vec::new();
    let mut out = Vec::with_capacity(pieces.len());
    for (i, p) in pieces.iter().enumerate() {
        let wrapped = pieces.len() == 1
            || matches!(
                (i.checked_sub(1).and_then(|j| pieces.get(j)), pieces.get(i + 1)),
                (Some(Piece::Open(a)), Some(Piece::Close(b))) if a == b
            );
        match p {
            Piece::Text(t) if wrapped && is_placeholder(t.trim()) => {
                let core_text = t.trim();
                let lead = &t[..t.len() - t.trim_start().len()];
                let trail = &t[t.trim_end().len()..];
                next += 1;
                out.push(Piece::Text(lead.to_string()));
                out.push(Piece::Standalone(next));
                out.push(Piece::Text(trail.to_string()));
                restore.push((next, core_text.to_string()));
            }
            other => out.push(other.clone()),
        }
    }
    match Content::from_pieces(out) {
        Ok(protected) if !restore.is_empty() => Protected { core: protected, restore },
        _ => Protected { core: core.clone(), restore: Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Content {
        Content::parse(s).unwrap()
    }

    #[test]
    fn codes_are_reinserted_in_order_at_word_boundaries() {
        let core = c("Cliquez sur <g1>le bouton <g2>vert</g2></g1> puis <x3/> validez.");
        let fixed = reinsert_codes(&core, "Click the <g1>green</g2> button then confirm.").unwrap();
        assert!(fixed.check_codes_against(&core).is_ok());
        assert_eq!(fixed.plain_text(), "Click the green button then confirm.");
        let r = fixed.render();
        let (a, b, c3) =
            (r.find("<g1>").unwrap(), r.find("<g2>").unwrap(), r.find("<x3/>").unwrap());
        assert!(a < b && b < c3, "{r}");
        assert!(!r.contains("<g2></g2>") && !r.contains("<g1></g1>"), "{r}");
        assert!(reinsert_codes(&core, "<g1></g1>").is_none());
    }

    #[test]
    fn a_pair_around_text_never_comes_back_empty() {
        // The pair is at the very end of the source: proportion alone would put both halves at
        // the end of the answer.
        let core = c("Le type de document est <g1>inconnu</g1>");
        let fixed = reinsert_codes(&core, "The document type is unknown").unwrap();
        let r = fixed.render();
        assert!(!r.contains("<g1></g1>"), "{r}");
        assert!(r.ends_with("</g1>") && r.contains("<g1>unknown</g1>"), "{r}");
    }

    #[test]
    fn verbatim_text_of_a_pair_is_wrapped_again() {
        let core = c("Type <g1>{doctype}</g1> inconnu, voir <g2>Moodle</g2>.");
        let fixed = reinsert_codes(&core, "Unknown {doctype} type, see Moodle.").unwrap();
        assert_eq!(fixed.render(), "Unknown <g1>{doctype}</g1> type, see <g2>Moodle</g2>.");
    }

    #[test]
    fn code_tags_are_stripped_but_other_text_is_not() {
        assert_eq!(strip_code_tags("a <g1>b</g1> <x2 /> c &lt;d&gt; <b>"), "a b  c &lt;d&gt; <b>");
    }

    #[test]
    fn placeholders_are_recognised() {
        for yes in [
            "{doctype}",
            "{0}",
            "{{ name }}",
            "{n:.2f}",
            "${user}",
            "%s",
            "%(name)s",
            "%1$d",
            "%5.2f",
        ] {
            assert!(is_placeholder(yes), "{yes}");
        }
        for no in ["{not a placeholder}", "doctype", "%", "{}", "100%", "{a}b"] {
            assert!(!is_placeholder(no), "{no}");
        }
    }

    #[test]
    fn a_placeholder_inside_a_pair_travels_as_a_code() {
        let core = c("Type <g1>{doctype}</g1> inconnu, <g2>nom</g2> {x}.");
        let p = protect_placeholders(&core);
        assert_eq!(p.core.render(), "Type <g1><x3/></g1> inconnu, <g2>nom</g2> {x}.");
        // The model dropped every tag: the codes come back around the placeholder.
        let fixed = reinsert_codes(&p.core, "Unknown type, name {x}.").unwrap();
        let back = p.restore(&fixed).unwrap();
        assert!(back.render().contains("<g1>{doctype}</g1>"), "{}", back.render());
        assert!(back.check_codes_against(&core).is_ok());
        let whole = protect_placeholders(&c("{doctype}"));
        assert!(!whole.core.has_letters());
        assert_eq!(whole.restore(&whole.core).unwrap(), c("{doctype}"));
        let none = protect_placeholders(&c("a <g1>b</g1>"));
        assert!(none.restore.is_empty());
    }
}
