//! Machinery shared by the Office Open XML and OpenDocument filters.
//!
//! Both families are zip packages of XML parts. A filter reads the parts it translates into a
//! [`xml::Tree`], walks it with vocabulary rules and records *replacements*: byte ranges of the
//! original part to be rewritten on merge (a paragraph's inline region, an element's text, an
//! attribute value). Merging writes each changed part as its original bytes with those ranges
//! replaced, and copies every other entry from the original package untouched.

pub(crate) mod inline;
pub(crate) mod odf;
pub(crate) mod ooxml;
pub(crate) mod package;
pub(crate) mod xml;

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::Mutex;

use tradia_core::{Content, Segment};

use crate::archive::file::Source;
use crate::{Document, Format, FormatError, MergeOptions, Report, Skeleton};
use inline::ParaPlan;

/// A byte range of a part rewritten on merge.
#[derive(Debug)]
pub(crate) struct Repl {
    /// The original bytes replaced.
    pub range: Range<usize>,
    /// What goes there.
    pub kind: ReplKind,
}

/// Checks applied to an attribute translation before it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrCheck {
    /// Any text.
    None,
    /// A spreadsheet sheet name: at most 31 characters, none of `[]:*?/\`, unique.
    SheetName,
}

/// The kinds of replacement.
#[derive(Debug)]
pub(crate) enum ReplKind {
    /// A paragraph's inline region.
    Para {
        /// Pending segment slot.
        slot: usize,
        /// How to rebuild it.
        plan: Box<ParaPlan>,
    },
    /// An element's whole text content (no codes).
    Plain {
        /// Pending segment slot.
        slot: usize,
    },
    /// An attribute value.
    Attr {
        /// Pending segment slot.
        slot: usize,
        /// The attribute's quote character.
        quote: u8,
        /// Validation.
        check: AttrCheck,
    },
    /// A language tag attribute value, replaced by the target language when the slot it belongs
    /// to was translated (`slot: None`: a document default, replaced when any segment was) and
    /// the attribute is the one that names languages like the target (see [`LangSlot`]).
    Lang {
        /// The translated segment the tag describes, or `None` for a document default.
        slot: Option<usize>,
        /// Which kind of language the attribute names.
        which: LangSlot,
    },
    /// An OpenDocument language (`country: false`) or country attribute, replaced by the
    /// target's primary language or region (`none` without one) once anything was translated,
    /// when the attribute is the one that names languages like the target (see [`LangSlot`]).
    OdfLang {
        /// Which kind of language the attribute names.
        which: LangSlot,
        /// The country attribute rather than the language one.
        country: bool,
    },
    /// A spreadsheet formula holding structured references to renamed table columns: rewritten
    /// (pieces in order, XML-escaped) when any of those columns' names changed.
    Formula {
        /// Literal text, and column names by their header's slot (`simple`: see
        /// `ooxml::formula::Piece::Col`).
        pieces: Vec<FormulaPiece>,
    },
    /// Markup written only when the document was translated into a right-to-left language.
    RtlDocument {
        /// Replacement markup.
        markup: String,
    },
    /// Markup written only when segment `slot` was translated into a right-to-left language.
    Rtl {
        /// Pending segment slot.
        slot: usize,
        /// Replacement markup.
        markup: String,
    },
}

/// A piece of a [`ReplKind::Formula`].
#[derive(Debug)]
pub(crate) enum FormulaPiece {
    /// Written as it is.
    Lit(String),
    /// The translation of the column name in `slot`.
    Col {
        /// The header's slot.
        slot: usize,
        /// Whether the name stood directly in the reference's brackets.
        simple: bool,
    },
}

/// Which language an attribute names. Word keeps three per run (`w:lang`: `w:val` for Latin and
/// Cyrillic text, `w:eastAsia` for Chinese, Japanese and Korean, `w:bidi` for complex scripts
/// such as Arabic and Hebrew) and uses the one that matches each character's script; DrawingML
/// has one `lang` for the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LangSlot {
    /// The run's only language attribute (DrawingML `lang`): always the target's.
    Any,
    /// Word `w:val`.
    Latin,
    /// Word `w:eastAsia`.
    EastAsian,
    /// Word `w:bidi`.
    Complex,
}

