//! Paragraph content: from the items a vocabulary walker found to segment content with inline
//! codes, and back to markup.
//!
//! Extraction normalises runs in the *segment model*, not in the file: every text run gets a
//! format (its run properties), each scope (the paragraph, or a hyperlink/insertion/span around
//! runs) has a dominant format (the one carrying most characters), and only text whose format
//! differs from its scope's dominant one gets a paired code. Adjacent runs with equivalent
//! properties therefore become one piece of text. Objects inside runs (tabs, breaks, footnote
//! references, drawings, field characters) and elements outside runs (bookmarks, notes, frames)
//! become standalone codes, merged when nothing separates them.
//!
//! Merging rebuilds the paragraph's inline region from the translated content: text is written
//! in runs carrying the properties of the innermost format code (or of the scope's dominant
//! format), so a bold word that moved keeps its bold, and every code's original markup is copied
//! from the source bytes (with translations of nested paragraphs, such as a text box or a
//! footnote body, applied inside it). A paragraph whose content comes back unchanged is copied
//! byte for byte, which is what makes the identity round trip exact.
//!
//! What a rebuilt (translated) paragraph changes besides its text, all of it run-level:
//! - runs are split where the translation's formatting changes, and each new run copies the
//!   start tag (with its `rsid` attributes) and properties of the first source run of its format;
//!   text goes in `w:t xml:space="preserve"` (Word) or `t xml:space="preserve"` (spreadsheets);
//! - spell-check marks (`w:proofErr`) and `w:lastRenderedPageBreak` are dropped (Word recomputes
//!   them), as is whitespace between inline elements;
//! - a tab or newline typed in a translation becomes `w:tab`/`w:br` (Word) or
//!   `text:tab`/`text:line-break` (ODF);
//! - ODF: spaces are re-encoded (`text:s` for repeated or leading spaces) and adjacent spans
//!   with the same style are merged into one span.
//!
//! Every other element and attribute of the paragraph (properties, hyperlinks, fields, notes,
//! bookmarks, drawings, tracked changes) is copied from the source bytes.

use std::collections::HashMap;
use std::ops::Range;

use tradia_core::{CodeId, Content, Piece};

use super::{MergeCtx, Repl, write_range};
use crate::office::xml::escape_text;

/// Which vocabulary a paragraph belongs to (decides how text is written back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// WordprocessingML `w:p` (runs `w:r` with `w:rPr` and `w:t`).
    Word,
    /// DrawingML `a:p` (runs `a:r` with `a:rPr` and `a:t`).
    Drawing,
    /// SpreadsheetML rich string (runs `r` with `rPr` and `t`).
    Sheet,
    /// OpenDocument `text:p`/`text:h` (mixed content, spans as elements).
    Odf,
}

/// Index of a run format in [`ParaPlan::fmts`].
pub(crate) type FmtId = usize;

/// A run format: the original run's start tag and properties, copied for new runs.
#[derive(Debug, Clone)]
pub(crate) struct Fmt {
    /// Start tag of the first run seen with this format (keeps its attributes).
    pub run_open: Option<Range<usize>>,
    /// The run properties element.
    pub rpr: Option<Range<usize>>,
    /// Word: where `w:rtl` goes in these properties for a right-to-left target.
    pub rtl: RunRtl,
}

/// How a Word run is marked right to left (`w:rtl`, complex-script layout of the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RunRtl {
    /// Not applicable (other vocabularies) or already marked.
    #[default]
    Nothing,
    /// Insert `w:rtl` at this byte offset inside the properties.
    InsertAt(usize),
    /// Write new properties holding only `w:rtl` (the run has none, or `<w:rPr/>`).
    NewProperties,
}

/// One piece of a standalone code's markup.
#[derive(Debug, Clone)]
pub(crate) enum Frag {
    /// Markup that lives inside a run with format `fmt` (a tab, a footnote reference…).
    InRun {
        /// The run format.
        fmt: FmtId,
        /// The original bytes.
        range: Range<usize>,
    },
    /// Markup that lives between runs (a bookmark, a note, a frame…).
    Outside {
        /// The original bytes.
        range: Range<usize>,
    },
}

