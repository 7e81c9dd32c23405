//! Segment content: text interleaved with inline codes, and its tagged rendering.
//!
//! A segment's content is a flat list of [`Piece`]s: text, the opening or closing half of a
//! *paired* code (bold, a link, …) or a *standalone* code (an image, a formula, a tab). The
//! original markup of each code never lives here: filters keep it in their skeleton, keyed by the
//! code id, so whatever a model answers, the markup that comes back is the markup that went in.
//!
//! Models see content rendered as XLIFF-like tags (`<g1>…</g1>`, `<x2/>`), with `<`, `>` and `&`
//! of the text escaped so that text which *looks* like markup (`&lt;TITLE&gt;` in a Scenari
//! paragraph) can never be confused with a code. [`Content::parse`] reads such a rendering back and
//! [`Content::parse_answer`] additionally checks it against the source: the same codes, each once,
//! properly nested, nothing invented.
//!
//! Invariants of a [`Content`] (checked by every constructor): paired codes nest properly, every id
//! is used by exactly one code, adjacent text pieces are merged and no text piece is empty.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Identifier of an inline code, local to its segment (1-based, as shown to models).
pub type CodeId = u32;

/// One piece of segment content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Plain text (never empty inside a [`Content`]).
    Text(String),
    /// Opening half of paired code `id` (`<gN>`).
    Open(CodeId),
    /// Closing half of paired code `id` (`</gN>`).
    Close(CodeId),
    /// Standalone code `id` (`<xN/>`).
    Standalone(CodeId),
}

/// What a code is, as far as validation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeKind {
    /// `<gN>…</gN>`: wraps text.
    Paired,
    /// `<xN/>`: a placeholder with no text of its own.
    Standalone,
}

/// Why a rendering or a piece list is not acceptable segment content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkupError {
    /// A closing tag without a matching open one, or closing out of order.
    #[error("inline code g{0} is closed without being open, or out of order")]
    MisNested(CodeId),
    /// A paired code opened and never closed.
    #[error("inline code g{0} is opened but never closed")]
    Unclosed(CodeId),
    /// An id used twice.
    #[error("inline code {0} appears more than once")]
    Duplicate(CodeId),
    /// A code of the source is absent from the answer.
    #[error("inline code {0} of the source is missing")]
    Missing(CodeId),
    /// The answer contains a code the source does not have.
    #[error("inline code {0} does not exist in the source")]
    Invented(CodeId),
    /// Same id, other kind (`<x1/>` for a source `<g1>`).
    #[error("inline code {0} has the wrong kind")]
    WrongKind(CodeId),
    /// Code ids start at 1.
    #[error("inline code id 0 is not allowed")]
    ZeroId,
}

/// Validated segment content. See the module documentation for its invariants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Content {
    pieces: Vec<Piece>,
}