impl LangSlot {
    /// The Word slot that names `target`'s language.
    pub(crate) fn of_target(target: &tradia_core::LanguageTag) -> LangSlot {
        const COMPLEX: &[&str] = &[
            "th", "lo", "km", "my", "hi", "mr", "ne", "bn", "pa", "gu", "ta", "te", "kn", "ml",
            "si",
        ];
        match target.primary() {
            "zh" | "ja" | "ko" => LangSlot::EastAsian,
            p if target.is_rtl() || COMPLEX.contains(&p) => LangSlot::Complex,
            _ => LangSlot::Latin,
        }
    }
}

/// A segment found while walking, before ids are assigned.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Part index and byte offset, for document order.
    pub key: (usize, usize),
    /// The content.
    pub content: Content,
    /// Location for people.
    pub location: String,
    /// Field name.
    pub field: String,
}

/// Collects pending segments for one document.
#[derive(Debug, Default)]
pub(crate) struct Segments {
    /// In slot order.
    pub pending: Vec<Pending>,
    /// Groups of slots that name things which must stay distinct and non-empty together (the
    /// columns of one spreadsheet table): when a group's translations are not, the whole group
    /// keeps its sources.
    pub distinct_groups: Vec<Vec<usize>>,
}

impl Segments {
    /// Adds a segment and returns its slot.
    pub fn add(
        &mut self,
        key: (usize, usize),
        content: Content,
        location: String,
        field: &str,
    ) -> usize {
        self.pending.push(Pending { key, content, location, field: field.to_string() });
        self.pending.len() - 1
    }
}

/// One translated part of a package.
#[derive(Debug)]
pub(crate) struct PartPlan {
    /// Entry name in the package.
    pub name: String,
    /// The part's text.
    pub src: String,
    /// Top-level replacements, sorted by position, non-overlapping.
    pub repls: Vec<Repl>,
}

/// State for writing one part.
pub(crate) struct MergeCtx<'a> {
    /// The part's original text.
    pub src: &'a str,
    /// Translations by slot.
    pub by_slot: &'a [&'a Content],
    /// Sources by slot.
    pub source_by_slot: &'a [&'a Content],
    /// Whether the target language is written right to left.
    pub rtl: bool,
    /// The target language tag, written into translated runs' language attributes.
    pub lang: &'a str,
    /// Which Word language attribute names the target's language.
    pub lang_slot: LangSlot,
    /// Whether any segment was translated (differs from its source).
    pub any_changed: bool,
    /// Sheet names already written in this part (lower-cased).
    pub sheet_names: &'a Mutex<HashSet<String>>,
}

impl MergeCtx<'_> {
    fn changed(&self, slot: usize) -> bool {
        self.by_slot[slot] != self.source_by_slot[slot]
    }
}

/// Writes `range` of the part, applying the replacements of `repls` that lie inside it.
pub(crate) fn write_range(
    ctx: &MergeCtx<'_>,
    range: Range<usize>,
    repls: &[Repl],
    out: &mut String,
) {
    let mut cursor = range.start;
    let first = repls.partition_point(|r| r.range.start < range.start);
    for repl in &repls[first..] {
        if repl.range.start >= range.end
            && !(repl.range.is_empty() && repl.range.start == range.end)
        {
            break;
        }
        if repl.range.end > range.end || repl.range.start < cursor {
            continue;
        }
        out.push_str(&ctx.src[cursor..repl.range.start]);
        write_repl(ctx, repl, out);
        cursor = repl.range.end;
    }
    out.push_str(&ctx.src[cursor..range.end]);
}