/// What an inline code stands for.
#[derive(Debug, Clone)]
pub(crate) enum Code {
    /// Paired: text in a run format other than the scope's dominant one.
    Format {
        /// The format.
        fmt: FmtId,
    },
    /// Paired: an element around runs (hyperlink, insertion, span…), copied as is.
    Wrapper {
        /// Opening markup.
        open: Range<usize>,
        /// Closing markup.
        close: Range<usize>,
        /// Dominant format inside.
        default_fmt: FmtId,
    },
    /// Standalone: markup copied as is.
    Standalone {
        /// Pieces of markup in order.
        frags: Vec<Frag>,
    },
}

/// What a vocabulary walker reports, in document order.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// Text in a run format.
    Text {
        /// The format.
        fmt: FmtId,
        /// Decoded text.
        text: String,
    },
    /// An object inside a run.
    Obj {
        /// The run's format.
        fmt: FmtId,
        /// Its bytes.
        range: Range<usize>,
    },
    /// An element between runs, kept as is.
    Raw {
        /// Its bytes.
        range: Range<usize>,
    },
    /// Start of a wrapper element around inline content.
    Open {
        /// Opening markup.
        open: Range<usize>,
        /// Closing markup.
        close: Range<usize>,
    },
    /// End of the innermost wrapper.
    Close,
}

/// Interns run formats by an equivalence key.
#[derive(Debug, Default)]
pub(crate) struct FmtTable {
    /// Formats by id.
    pub fmts: Vec<Fmt>,
    keys: HashMap<String, FmtId>,
}

impl FmtTable {
    /// The id of the format with `key`, registering it with `fmt` the first time.
    pub fn intern(&mut self, key: String, fmt: Fmt) -> FmtId {
        if let Some(&id) = self.keys.get(&key) {
            return id;
        }
        let id = self.fmts.len();
        self.fmts.push(fmt);
        self.keys.insert(key, id);
        id
    }
}

/// How to rebuild one paragraph.
#[derive(Debug)]
pub(crate) struct ParaPlan {
    /// Vocabulary.
    pub dialect: Dialect,
    /// Prefix of the run elements (`w:`, `a:`, `text:`, or empty).
    pub prefix: String,
    /// Run formats.
    pub fmts: Vec<Fmt>,
    /// Dominant format of the paragraph.
    pub default_fmt: FmtId,
    /// Codes by id − 1.
    pub codes: Vec<Code>,
    /// Replacements inside code markup (nested paragraphs, alt text…), sorted.
    pub nested: Vec<Repl>,
}

/// What [`build`] makes of a paragraph.
pub(crate) struct Built {
    /// Segment content.
    pub content: Content,
    /// Codes by id − 1.
    pub codes: Vec<Code>,
    /// Dominant format of the paragraph.
    pub default_fmt: FmtId,
    /// True when character-level formatting was given up (see [`build`]).
    pub flattened: bool,
}

/// Builds segment content and codes from items; `None` when the paragraph has no letters.
///
/// When formatting changes more often than words do (a font per letter, say), such codes can
/// neither be translated meaningfully nor be kept by a model: the paragraph is then rebuilt with
/// every text in its scope's dominant format, and `flattened` is set so the filter can report it.
pub(crate) fn build(items: &[Item]) -> Option<Built> {
    let built = build_with(items, false)?;
    let format_codes = built.codes.iter().filter(|c| matches!(c, Code::Format { .. })).count();
    let words = built.content.plain_text().split_whitespace().count();
    if format_codes >= 4 && format_codes > words {
        let mut flat = build_with(items, true)?;
        flat.flattened = true;
        return Some(flat);
    }
    Some(built)
}

