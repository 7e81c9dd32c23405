//! Merging an office package: each translated part written as its original text with the
//! replacements of its plan applied ([`write_range`]), then the package rewritten with those
//! parts, untouched entries copied ([`OfficeSkeleton`]).

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::Mutex;

use tradia_core::Content;

use super::{
    AttrCheck, FormulaPiece, LangSlot, OdfLangForm, OdfStyles, PartPlan, Repl, ReplKind, inline,
    ooxml, xml,
};
use crate::archive::file::Source;
use crate::{FormatError, MergeOptions, Skeleton};

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
    /// Which segments use which OpenDocument styles.
    pub odf_styles: &'a OdfStyles,
}

impl MergeCtx<'_> {
    fn changed(&self, slot: usize) -> bool {
        self.by_slot[slot] != self.source_by_slot[slot]
    }

    /// Whether some users of OpenDocument style `style` were translated, and some kept.
    fn style_use(&self, style: u32) -> (bool, bool) {
        let users = self.odf_styles.users.get(style as usize).map_or(&[][..], Vec::as_slice);
        let translated = users.iter().any(|&slot| self.changed(slot));
        let kept = users.iter().any(|&slot| !self.changed(slot));
        (translated, kept)
    }

    /// Whether a style's language attributes take the target (`None`: the default style).
    fn retag_style(&self, style: Option<u32>) -> bool {
        self.any_changed
            && style.is_none_or(|s| {
                let (translated, kept) = self.style_use(s);
                translated || !kept
            })
    }

    /// Whether a style is used by translated and by kept segments (it gets a copy).
    fn style_split(&self, style: u32) -> bool {
        let (translated, kept) = self.style_use(style);
        self.any_changed && translated && kept
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
        ReplKind::OdfLang { which, form, style } => {
            if *which == ctx.lang_slot && ctx.retag_style(*style) {
                let mut subtags = ctx.lang.split('-');
                let primary = subtags.next().unwrap_or(ctx.lang);
                let region = subtags.find(|s| {
                    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
                        || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
                });
                let value = match form {
                    OdfLangForm::Language => primary.to_string(),
                    OdfLangForm::Country => {
                        region.map_or_else(|| "none".to_string(), str::to_ascii_uppercase)
                    }
                    OdfLangForm::Tag => ctx.lang.to_string(),
                };
                xml::escape_attr(&value, b'"', out);
            } else {
                out.push_str(&ctx.src[repl.range.clone()]);
            }
        }
        ReplKind::OdfStyleCopy { style, elem, renames } => {
            out.push_str(&ctx.src[repl.range.clone()]);
            if ctx.style_split(*style) {
                // The original bytes: its language attributes stay the source's.
                let mut cursor = elem.start;
                for (range, value) in renames {
                    out.push_str(&ctx.src[cursor..range.start]);
                    xml::escape_attr(value, b'"', out);
                    cursor = range.end;
                }
                out.push_str(&ctx.src[cursor..elem.end]);
            }
        }
        ReplKind::OdfStyleRef { slot, use_idx } => {
            let style = ctx.odf_styles.use_style.get(*use_idx as usize).copied().flatten();
            match style {
                Some(style) if !ctx.changed(*slot) && ctx.style_split(style) => {
                    let copy = &ctx.odf_styles.copy_names[style as usize];
                    xml::escape_attr(copy, b'"', out);
                }
                _ => out.push_str(&ctx.src[repl.range.clone()]),
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
    /// Which segments use which OpenDocument styles (empty for OOXML).
    pub odf_styles: OdfStyles,
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
                odf_styles: &self.odf_styles,
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