fn write_repl(ctx: &MergeCtx<'_>, repl: &Repl, out: &mut String) {
    match &repl.kind {
        ReplKind::Para { slot, plan } => {
            if ctx.changed(*slot) {
                inline::write_para(ctx, plan, ctx.by_slot[*slot], out);
            } else {
                write_range(ctx, repl.range.clone(), &plan.nested, out);
            }
        }
        ReplKind::Plain { slot } => {
            if ctx.changed(*slot) {
                xml::escape_text(&ctx.by_slot[*slot].plain_text(), out);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::Attr { slot, quote, check } => {
            let text = ctx.by_slot[*slot].plain_text();
            let ok = ctx.changed(*slot)
                && match check {
                    AttrCheck::None => true,
                    AttrCheck::SheetName => valid_sheet_name(&text, ctx.sheet_names),
                };
            if ok {
                xml::escape_attr(&text, *quote, out);
            } else {
                if *check == AttrCheck::SheetName
                    && let Ok(mut names) = ctx.sheet_names.lock()
                {
                    names.insert(ctx.source_by_slot[*slot].plain_text().to_lowercase());
                }
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::Lang { slot, which } => {
            let translated = match slot {
                Some(slot) => ctx.changed(*slot),
                None => ctx.any_changed,
            };
            if translated && (*which == LangSlot::Any || *which == ctx.lang_slot) {
                xml::escape_attr(ctx.lang, b'"', out);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::OdfLang { which, country } => {
            if ctx.any_changed && *which == ctx.lang_slot {
                let mut subtags = ctx.lang.split('-');
                let primary = subtags.next().unwrap_or(ctx.lang);
                let region = subtags.find(|s| {
                    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
                        || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
                });
                let value = match country {
                    false => primary.to_string(),
                    true => region.map_or_else(|| "none".to_string(), str::to_ascii_uppercase),
                };
                xml::escape_attr(&value, b'"', out);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::Formula { pieces } => {
            let changed = pieces
                .iter()
                .any(|p| matches!(p, FormulaPiece::Col { slot, .. } if ctx.changed(*slot)));
            if changed {
                let mut formula = String::new();
                for piece in pieces {
                    match piece {
                        FormulaPiece::Lit(text) => formula.push_str(text),
                        FormulaPiece::Col { slot, simple } => {
                            formula.push_str(&ooxml::formula::escape_column(
                                &ctx.by_slot[*slot].plain_text(),
                                *simple,
                            ))
                        }
                    }
                }
                xml::escape_text(&formula, out);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::RtlDocument { markup } => {
            if ctx.rtl && ctx.any_changed {
                out.push_str(markup);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::Rtl { slot, markup } => {
            if ctx.rtl && ctx.changed(*slot) {
                out.push_str(markup);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
    }
}

fn valid_sheet_name(name: &str, used: &Mutex<HashSet<String>>) -> bool {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 31
        && !name.contains(['[', ']', ':', '*', '?', '/', '\\'])
        && !name.starts_with('\'')
        && !name.ends_with('\'');
    if !ok {
        return false;
    }
    match used.lock() {
        Ok(mut names) => names.insert(name.to_lowercase()),
        Err(_) => false,
    }
}

/// The skeleton of an office package.
pub(crate) struct OfficeSkeleton {
    /// The original package.
    pub original: Source,
    /// The parts that carry segments.
    pub parts: Vec<PartPlan>,
    /// Slot → segment id.
    pub slot_to_segment: Vec<u32>,
    /// Segment id → slot's source content.
    pub sources: Vec<Content>,
    /// Limits the package was read with (it is re-opened to write).
    pub limits: crate::Limits,
    /// See [`Segments::distinct_groups`].
    pub distinct_groups: Vec<Vec<usize>>,
}

impl Skeleton for OfficeSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let changes = self.changes(translations, options)?;
        self.original.rewrite(&self.limits, &changes)
    }

    fn merge_to_path(
        &self,
        translations: &[Content],
        options: &MergeOptions,
        output: &std::path::Path,
    ) -> Result<(), FormatError> {
        let changes = self.changes(translations, options)?;
        self.original.rewrite_to_path(&self.limits, &changes, output)
    }
}

impl OfficeSkeleton {
    /// The rewritten parts, by entry index.
    fn changes(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<BTreeMap<usize, Vec<u8>>, FormatError> {
        let mut by_slot: Vec<&Content> =
            self.slot_to_segment.iter().map(|&id| &translations[id as usize]).collect();
        let source_by_slot: Vec<&Content> =
            self.slot_to_segment.iter().map(|&id| &self.sources[id as usize]).collect();
        for group in &self.distinct_groups {
            let mut seen = HashSet::new();
            let distinct = group.iter().all(|&slot| {
                let name = by_slot[slot].plain_text();
                let name = name.trim();
                !name.is_empty()
                    && name.chars().count() <= 255
                    && !name.contains(['\n', '\r'])
                    && seen.insert(name.to_lowercase())
            });
            if !distinct {
                for &slot in group {
                    by_slot[slot] = source_by_slot[slot];
                }
            }
        }
        let any_changed = by_slot.iter().zip(&source_by_slot).any(|(a, b)| a != b);
        let mut changes: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for part in &self.parts {
            let names = Mutex::new(HashSet::new());
            let ctx = MergeCtx {
                src: &part.src,
                by_slot: &by_slot,
                source_by_slot: &source_by_slot,
                rtl: options.target.is_rtl(),
                lang: options.target.as_str(),
                lang_slot: LangSlot::of_target(&options.target),
                any_changed,
                sheet_names: &names,
            };
            let mut out = String::with_capacity(part.src.len() + part.src.len() / 4);
            write_range(&ctx, 0..part.src.len(), &part.repls, &mut out);
            if out != part.src {
                changes.insert(part.name.clone(), out.into_bytes());
            }
        }
        self.original.by_index(&self.limits, &changes)
    }
}

/// Assembles a document from the parts' plans and pending segments.
pub(crate) fn assemble(
    format: Format,
    original: Source,
    parts: Vec<PartPlan>,
    segments: Segments,
    report: Report,
    limits: crate::Limits,
) -> Document {
    let mut order: Vec<usize> = (0..segments.pending.len()).collect();
    order.sort_by_key(|&slot| segments.pending[slot].key);
    let mut slot_to_segment = vec![0u32; segments.pending.len()];
    for (id, &slot) in order.iter().enumerate() {
        slot_to_segment[slot] = id as u32;
    }
    let mut pending: Vec<Option<Pending>> = segments.pending.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(order.len());
    for (id, &slot) in order.iter().enumerate() {
        if let Some(p) = pending[slot].take() {
            out.push(Segment {
                id: id as u32,
                content: p.content,
                location: p.location,
                field: p.field,
            });
        }
    }
    let sources = out.iter().map(|s| s.content.clone()).collect();
    let parts: Vec<PartPlan> = parts.into_iter().filter(|p| !p.repls.is_empty()).collect();
    let skeleton = OfficeSkeleton {
        original,
        parts,
        slot_to_segment,
        sources,
        limits,
        distinct_groups: segments.distinct_groups,
    };
    Document::new(format, out, report, Box::new(skeleton))
}

/// Decodes a part as UTF-8 (the encoding every OOXML and ODF producer writes); a BOM is kept
/// in the text so that offsets stay those of the entry.
pub(crate) fn part_text(name: &str, bytes: Vec<u8>) -> Result<String, FormatError> {
    String::from_utf8(bytes).map_err(|e| FormatError::Encoding {
        part: name.to_string(),
        message: format!(
            "not UTF-8 (byte {}); office parts must be UTF-8",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// True when `content` holds letters worth translating.
pub(crate) fn worth(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

/// True when a sheet name (`raw` as written in `part_src`, `value` decoded) is referred to
/// anywhere else: twice in its own part, or in any of `other_texts` (formulas, defined names,
/// charts, pivot tables). Such a name is kept, since renaming it would break the references.
pub(crate) fn sheet_name_referenced(
    part_src: &str,
    raw: &str,
    value: &str,
    other_texts: &[String],
) -> bool {
    part_src.matches(raw).count() > 1
        || (raw != value && part_src.contains(value))
        || other_texts.iter().any(|t| t.contains(raw) || t.contains(value))
}

/// Sort key for part names that orders embedded numbers numerically (`slide2` before
/// `slide10`), so that segments come in reading order.
pub(crate) fn natural_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 16);
    let mut digits = String::new();
    for ch in name.to_ascii_lowercase().replace('\\', "/").chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
        } else {
            if !digits.is_empty() {
                out.push_str(&format!("{digits:0>12}"));
                digits.clear();
            }
            out.push(ch);
        }
    }
    if !digits.is_empty() {
        out.push_str(&format!("{digits:0>12}"));
    }
    out
}

/// True for alt text that is only a file name (`IMG_0042.jpg`), which is not worth translating.
pub(crate) fn is_file_name(text: &str) -> bool {
    let t = text.trim();
    !t.contains(char::is_whitespace)
        && t.rsplit_once('.').is_some_and(|(stem, ext)| {
            !stem.is_empty()
                && matches!(
                    ext.to_ascii_lowercase().as_str(),
                    "png"
                        | "jpg"
                        | "jpeg"
                        | "gif"
                        | "svg"
                        | "bmp"
                        | "emf"
                        | "wmf"
                        | "tif"
                        | "tiff"
                        | "webp"
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_sort_in_reading_order() {
        let mut names =
            vec!["ppt/slides/slide10.xml", "ppt/slides/slide2.xml", "ppt/slides/slide1.xml"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(
            names,
            ["ppt/slides/slide1.xml", "ppt/slides/slide2.xml", "ppt/slides/slide10.xml"]
        );
    }

    #[test]
    fn file_names_are_recognised() {
        assert!(is_file_name("python-icon.jpeg"));
        assert!(is_file_name("IMG_0042.PNG"));
        assert!(!is_file_name("A red apple.png on a table"));
        assert!(!is_file_name("Version 2.0"));
        assert!(!is_file_name(".png"));
    }
}