impl Content {
    /// Content made of one text piece (empty text gives empty content).
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        let pieces = if text.is_empty() { Vec::new() } else { vec![Piece::Text(text)] };
        Content { pieces }
    }

    /// Builds content from pieces, merging adjacent texts, and checks nesting and uniqueness.
    pub fn from_pieces(pieces: impl IntoIterator<Item = Piece>) -> Result<Self, MarkupError> {
        // Collecting a `Vec` reuses its buffer; texts are then merged in place.
        let mut merged: Vec<Piece> = pieces.into_iter().collect();
        merged.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
        merged.dedup_by(|next, prev| match (next, prev) {
            (Piece::Text(t), Piece::Text(p)) => {
                p.push_str(t);
                true
            }
            _ => false,
        });
        check_structure(&merged)?;
        Ok(Content { pieces: merged })
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// True when there is no piece at all.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// The codes of this content with their kinds, by id.
    pub fn codes(&self) -> BTreeMap<CodeId, CodeKind> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Open(id) => Some((*id, CodeKind::Paired)),
                Piece::Standalone(id) => Some((*id, CodeKind::Standalone)),
                _ => None,
            })
            .collect()
    }

    /// Number of inline codes (a pair counts once).
    pub fn code_count(&self) -> usize {
        self.pieces.iter().filter(|p| matches!(p, Piece::Open(_) | Piece::Standalone(_))).count()
    }

    /// The text alone, codes removed.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            if let Piece::Text(t) = p {
                out.push_str(t);
            }
        }
        out
    }

    /// True when the text (codes removed) holds at least one letter (any script).
    pub fn has_letters(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Text(t) if t.chars().any(char::is_alphabetic)))
    }

    /// Renders for a model: `<gN>…</gN>`, `<xN/>`, text with `&`, `<`, `>` escaped.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => escape_into(t, &mut out),
                Piece::Open(id) => {
                    out.push_str("<g");
                    out.push_str(&id.to_string());
                    out.push('>');
                }
                Piece::Close(id) => {
                    out.push_str("</g");
                    out.push_str(&id.to_string());
                    out.push('>');
                }
                Piece::Standalone(id) => {
                    out.push_str("<x");
                    out.push_str(&id.to_string());
                    out.push_str("/>");
                }
            }
        }
        out
    }

    /// Parses a rendering (the inverse of [`Content::render`]).
    ///
    /// Lenient where models are sloppy but no information is lost: a `<` that does not start a
    /// well-formed code tag is read as text, unknown entities are read literally, spaces inside a
    /// tag (`<x2 />`) are accepted. Strict on structure: nesting and uniqueness are checked.
    pub fn parse(rendered: &str) -> Result<Self, MarkupError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = rendered;
        while let Some(pos) = rest.find(['<', '&']) {
            let (before, from) = rest.split_at(pos);
            text.push_str(before);
            if let Some(after_amp) = from.strip_prefix('&') {
                match decode_entity(from) {
                    Some((ch, len)) => {
                        text.push(ch);
                        rest = &from[len..];
                    }
                    None => {
                        text.push('&');
                        rest = after_amp;
                    }
                }
                continue;
            }
            match parse_tag(from) {
                Some((piece, len)) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(piece);
                    rest = &from[len..];
                }
                None => {
                    text.push('<');
                    rest = &from[1..];
                }
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Content::from_pieces(pieces)
    }

    /// Parses a model's answer for `source` and checks that it carries exactly the source's codes:
    /// each once, of the same kind, nothing invented, properly nested.
    pub fn parse_answer(source: &Content, answer: &str) -> Result<Self, MarkupError> {
        let parsed = Content::parse(answer)?;
        parsed.check_codes_against(source)?;
        Ok(parsed)
    }

    /// Checks that `self` carries exactly the codes of `source` (kinds included).
    pub fn check_codes_against(&self, source: &Content) -> Result<(), MarkupError> {
        // Fast path without allocation (merges check every segment): ids below 128 as bit sets.
        if let (Some(want), Some(got)) = (source.code_masks(), self.code_masks()) {
            let (want_paired, want_standalone) = want;
            let (got_paired, got_standalone) = got;
            let want_all = want_paired | want_standalone;
            let got_all = got_paired | got_standalone;
            // Same order as the general path: the lowest offending id of `self` first.
            let invented = got_all & !want_all;
            let wrong = (got_paired & want_standalone) | (got_standalone & want_paired);
            let first_bad = invented | wrong;
            if first_bad != 0 {
                let id = first_bad.trailing_zeros();
                return Err(if invented & (1 << id) != 0 {
                    MarkupError::Invented(id)
                } else {
                    MarkupError::WrongKind(id)
                });
            }
            let missing = want_all & !got_all;
            if missing != 0 {
                return Err(MarkupError::Missing(missing.trailing_zeros()));
            }
            return Ok(());
        }
        let want = source.codes();
        let got = self.codes();
        for (id, kind) in &got {
            match want.get(id) {
                None => return Err(MarkupError::Invented(*id)),
                Some(k) if k != kind => return Err(MarkupError::WrongKind(*id)),
                Some(_) => {}
            }
        }
        if let Some(id) = want.keys().find(|id| !got.contains_key(id)) {
            return Err(MarkupError::Missing(*id));
        }
        Ok(())
    }

    /// The ids of paired and standalone codes as bit sets, when every id is below 128.
    fn code_masks(&self) -> Option<(u128, u128)> {
        let (mut paired, mut standalone) = (0u128, 0u128);
        for p in &self.pieces {
            match p {
                Piece::Open(id) if *id < 128 => paired |= 1 << id,
                Piece::Standalone(id) if *id < 128 => standalone |= 1 << id,
                Piece::Open(_) | Piece::Standalone(_) => return None,
                Piece::Text(_) | Piece::Close(_) => {}
            }
        }
        Some((paired, standalone))
    }

    /// Splits off what a model need not see: leading and trailing whitespace, standalone codes at
    /// either end, and paired codes wrapping the whole content.
    pub fn split_edges(&self) -> Edges {
        let mut pieces: std::collections::VecDeque<Piece> = self.pieces.iter().cloned().collect();
        let mut lead = Vec::new();
        let mut trail = Vec::new();
        loop {
            let mut changed = false;
            if let Some(Piece::Text(t)) = pieces.front_mut() {
                let trimmed = t.trim_start();
                if trimmed.len() != t.len() {
                    let ws = t[..t.len() - trimmed.len()].to_string();
                    *t = trimmed.to_string();
                    lead.push(Piece::Text(ws));
                    if t.is_empty() {
                        pieces.pop_front();
                    }
                    changed = true;
                }
            }
            if let Some(Piece::Text(t)) = pieces.back_mut() {
                let trimmed_len = t.trim_end().len();
                if trimmed_len != t.len() {
                    let ws = t.split_off(trimmed_len);
                    trail.push(Piece::Text(ws));
                    if t.is_empty() {
                        pieces.pop_back();
                    }
                    changed = true;
                }
            }
            if let Some(Piece::Standalone(_)) = pieces.front() {
                lead.extend(pieces.pop_front());
                changed = true;
            }
            if let Some(Piece::Standalone(_)) = pieces.back() {
                trail.extend(pieces.pop_back());
                changed = true;
            }
            if let (Some(Piece::Open(a)), Some(Piece::Close(b))) = (pieces.front(), pieces.back())
                && a == b
            {
                lead.extend(pieces.pop_front());
                trail.extend(pieces.pop_back());
                changed = true;
            }
            if !changed {
                break;
            }
        }
        trail.reverse();
        Edges {
            lead,
            // Removing matched pairs, standalone codes and whitespace from the ends of valid
            // content leaves valid content.
            core: Content { pieces: pieces.into_iter().collect() },
            trail,
        }
    }
}