fn build_with(items: &[Item], flatten: bool) -> Option<Built> {
    // Pass 1: characters per (scope, format); scopes are created in order, parents first.
    let mut scope_parent: Vec<Option<usize>> = vec![None];
    let mut counts: Vec<HashMap<FmtId, usize>> = vec![HashMap::new()];
    let mut first_seen: Vec<Vec<FmtId>> = vec![Vec::new()];
    let mut stack = vec![0usize];
    for item in items {
        match item {
            Item::Text { fmt, text } => {
                let scope = *stack.last().unwrap_or(&0);
                let n = text.chars().filter(|c| !c.is_whitespace()).count().max(1);
                let entry = counts[scope].entry(*fmt).or_insert(0);
                if *entry == 0 {
                    first_seen[scope].push(*fmt);
                }
                *entry += n;
            }
            Item::Open { .. } => {
                let id = scope_parent.len();
                scope_parent.push(stack.last().copied());
                counts.push(HashMap::new());
                first_seen.push(Vec::new());
                stack.push(id);
            }
            Item::Close if stack.len() > 1 => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut defaults: Vec<FmtId> = Vec::with_capacity(scope_parent.len());
    for scope in 0..scope_parent.len() {
        let best = first_seen[scope].iter().copied().max_by(|a, b| {
            counts[scope][a].cmp(&counts[scope][b]).then_with(|| {
                // Ties go to the first seen: max_by keeps the last maximum, so reverse.
                let pa = first_seen[scope].iter().position(|x| x == a);
                let pb = first_seen[scope].iter().position(|x| x == b);
                pb.cmp(&pa)
            })
        });
        let d = match (best, scope_parent[scope]) {
            (Some(f), _) => f,
            (None, Some(parent)) => defaults[parent],
            (None, None) => 0,
        };
        defaults.push(d);
    }

    // Pass 2: pieces.
    let mut pieces: Vec<Piece> = Vec::new();
    let mut codes: Vec<Code> = Vec::new();
    let mut group: Option<(FmtId, CodeId)> = None;
    let mut open_stack: Vec<(usize, CodeId)> = Vec::new();
    let mut next_scope = 1usize;
    let close_group = |group: &mut Option<(FmtId, CodeId)>, pieces: &mut Vec<Piece>| {
        if let Some((_, id)) = group.take() {
            pieces.push(Piece::Close(id));
        }
    };
    let push_standalone = |frag: Frag, pieces: &mut Vec<Piece>, codes: &mut Vec<Code>| {
        if let Some(Piece::Standalone(id)) = pieces.last()
            && let Some(Code::Standalone { frags }) = codes.get_mut(*id as usize - 1)
        {
            frags.push(frag);
            return;
        }
        codes.push(Code::Standalone { frags: vec![frag] });
        pieces.push(Piece::Standalone(codes.len() as CodeId));
    };
    for (i, item) in items.iter().enumerate() {
        let scope = open_stack.last().map_or(0, |(s, _)| *s);
        match item {
            Item::Text { fmt, text } => {
                if text.is_empty() {
                    continue;
                }
                if flatten || *fmt == defaults[scope] {
                    close_group(&mut group, &mut pieces);
                } else if group.map(|(f, _)| f) != Some(*fmt) {
                    close_group(&mut group, &mut pieces);
                    codes.push(Code::Format { fmt: *fmt });
                    let id = codes.len() as CodeId;
                    pieces.push(Piece::Open(id));
                    group = Some((*fmt, id));
                }
                pieces.push(Piece::Text(text.clone()));
            }
            Item::Obj { fmt, range } => {
                let keep = group.is_some_and(|(f, _)| f == *fmt) && text_continues(items, i, *fmt);
                if !keep {
                    close_group(&mut group, &mut pieces);
                }
                push_standalone(
                    Frag::InRun { fmt: *fmt, range: range.clone() },
                    &mut pieces,
                    &mut codes,
                );
            }
            Item::Raw { range } => {
                close_group(&mut group, &mut pieces);
                push_standalone(Frag::Outside { range: range.clone() }, &mut pieces, &mut codes);
            }
            Item::Open { open, close } => {
                close_group(&mut group, &mut pieces);
                let new_scope = next_scope;
                next_scope += 1;
                codes.push(Code::Wrapper {
                    open: open.clone(),
                    close: close.clone(),
                    default_fmt: defaults.get(new_scope).copied().unwrap_or(0),
                });
                let id = codes.len() as CodeId;
                pieces.push(Piece::Open(id));
                open_stack.push((new_scope, id));
            }
            Item::Close => {
                close_group(&mut group, &mut pieces);
                if let Some((_, id)) = open_stack.pop() {
                    pieces.push(Piece::Close(id));
                }
            }
        }
    }
    close_group(&mut group, &mut pieces);
    while let Some((_, id)) = open_stack.pop() {
        pieces.push(Piece::Close(id));
    }
    let content = Content::from_pieces(pieces).ok()?;
    if !content.has_letters() {
        return None;
    }
    Some(Built { content, codes, default_fmt: defaults[0], flattened: false })
}

/// True when, after item `i`, only objects of `fmt` come before the next text, which has `fmt`.
fn text_continues(items: &[Item], i: usize, fmt: FmtId) -> bool {
    for item in &items[i + 1..] {
        match item {
            Item::Obj { fmt: f, .. } if *f == fmt => continue,
            Item::Text { fmt: f, .. } => return *f == fmt,
            _ => return false,
        }
    }
    false
}

/// Merges adjacent wrappers with identical opening markup (ODF spans of the same style).
pub(crate) fn merge_adjacent_wrappers(items: &mut Vec<Item>, src: &str) {
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    // For each open wrapper in `out`, the opening markup.
    let mut open_markup: Vec<String> = Vec::new();
    let mut last_closed: Option<String> = None;
    for item in items.drain(..) {
        match item {
            Item::Open { open, close } => {
                let markup = src[open.clone()].to_string();
                if last_closed.as_deref() == Some(markup.as_str())
                    && matches!(out.last(), Some(Item::Close))
                {
                    out.pop();
                    open_markup.push(markup);
                } else {
                    open_markup.push(markup);
                    out.push(Item::Open { open, close });
                }
                last_closed = None;
            }
            Item::Close => {
                last_closed = open_markup.pop();
                out.push(Item::Close);
            }
            other => {
                last_closed = None;
                out.push(other);
            }
        }
    }
    *items = out;
}

struct Writer<'p> {
    plan: &'p ParaPlan,
    run: Option<FmtId>,
    t_open: bool,
    /// ODF: the last character written was a space (collapsing applies to the next one).
    prev_space: bool,
}

impl Writer<'_> {
    fn close_t(&mut self, out: &mut String) {
        if self.t_open {
            out.push_str("</");
            out.push_str(&self.plan.prefix);
            out.push_str("t>");
            self.t_open = false;
        }
    }

    fn close_run(&mut self, out: &mut String) {
        self.close_t(out);
        if self.run.take().is_some() {
            out.push_str("</");
            out.push_str(&self.plan.prefix);
            out.push_str("r>");
        }
    }

    fn ensure_run(&mut self, ctx: &MergeCtx<'_>, fmt: FmtId, out: &mut String) {
        if self.run == Some(fmt) {
            return;
        }
        self.close_run(out);
        let f = self.plan.fmts.get(fmt);
        match f.and_then(|f| f.run_open.clone()) {
            Some(range) => out.push_str(&ctx.src[range]),
            None => {
                out.push('<');
                out.push_str(&self.plan.prefix);
                out.push_str("r>");
            }
        }
        let rpr = f.and_then(|f| f.rpr.clone());
        let rtl = if ctx.rtl && self.plan.dialect == Dialect::Word {
            f.map_or(RunRtl::NewProperties, |f| f.rtl)
        } else {
            RunRtl::Nothing
        };
        let p = &self.plan.prefix;
        match (rtl, rpr) {
            (RunRtl::InsertAt(at), Some(rpr)) if rpr.contains(&at) => {
                write_range(ctx, rpr.start..at, &self.plan.nested, out);
                out.push_str(&format!("<{p}rtl/>"));
                write_range(ctx, at..rpr.end, &self.plan.nested, out);
            }
            (RunRtl::NewProperties, _) => out.push_str(&format!("<{p}rPr><{p}rtl/></{p}rPr>")),
            (_, Some(rpr)) => write_range(ctx, rpr, &self.plan.nested, out),
            (_, None) => {}
        }
        self.run = Some(fmt);
    }

    fn open_t(&mut self, out: &mut String) {
        if !self.t_open {
            out.push('<');
            out.push_str(&self.plan.prefix);
            match self.plan.dialect {
                Dialect::Drawing => out.push_str("t>"),
                _ => out.push_str("t xml:space=\"preserve\">"),
            }
            self.t_open = true;
        }
    }

    fn text(&mut self, ctx: &MergeCtx<'_>, fmt: FmtId, text: &str, out: &mut String) {
        match self.plan.dialect {
            Dialect::Odf => self.odf_text(text, out),
            Dialect::Word => {
                self.ensure_run(ctx, fmt, out);
                let p = self.plan.prefix.clone();
                let mut chunk = String::new();
                for ch in text.chars() {
                    if ch == '\t' || ch == '\n' {
                        if !chunk.is_empty() {
                            self.open_t(out);
                            escape_text(&chunk, out);
                            chunk.clear();
                        }
                        self.close_t(out);
                        out.push('<');
                        out.push_str(&p);
                        out.push_str(if ch == '\t' { "tab/>" } else { "br/>" });
                    } else {
                        chunk.push(ch);
                    }
                }
                if !chunk.is_empty() {
                    self.open_t(out);
                    escape_text(&chunk, out);
                }
            }
            Dialect::Drawing | Dialect::Sheet => {
                self.ensure_run(ctx, fmt, out);
                self.open_t(out);
                escape_text(text, out);
            }
        }
    }

    fn odf_text(&mut self, text: &str, out: &mut String) {
        let p = self.plan.prefix.clone();
        let mut pending = 0usize;
        let flush = |pending: &mut usize, out: &mut String| {
            match *pending {
                0 => {}
                1 => {
                    out.push('<');
                    out.push_str(&p);
                    out.push_str("s/>");
                }
                n => {
                    out.push('<');
                    out.push_str(&p);
                    out.push_str("s ");
                    out.push_str(&p);
                    out.push_str(&format!("c=\"{n}\"/>"));
                }
            }
            *pending = 0;
        };
        for ch in text.chars() {
            match ch {
                ' ' => {
                    if self.prev_space {
                        pending += 1;
                    } else {
                        out.push(' ');
                        self.prev_space = true;
                    }
                }
                '\t' | '\n' => {
                    flush(&mut pending, out);
                    out.push('<');
                    out.push_str(&p);
                    out.push_str(if ch == '\t' { "tab/>" } else { "line-break/>" });
                    self.prev_space = false;
                }
                '\r' => {}
                c => {
                    flush(&mut pending, out);
                    let mut buf = [0u8; 4];
                    escape_text(c.encode_utf8(&mut buf), out);
                    self.prev_space = false;
                }
            }
        }
        flush(&mut pending, out);
    }
}

