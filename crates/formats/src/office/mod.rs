//! Machinery shared by the Office Open XML and OpenDocument filters.
//!
//! Both families are zip packages of XML parts. A filter reads the parts it translates into a
//! [`xml::Tree`], walks it with vocabulary rules and records *replacements*: byte ranges of the
//! original part to be rewritten on merge (a paragraph's inline region, an element's text, an
//! attribute value). Merging writes each changed part as its original bytes with those ranges
//! replaced, and copies every other entry from the original package untouched.

pub(crate) mod inline;
mod merge;
pub(crate) mod odf;
pub(crate) mod ooxml;
pub(crate) mod package;
pub(crate) mod xml;

use std::ops::Range;

use tradia_core::{Content, Segment};

use crate::archive::file::Source;
use crate::{Document, Format, FormatError, Report};
use inline::ParaPlan;
pub(crate) use merge::{MergeCtx, OfficeSkeleton, write_range};

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
    /// An OpenDocument language, country or language-tag attribute of a style's text
    /// properties, replaced by the target's primary language, region (`none` without one) or
    /// whole tag, when the attribute is the one that names languages like the target (see
    /// [`LangSlot`]) and the style is retagged (see [`OdfStyles`]).
    OdfLang {
        /// Which kind of language the attribute names.
        which: LangSlot,
        /// Which part of the language the attribute holds.
        form: OdfLangForm,
        /// The style it belongs to (`None`: the default style, retagged once anything was).
        style: Option<u32>,
    },
    /// A copy of an OpenDocument paragraph style (the element `elem`, with its name and display
    /// name replaced), written after it when the style is used by translated and by kept
    /// paragraphs: the copy keeps the source languages, for the kept ones.
    OdfStyleCopy {
        /// The style (index in [`OdfStyles`]).
        style: u32,
        /// The style element's bytes.
        elem: Range<usize>,
        /// Attribute values replaced in the copy, in order: (range, new value).
        renames: Vec<(Range<usize>, String)>,
    },
    /// The `text:style-name` of a paragraph: the name of its style's copy when the paragraph
    /// was kept and the style split (see [`OdfStyles`]), else as it is.
    OdfStyleRef {
        /// The paragraph's segment slot.
        slot: usize,
        /// The use (index in [`OdfStyles::use_style`]).
        use_idx: u32,
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

/// Which part of a language an OpenDocument attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OdfLangForm {
    /// `fo:language`, `style:language-asian`…: the primary language.
    Language,
    /// `fo:country`…: the region.
    Country,
    /// `style:rfc-language-tag`…: the whole tag.
    Tag,
}

/// Which segments use which OpenDocument styles, for the language rule of merging (see the
/// `odf` module): a style used only by translated paragraphs, or by none, is retagged with the
/// target (once anything was translated); one used only by kept paragraphs keeps its source
/// language; one used by both is retagged and copied, the kept paragraphs pointing to the copy.
#[derive(Debug, Default)]
pub(crate) struct OdfStyles {
    /// By style: the slots of the segments using it (paragraphs, and paragraphs with spans).
    pub users: Vec<Vec<usize>>,
    /// By style: the name its copy gets.
    pub copy_names: Vec<String>,
    /// By paragraph use ([`ReplKind::OdfStyleRef`]): the style it names, if defined.
    pub use_style: Vec<Option<u32>>,
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

/// Collects pending segments for one document, up to [`crate::Limits::max_segments`]: past it
/// [`Segments::full`] is true, the walks stop at their next element, and extraction fails with
/// [`FormatError::TooManySegments`] (see [`Segments::check`]).
#[derive(Debug)]
pub(crate) struct Segments {
    /// Most segments the document may have.
    pub max: usize,
    /// In slot order.
    pub pending: Vec<Pending>,
    /// Groups of slots that name things which must stay distinct and non-empty together (the
    /// columns of one spreadsheet table): when a group's translations are not, the whole group
    /// keeps its sources.
    pub distinct_groups: Vec<Vec<usize>>,
}

impl Segments {
    /// No segment yet, at most `limits.max_segments`.
    pub fn new(limits: &crate::Limits) -> Self {
        Segments { max: limits.max_segments, pending: Vec::new(), distinct_groups: Vec::new() }
    }

    /// True once more segments than the limit were added: walks stop at once.
    pub fn full(&self) -> bool {
        self.pending.len() > self.max
    }

    /// The limit's error once [`Segments::full`].
    pub fn check(&self, limits: &crate::Limits) -> Result<(), FormatError> {
        limits.check_segments(self.pending.len())
    }

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

/// Assembles a document from the parts' plans and pending segments.
pub(crate) fn assemble(
    format: Format,
    original: Source,
    parts: Vec<PartPlan>,
    segments: Segments,
    report: Report,
    limits: crate::Limits,
    odf_styles: OdfStyles,
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
        odf_styles,
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
