//! Splicing translations into the original text, shared by the text-based filters.
//!
//! A filter records, for each segment, a *slot*: the byte range of the decoded text the segment
//! covers and, per inline code, where its original markup lies. Merging renders each changed
//! segment (text escaped for the format, codes copied from the original bytes) and replaces only
//! its range; everything else is copied. A translation equal to its source leaves the range as it
//! was, byte for byte: an identity merge is therefore exact by construction.
//!
//! Edits may nest (an `alt` attribute inside an `<img>` that is itself an inline code of a
//! paragraph): code markup is rendered with the edits it contains, and the top-level pass drops
//! edits already contained in an outer one.

use std::ops::Range;

use tradia_core::{CodeId, Content, ContentBuilder, Piece, Segment};

use crate::FormatError;
use crate::encoding::{Decoded, Unmappable};

/// One replacement of a byte range of the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    /// What is replaced.
    pub range: Range<usize>,
    /// By what.
    pub text: String,
}

/// Where an inline code's markup comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Markup {
    /// A range of the source text (nested edits inside it apply).
    Source(Range<usize>),
    /// Literal text.
    Literal(String),
    /// Nothing (a closing half with no markup of its own).
    Empty,
}

/// The markup of one inline code: opening (or standalone) and closing halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeMarkup {
    /// Opening half, or the whole code for a standalone one.
    pub open: Markup,
    /// Closing half of a paired code.
    pub close: Markup,
}

/// A segment's place in the source text.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Byte range of the source text the segment replaces.
    pub range: Range<usize>,
    /// Markup by code id (index `id - 1`).
    pub codes: Vec<CodeMarkup>,
}

/// Builds a segment's content and slot together.
#[derive(Debug, Default)]
pub(crate) struct SlotBuilder {
    content: ContentBuilder,
    codes: Vec<CodeMarkup>,
    open_stack: Vec<CodeId>,
}

impl SlotBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        SlotBuilder { content: ContentBuilder::new(), codes: Vec::new(), open_stack: Vec::new() }
    }

    /// Appends text.
    pub fn text(&mut self, text: &str) {
        self.content.text(text);
    }

    /// Opens a paired code with the given opening markup.
    pub fn open(&mut self, markup: Markup) -> CodeId {
        let id = self.content.open();
        self.codes.push(CodeMarkup { open: markup, close: Markup::Empty });
        self.open_stack.push(id);
        id
    }

    /// Closes the innermost paired code; returns false when none is open.
    pub fn close(&mut self, markup: Markup) -> bool {
        match (self.open_stack.pop(), self.content.close()) {
            (Some(id), Some(_)) => {
                if let Some(code) = self.codes.get_mut(id as usize - 1) {
                    code.close = markup;
                }
                true
            }
            _ => false,
        }
    }

    /// Adds a standalone code.
    pub fn standalone(&mut self, markup: Markup) -> CodeId {
        let id = self.content.standalone();
        self.codes.push(CodeMarkup { open: markup, close: Markup::Empty });
        id
    }

    /// Replaces the opening markup of code `id` (known only once the next token is seen).
    pub fn set_open(&mut self, id: CodeId, markup: Markup) {
        if let Some(code) = self.codes.get_mut(id as usize - 1) {
            code.open = markup;
        }
    }

    /// Finishes, closing any code still open with empty markup.
    pub fn finish(mut self, range: Range<usize>) -> (Content, Slot) {
        while !self.open_stack.is_empty() {
            self.close(Markup::Empty);
        }
        // Every open code was closed above, so the structure is valid.
        let content = self.content.finish().unwrap_or_default();
        (content, Slot { range, codes: self.codes })
    }
}

/// Segments and their slots, collected in document order.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// The segments (ids `0..n`).
    pub segments: Vec<Segment>,
    /// One slot per segment.
    pub slots: Vec<Slot>,
}

impl Collected {
    /// Adds a segment if its content holds letters; returns whether it was added.
    pub fn push(&mut self, content: Content, slot: Slot, location: String, field: &str) -> bool {
        if !content.has_letters() {
            return false;
        }
        let id = self.segments.len() as u32;
        self.segments.push(Segment { id, content, location, field: field.to_string() });
        self.slots.push(slot);
        true
    }
}