/// Writes paragraph `plan` with `content` (already checked against the source's codes).
pub(crate) fn write_para(ctx: &MergeCtx<'_>, plan: &ParaPlan, content: &Content, out: &mut String) {
    let mut w = Writer { plan, run: None, t_open: false, prev_space: true };
    let mut stack: Vec<CodeId> = Vec::new();
    let code = |id: CodeId| plan.codes.get(id as usize - 1);
    let current_fmt = |stack: &[CodeId]| {
        for id in stack.iter().rev() {
            match code(*id) {
                Some(Code::Format { fmt }) => return *fmt,
                Some(Code::Wrapper { default_fmt, .. }) => return *default_fmt,
                _ => {}
            }
        }
        plan.default_fmt
    };
    for piece in content.pieces() {
        match piece {
            Piece::Text(t) => {
                let fmt = current_fmt(&stack);
                w.text(ctx, fmt, t, out);
            }
            Piece::Open(id) => {
                if let Some(Code::Wrapper { open, .. }) = code(*id) {
                    w.close_run(out);
                    write_range(ctx, open.clone(), &plan.nested, out);
                }
                stack.push(*id);
            }
            Piece::Close(id) => {
                if let Some(Code::Wrapper { close, .. }) = code(*id) {
                    w.close_run(out);
                    write_range(ctx, close.clone(), &plan.nested, out);
                }
                if let Some(pos) = stack.iter().rposition(|x| x == id) {
                    stack.remove(pos);
                }
            }
            Piece::Standalone(id) => {
                if let Some(Code::Standalone { frags }) = code(*id) {
                    for frag in frags {
                        match frag {
                            Frag::InRun { fmt, range } => {
                                w.ensure_run(ctx, *fmt, out);
                                w.close_t(out);
                                write_range(ctx, range.clone(), &plan.nested, out);
                            }
                            Frag::Outside { range } => {
                                w.close_run(out);
                                write_range(ctx, range.clone(), &plan.nested, out);
                            }
                        }
                    }
                }
            }
        }
    }
    w.close_run(out);
}