/// A content split into what a model sees (`core`) and what stays around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edges {
    /// Pieces before the core (whitespace, standalone codes, opening halves of wrapping pairs).
    pub lead: Vec<Piece>,
    /// What is sent for translation.
    pub core: Content,
    /// Pieces after the core.
    pub trail: Vec<Piece>,
}

impl Edges {
    /// Puts a translation of the core back between the edges.
    ///
    /// `translated` must carry the codes of `self.core` (see [`Content::check_codes_against`]).
    pub fn rejoin(&self, translated: &Content) -> Result<Content, MarkupError> {
        translated.check_codes_against(&self.core)?;
        Content::from_pieces(
            self.lead.iter().chain(translated.pieces.iter()).chain(self.trail.iter()).cloned(),
        )
    }
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.render())
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Content::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Incremental construction of content by a filter: ids are allocated in document order.
#[derive(Debug, Default)]
pub struct ContentBuilder {
    pieces: Vec<Piece>,
    next_id: CodeId,
    open: Vec<CodeId>,
}

impl ContentBuilder {
    /// A builder whose first code gets id 1.
    pub fn new() -> Self {
        ContentBuilder { pieces: Vec::new(), next_id: 1, open: Vec::new() }
    }

    /// Appends text.
    pub fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Piece::Text(prev)) = self.pieces.last_mut() {
            prev.push_str(text);
        } else {
            self.pieces.push(Piece::Text(text.to_string()));
        }
    }

    /// Opens a paired code and returns its id.
    pub fn open(&mut self) -> CodeId {
        let id = self.alloc();
        self.open.push(id);
        self.pieces.push(Piece::Open(id));
        id
    }

    /// Closes the innermost open paired code and returns its id (None if none is open).
    pub fn close(&mut self) -> Option<CodeId> {
        let id = self.open.pop()?;
        self.pieces.push(Piece::Close(id));
        Some(id)
    }

    /// Adds a standalone code and returns its id.
    pub fn standalone(&mut self) -> CodeId {
        let id = self.alloc();
        self.pieces.push(Piece::Standalone(id));
        id
    }

    /// Depth of open paired codes.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// Finishes; fails if a paired code is still open.
    pub fn finish(self) -> Result<Content, MarkupError> {
        if let Some(id) = self.open.last() {
            return Err(MarkupError::Unclosed(*id));
        }
        Content::from_pieces(self.pieces)
    }

    fn alloc(&mut self) -> CodeId {
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        id
    }
}