/// Renders a translation into the format's text: text escaped by `escape`, codes copied from
/// their markup (with nested `edits` applied inside source ranges).
pub(crate) fn render(
    source: &str,
    slot: &Slot,
    translation: &Content,
    escape: &dyn Fn(&str, &mut String),
    edits: &[Edit],
) -> String {
    let mut out = String::new();
    for piece in translation.pieces() {
        match piece {
            Piece::Text(t) => escape(t, &mut out),
            Piece::Open(id) | Piece::Standalone(id) => {
                if let Some(code) = slot.codes.get(*id as usize - 1) {
                    markup_into(source, &code.open, edits, &mut out);
                }
            }
            Piece::Close(id) => {
                if let Some(code) = slot.codes.get(*id as usize - 1) {
                    markup_into(source, &code.close, edits, &mut out);
                }
            }
        }
    }
    out
}

fn markup_into(source: &str, markup: &Markup, edits: &[Edit], out: &mut String) {
    match markup {
        Markup::Source(range) => out.push_str(&apply_within(source, range.clone(), edits)),
        Markup::Literal(s) => out.push_str(s),
        Markup::Empty => {}
    }
}

/// The text of `range` with the edits it contains applied.
pub(crate) fn apply_within(source: &str, range: Range<usize>, edits: &[Edit]) -> String {
    let inner: Vec<Edit> = edits
        .iter()
        .filter(|e| e.range.start >= range.start && e.range.end <= range.end && e.range != range)
        .cloned()
        .collect();
    splice_edits(source, range, inner)
}

/// `range` of `source` with the outermost of `edits` (all inside `range`) applied.
fn splice_edits(source: &str, range: Range<usize>, edits: Vec<Edit>) -> String {
    let mut out = String::new();
    let mut pos = range.start;
    for edit in outermost(edits) {
        if edit.range.start < pos {
            continue;
        }
        out.push_str(&source[pos..edit.range.start]);
        out.push_str(&edit.text);
        pos = edit.range.end;
    }
    out.push_str(&source[pos..range.end]);
    out
}

/// Applies edits to the whole source; edits contained in another edit are dropped (the outer
/// one already rendered them).
///
/// Unlike [`apply_within`], an edit of the whole source is applied: a document that is one
/// segment (an HTML fragment with no block, a one-line text) is replaced whole.
pub(crate) fn apply(source: &str, edits: Vec<Edit>) -> String {
    let edits = edits.into_iter().filter(|e| e.range.end <= source.len()).collect();
    splice_edits(source, 0..source.len(), edits)
}

/// Sorts edits and keeps only those not contained in another.
fn outermost(mut edits: Vec<Edit>) -> Vec<Edit> {
    edits.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(b.range.end.cmp(&a.range.end)));
    let mut kept: Vec<Edit> = Vec::with_capacity(edits.len());
    for edit in edits {
        if let Some(last) = kept.last()
            && edit.range.start < last.range.end
        {
            continue;
        }
        kept.push(edit);
    }
    kept
}

/// Edits for every segment whose translation differs from its source, rendered with `escape`.
/// `extra` edits (attributes, document-level changes) are applied inside code markup too.
pub(crate) fn segment_edits(
    source: &str,
    segments: &[Segment],
    slots: &[Slot],
    translations: &[Content],
    escape: &dyn Fn(&str, &mut String),
    extra: &[Edit],
) -> Vec<Edit> {
    let mut edits = Vec::new();
    for ((segment, slot), translation) in segments.iter().zip(slots).zip(translations) {
        if *translation == segment.content {
            continue;
        }
        edits.push(Edit {
            range: slot.range.clone(),
            text: render(source, slot, translation, escape, extra),
        });
    }
    edits
}

/// Checks that `translations` matches `segments` in number (filters call this before merging).
pub(crate) fn check_count(
    segments: &[Segment],
    translations: &[Content],
) -> Result<(), FormatError> {
    if segments.len() != translations.len() {
        return Err(FormatError::TranslationCount {
            expected: segments.len(),
            got: translations.len(),
        });
    }
    Ok(())
}