fn check_structure(pieces: &[Piece]) -> Result<(), MarkupError> {
    // Ids below 128 are tracked in a bit set (no allocation); larger ones in a tree.
    let mut small: u128 = 0;
    let mut seen = BTreeSet::new();
    let mut insert = |id: CodeId| {
        if id < 128 {
            let fresh = small & (1 << id) == 0;
            small |= 1 << id;
            fresh
        } else {
            seen.insert(id)
        }
    };
    let mut stack = Vec::new();
    for p in pieces {
        match p {
            Piece::Text(_) => {}
            Piece::Open(id) => {
                if *id == 0 {
                    return Err(MarkupError::ZeroId);
                }
                if !insert(*id) {
                    return Err(MarkupError::Duplicate(*id));
                }
                stack.push(*id);
            }
            Piece::Close(id) => {
                if stack.pop() != Some(*id) {
                    return Err(MarkupError::MisNested(*id));
                }
            }
            Piece::Standalone(id) => {
                if *id == 0 {
                    return Err(MarkupError::ZeroId);
                }
                if !insert(*id) {
                    return Err(MarkupError::Duplicate(*id));
                }
            }
        }
    }
    match stack.last() {
        Some(id) => Err(MarkupError::Unclosed(*id)),
        None => Ok(()),
    }
}

fn escape_into(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Escapes text the way [`Content::render`] does.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

/// Decodes `&name;` at the start of `s`; returns the character and the bytes consumed.
fn decode_entity(s: &str) -> Option<(char, usize)> {
    let window = s.char_indices().take(12).last().map_or(0, |(i, c)| i + c.len_utf8());
    let end = s.get(..window)?.find(';')?;
    let name = s.get(1..end)?;
    let ch = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((ch, end + 1))
}

/// Reads `<gN>`, `</gN>` or `<xN/>` (spaces tolerated before `>` and `/>`) at the start of `s`.
fn parse_tag(s: &str) -> Option<(Piece, usize)> {
    let bytes = s.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let kind = *bytes.get(i)?;
    if kind != b'g' && kind != b'x' && kind != b'G' && kind != b'X' {
        return None;
    }
    i += 1;
    let digits_start = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == digits_start || i - digits_start > 6 {
        return None;
    }
    let id: CodeId = s.get(digits_start..i)?.parse().ok()?;
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    let standalone_kind = kind == b'x' || kind == b'X';
    let piece = if closing {
        if standalone_kind {
            return None;
        }
        if bytes.get(i) != Some(&b'>') {
            return None;
        }
        i += 1;
        Piece::Close(id)
    } else if standalone_kind {
        if bytes.get(i) == Some(&b'/') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'>') {
            return None;
        }
        i += 1;
        Piece::Standalone(id)
    } else {
        if bytes.get(i) != Some(&b'>') {
            return None;
        }
        i += 1;
        Piece::Open(id)
    };
    Some((piece, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The allocation-free path (ids below 128) and the general one (larger ids) give the same
    /// verdicts, in the same order: lowest offending id of the answer first, then missing ids.
    #[test]
    fn code_checks_agree_for_small_and_large_ids() {
        for shift in [0u32, 200] {
            let p = |pieces: Vec<Piece>| Content::from_pieces(pieces).unwrap();
            let id = |n: u32| n + shift;
            let source = p(vec![
                Piece::Open(id(1)),
                Piece::Text("a".into()),
                Piece::Close(id(1)),
                Piece::Standalone(id(2)),
                Piece::Standalone(id(3)),
            ]);
            let same = p(vec![
                Piece::Standalone(id(3)),
                Piece::Standalone(id(2)),
                Piece::Open(id(1)),
                Piece::Close(id(1)),
            ]);
            assert_eq!(same.check_codes_against(&source), Ok(()));
            let invented = p(vec![
                Piece::Standalone(id(5)),
                Piece::Open(id(1)),
                Piece::Close(id(1)),
                Piece::Open(id(2)),
                Piece::Close(id(2)),
            ]);
            assert_eq!(invented.check_codes_against(&source), Err(MarkupError::WrongKind(id(2))));
            let only_invented = p(vec![Piece::Standalone(id(9))]);
            assert_eq!(
                only_invented.check_codes_against(&source),
                Err(MarkupError::Invented(id(9)))
            );
            let missing =
                p(vec![Piece::Open(id(1)), Piece::Close(id(1)), Piece::Standalone(id(3))]);
            assert_eq!(missing.check_codes_against(&source), Err(MarkupError::Missing(id(2))));
            assert_eq!(
                Content::from_pieces(vec![Piece::Standalone(id(4)), Piece::Standalone(id(4))]),
                Err(MarkupError::Duplicate(id(4)))
            );
        }
    }

    fn c(s: &str) -> Content {
        Content::parse(s).unwrap()
    }

    #[test]
    fn render_escapes_text_that_looks_like_markup() {
        let content = Content::text("Write <TITLE> & <g1>");
        assert_eq!(content.render(), "Write &lt;TITLE&gt; &amp; &lt;g1&gt;");
        assert_eq!(Content::parse(&content.render()).unwrap(), content);
    }

    #[test]
    fn parse_reads_codes_and_tolerates_loose_text() {
        let parsed = c("Click <g1><x2 /></g1> then <g3>confirm <g4>OK</g4></g3> a<b");
        assert_eq!(parsed.code_count(), 4);
        assert_eq!(parsed.plain_text(), "Click  then confirm OK a<b");
    }

    #[test]
    fn answers_are_checked_against_the_source() {
        let src = c("a <g1>b <x2/></g1> c");
        assert!(Content::parse_answer(&src, "<g1>B <x2/></g1> A C").is_ok());
        assert_eq!(Content::parse_answer(&src, "<g1>B</g1> A"), Err(MarkupError::Missing(2)));
        assert_eq!(
            Content::parse_answer(&src, "<g1>B <x2/><x2/></g1>"),
            Err(MarkupError::Duplicate(2))
        );
        assert_eq!(
            Content::parse_answer(&src, "<g1>B <x2/></g1><x3/>"),
            Err(MarkupError::Invented(3))
        );
        assert_eq!(Content::parse_answer(&src, "<g1>B <x2/>"), Err(MarkupError::Unclosed(1)));
        assert_eq!(Content::parse_answer(&src, "<x1/> <g2>x</g2>"), Err(MarkupError::WrongKind(1)));
    }

    #[test]
    fn mis_nesting_is_rejected() {
        assert_eq!(Content::parse("<g1><g2>a</g1></g2>"), Err(MarkupError::MisNested(1)));
        assert_eq!(Content::parse("a</g1>"), Err(MarkupError::MisNested(1)));
    }

    #[test]
    fn edges_are_split_and_rejoined() {
        let src = c("  <g1><x2/> Whole <g3>thing</g3> here </g1><x4/>\n");
        let edges = src.split_edges();
        assert_eq!(edges.core.render(), "Whole <g3>thing</g3> here");
        let translated = c("Tout <g3>ça</g3> ici");
        let back = edges.rejoin(&translated).unwrap();
        assert_eq!(back.render(), "  <g1><x2/> Tout <g3>ça</g3> ici </g1><x4/>\n");
        assert!(edges.rejoin(&c("Tout ici")).is_err());
    }

    #[test]
    fn partial_wrapping_pair_is_not_stripped() {
        let src = c("<g1>Open</g1> the menu");
        assert_eq!(src.split_edges().core, src);
    }

    #[test]
    fn serde_uses_the_rendering() {
        let content = c("a <g1>b</g1> &lt;c&gt;");
        let json = serde_json::to_string(&content).unwrap();
        assert_eq!(json, "\"a <g1>b</g1> &lt;c&gt;\"");
        let back: Content = serde_json::from_str(&json).unwrap();
        assert_eq!(back, content);
    }

    #[test]
    fn builder_allocates_ids_in_order() {
        let mut b = ContentBuilder::new();
        b.text("a ");
        b.open();
        b.text("b ");
        b.standalone();
        b.close();
        b.text(" c");
        let content = b.finish().unwrap();
        assert_eq!(content.render(), "a <g1>b <x2/></g1> c");
    }
}