/// The translations that differ from their source, with their segment index, after checking
/// their number: the segments a splicing merge rewrites (the others keep their bytes).
pub(crate) fn changed<'a>(
    segments: &'a [Segment],
    translations: &'a [Content],
) -> Result<impl Iterator<Item = (usize, &'a Content)> + 'a, FormatError> {
    check_count(segments, translations)?;
    Ok(translations.iter().zip(segments).enumerate().filter_map(|(i, (translation, segment))| {
        (*translation != segment.content).then_some((i, translation))
    }))
}

/// A whole splicing merge of a decoded text file: the range of each changed segment replaced by
/// `edit`'s rendering, the result encoded as the file was (unmappable characters as `?`).
pub(crate) fn merge_changed(
    decoded: &Decoded,
    segments: &[Segment],
    translations: &[Content],
    edit: impl FnMut((usize, &Content)) -> Edit,
) -> Result<Vec<u8>, FormatError> {
    let edits = changed(segments, translations)?.map(edit).collect();
    let text = apply(&decoded.text, edits);
    Ok(decoded.encode(&text, Unmappable::Question))
}

/// Renders a translation with only `slot`'s codes (no source to copy from): for formats whose
/// codes are literal placeholders, written as they are.
pub(crate) fn render_codes(
    slot: &Slot,
    translation: &Content,
    escape: &dyn Fn(&str, &mut String),
) -> String {
    let codes = Slot { range: 0..0, codes: slot.codes.clone() };
    render("", &codes, translation, escape, &[])
}

/// True when any translation differs from its source.
pub(crate) fn any_changed(segments: &[Segment], translations: &[Content]) -> bool {
    segments.iter().zip(translations).any(|(s, t)| s.content != *t)
}

/// Escapes `&`, `<`, `>` (HTML/XML text).
pub(crate) fn escape_markup_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value quoted with `"`.
pub(crate) fn escape_attr_dq(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// Escapes an attribute value quoted with `'`.
pub(crate) fn escape_attr_sq(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Plain text, unescaped.
pub(crate) fn escape_none(text: &str, out: &mut String) {
    out.push_str(text);
}

/// Line-ending style of a text (`\r\n` when most lines end so).
pub(crate) fn line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count();
    if crlf > 0 && crlf * 2 >= lf { "\r\n" } else { "\n" }
}

/// A token of text with inline tags, before pairing (see [`build_inline`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InlinePart {
    /// Text, already unescaped.
    Text(String),
    /// An opening tag that may pair with a later closing tag of the same name.
    Open(String, Markup),
    /// A closing tag.
    Close(String, Markup),
    /// A code with no pair (placeholder, self-closing tag, timestamp…).
    Standalone(Markup),
}

/// A segment's content and slot from a decoded string of a message format, its placeholders
/// (`placeholders::parts`) as codes; `range` is where the string lies in the decoded text.
pub(crate) fn placeholder_slot(value: &str, range: Range<usize>) -> (Content, Slot) {
    let mut b = SlotBuilder::new();
    build_inline(&mut b, crate::placeholders::parts(value));
    b.finish(range)
}

/// Adds `parts` to `builder`, pairing opening and closing tags of the same name with stack
/// discipline; tags left unmatched become standalone codes, so the result always nests properly.
pub(crate) fn build_inline(builder: &mut SlotBuilder, parts: Vec<InlinePart>) {
    let mut paired = vec![false; parts.len()];
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        match part {
            InlinePart::Open(name, _) => stack.push((i, name)),
            InlinePart::Close(name, _) => {
                if let Some(&(j, top)) = stack.last()
                    && top.eq_ignore_ascii_case(name)
                {
                    paired[i] = true;
                    paired[j] = true;
                    stack.pop();
                }
            }
            _ => {}
        }
    }
    for (i, part) in parts.into_iter().enumerate() {
        match part {
            InlinePart::Text(t) => builder.text(&t),
            InlinePart::Open(_, m) if paired[i] => {
                builder.open(m);
            }
            InlinePart::Close(_, m) if paired[i] => {
                builder.close(m);
            }
            InlinePart::Open(_, m) | InlinePart::Close(_, m) | InlinePart::Standalone(m) => {
                builder.standalone(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_edits_are_applied_once() {
        let src = "<p>Hi <img alt=\"x\"> there</p>";
        let attr = Edit { range: 16..17, text: "Y".into() };
        let mut b = SlotBuilder::new();
        b.text("Hi ");
        b.standalone(Markup::Source(6..19));
        b.text(" there");
        let (content, slot) = b.finish(3..25);
        assert_eq!(
            render(src, &slot, &content, &escape_none, std::slice::from_ref(&attr)),
            "Hi <img alt=\"Y\"> there"
        );
        let para = Edit {
            range: 3..25,
            text: render(src, &slot, &content, &escape_none, std::slice::from_ref(&attr)),
        };
        assert_eq!(apply(src, vec![attr.clone(), para]), "<p>Hi <img alt=\"Y\"> there</p>");
        assert_eq!(apply(src, vec![attr]), "<p>Hi <img alt=\"Y\"> there</p>");
    }
}
