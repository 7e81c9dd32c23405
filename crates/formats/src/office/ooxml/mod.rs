//! Office Open XML filter: Word (`.docx`), PowerPoint (`.pptx`) and Excel (`.xlsx`).
//!
//! A package is a zip of XML parts typed by `[Content_Types].xml`. The parts that carry text are
//! chosen by content type (so unusual part names, backslash paths and Strict OOXML work), read
//! into a tree with byte offsets, and walked:
//! - WordprocessingML paragraphs (`w:p`: body, tables, headers, footers, footnotes, endnotes,
//!   comments, text boxes), DrawingML paragraphs (`a:p`: slides, notes, layouts' and masters'
//!   non-placeholder shapes, charts, SmartArt, spreadsheet drawings), spreadsheet rich strings
//!   (`si` in shared strings, inline `is` cells, legacy comments) become segments with inline
//!   codes (see `office::inline`);
//! - plain text elements become code-free segments: the document title (`dc:title`), legacy
//!   PowerPoint comments, threaded Excel comments, plain shared strings;
//! - attributes: image alt text (`descr` on `wp:docPr`/`p:cNvPr`/`pic:cNvPr`/`xdr:cNvPr`) and
//!   sheet names when no other part mentions them (formulas, defined names, charts and pivot
//!   caches refer to sheets by name; a sheet name that is mentioned anywhere else is kept).
//!
//! Fields: a complex field (`w:fldChar` begin/separate/end) or `w:fldSimple` whose instruction is
//! a hyperlink, a table of contents or a cross-reference keeps its instruction as a code and has
//! its result translated; any other field (page numbers, SEQ, dates, Zotero citations…) is kept
//! whole as one code. Tracked changes: insertions and moved-to text are translated inside a
//! wrapper code; deletions and moved-from text are kept as they are. Formulas, numbers and dates
//! live in worksheet cells, which are never touched (only inline string cells are). Table header
//! strings are translated together with the tables' `tableColumn/@name` and the structured
//! references of formulas, unless a reference cannot be rewritten safely or a pivot cache uses
//! them (then kept and reported; see `sheet`).
//!
//! Right-to-left targets: translated paragraphs get `w:bidi` (Word) or `rtl="1"` (DrawingML) in
//! their paragraph properties, and rebuilt Word runs get `w:rtl`, inserted in schema order.
//! Untranslated paragraphs (kept sources) are not marked. Not done: table direction
//! (`w:bidiVisual`), sheet direction (`rightToLeft` on sheet views).
//!
//! Language tags: so that Word and PowerPoint proof-read a translation in its own language, the
//! language attributes of translated runs become the target tag (DrawingML `lang` on `a:rPr` and
//! `a:endParaRPr`; in Word's `w:lang`, the one of `w:val`, `w:eastAsia` or `w:bidi` that names
//! languages of the target's script), and so do the `w:lang` defaults of Word's styles part
//! once anything was translated. Runs of untranslated paragraphs keep theirs; attributes are
//! replaced, never added (text without a tag takes the retagged defaults).

mod drawing;
pub(crate) mod formula;
mod sheet;
mod word;

use std::collections::HashMap;

use std::io::{Read, Seek};
use std::ops::Range;
use std::path::Path;

use crate::archive::file::Source;
use crate::office::inline::{Fmt, FmtId, FmtTable, RunRtl};
use crate::office::package::Package;
use crate::office::xml::{self, NodeId, Ns, Tree};
use crate::office::{self, AttrCheck, LangSlot, PartPlan, Repl, ReplKind, Segments};
use crate::{Document, ExtractOptions, Format, FormatError, Report};

/// Recognises DOCX, PPTX and XLSX: a zip holding `[Content_Types].xml` and a `word/`, `ppt/` or
/// `xl/` folder.
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    if !bytes.starts_with(b"PK") {
        return None;
    }
    sniff_names(&office::package::entry_names(bytes)?)
}

/// Recognises DOCX, PPTX and XLSX by their entry names (see [`sniff`]).
pub(crate) fn sniff_names(names: &[String]) -> Option<Format> {
    let names: Vec<String> = names.iter().map(|n| n.replace('\\', "/")).collect();
    if !names.iter().any(|n| n == "[Content_Types].xml") {
        return None;
    }
    let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    if has("word/") {
        Some(Format::Docx)
    } else if has("ppt/") {
        Some(Format::Pptx)
    } else if has("xl/") {
        Some(Format::Xlsx)
    } else {
        None
    }
}

/// What a part is, by content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Word body, headers, footers, notes, comments.
    Word,
    /// Slides, notes slides, modern comments: every `a:p`.
    Slide,
    /// Slide layouts and masters: only shapes that are not placeholders.
    Layout,
    /// Charts, SmartArt data and drawings, spreadsheet drawings.
    Drawing,
    /// Shared strings.
    SharedStrings,
    /// Worksheets: only inline strings.
    Worksheet,
    /// Legacy spreadsheet comments.
    SheetComments,
    /// Threaded spreadsheet comments.
    ThreadedComments,
    /// Legacy PowerPoint comments.
    PptComments,
    /// The workbook (sheet names).
    Workbook,
    /// Core properties (title).
    Core,
    /// Word styles: only the language defaults (`w:lang`), retagged when anything was translated.
    WordStyles,
    /// Spreadsheet table definitions: column names, renamed with their header cells.
    Table,
}

fn classify(content_type: &str) -> Option<Kind> {
    let ct = content_type.trim().to_ascii_lowercase();
    let oxml = "application/vnd.openxmlformats-officedocument.";
    let kind = if let Some(rest) = ct.strip_prefix(oxml) {
        match rest {
            "wordprocessingml.document.main+xml"
            | "wordprocessingml.template.main+xml"
            | "wordprocessingml.header+xml"
            | "wordprocessingml.footer+xml"
            | "wordprocessingml.footnotes+xml"
            | "wordprocessingml.endnotes+xml"
            | "wordprocessingml.comments+xml" => Kind::Word,
            "wordprocessingml.styles+xml" => Kind::WordStyles,
            "presentationml.slide+xml" | "presentationml.notesslide+xml" => Kind::Slide,
            "presentationml.slidelayout+xml" | "presentationml.slidemaster+xml" => Kind::Layout,
            "presentationml.comments+xml" => Kind::PptComments,
            "spreadsheetml.sharedstrings+xml" => Kind::SharedStrings,
            "spreadsheetml.worksheet+xml" => Kind::Worksheet,
            "spreadsheetml.comments+xml" => Kind::SheetComments,
            "spreadsheetml.sheet.main+xml" | "spreadsheetml.template.main+xml" => Kind::Workbook,
            "spreadsheetml.table+xml" => Kind::Table,
            "drawingml.chart+xml" | "drawingml.diagramdata+xml" | "drawing+xml" => Kind::Drawing,
            _ => return None,
        }
    } else {
        match ct.as_str() {
            "application/vnd.ms-word.document.macroenabled.main+xml"
            | "application/vnd.ms-word.template.macroenabledtemplate.main+xml" => Kind::Word,
            "application/vnd.ms-powerpoint.comments+xml" => Kind::Slide,
            "application/vnd.ms-excel.sheet.macroenabled.main+xml"
            | "application/vnd.ms-excel.template.macroenabled.main+xml" => Kind::Workbook,
            "application/vnd.ms-excel.threadedcomments+xml" => Kind::ThreadedComments,
            "application/vnd.ms-office.drawingml.diagramdrawing+xml" => Kind::Drawing,
            "application/vnd.openxmlformats-package.core-properties+xml" => Kind::Core,
            _ => return None,
        }
    };
    Some(kind)
}

/// Content type by lower-cased key.
type ContentTypeMap = HashMap<String, String>;

/// Content types by part name (lower-cased, leading `/`) and by extension.
fn content_types(text: &str) -> Result<(ContentTypeMap, ContentTypeMap), FormatError> {
    let tree = xml::parse("[Content_Types].xml", text)?;
    let mut overrides = HashMap::new();
    let mut defaults = HashMap::new();
    if let Some(root) = tree.root() {
        for (_, e) in tree.child_elems(root) {
            let ct = e.attr_value(Ns::None, "ContentType").unwrap_or_default().to_string();
            match e.local.as_str() {
                "Override" => {
                    if let Some(p) = e.attr_value(Ns::None, "PartName") {
                        overrides.insert(p.to_ascii_lowercase(), ct);
                    }
                }
                "Default" => {
                    if let Some(x) = e.attr_value(Ns::None, "Extension") {
                        defaults.insert(x.to_ascii_lowercase(), ct);
                    }
                }
                _ => {}
            }
        }
    }
    Ok((overrides, defaults))
}

/// Extracts a DOCX, PPTX or XLSX document.
pub(crate) fn extract(
    format: Format,
    _name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let pkg = Package::open(bytes, options.limits)?;
    extract_package(format, pkg, Source::Bytes(bytes.to_vec()), options)
}

/// Extracts a DOCX, PPTX or XLSX document read from the file at `path`: only the parts that carry text are
/// decompressed, and merging streams every other entry (media) from that file.
pub(crate) fn extract_file(
    format: Format,
    path: &Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let pkg = Package::of(crate::archive::file::open_file(path, &options.limits)?);
    extract_package(format, pkg, Source::File(path.to_path_buf()), options)
}

fn select_parts<R: Read + Seek>(
    pkg: &mut Package<'_, R>,
) -> Result<(Vec<(String, Kind)>, ContentTypeMap), FormatError> {
    let ct_name = pkg
        .names
        .iter()
        .find(|n| n.as_str() == "[Content_Types].xml")
        .cloned()
        .ok_or_else(|| {
            FormatError::Invalid("not an Office Open XML package: no [Content_Types].xml".into())
        })?;
    let ct_text = office::part_text(&ct_name, pkg.read(&ct_name)?)?;
    let (overrides, defaults) = content_types(&ct_text)?;
    let mut selected: Vec<(String, Kind)> = Vec::new();
    for name in &pkg.names {
        let normal = name.replace('\\', "/");
        let part_name = format!("/{}", normal.trim_start_matches('/')).to_ascii_lowercase();
        let ct = overrides.get(&part_name).or_else(|| {
            let ext = part_name.rsplit_once('.').map(|(_, x)| x.to_string()).unwrap_or_default();
            defaults.get(&ext)
        });
        if let Some(kind) = ct.and_then(|c| classify(c)) {
            selected.push((name.clone(), kind));
        }
    }

    Ok((selected, overrides))
}

/// The declared uncompressed size of the parts in `selected`.
fn declared_size<R: Read + Seek>(pkg: &Package<'_, R>, selected: &[(String, Kind)]) -> u64 {
    selected.iter().map(|(name, _)| pkg.declared_size(name)).fold(0u64, u64::saturating_add)
}

/// Refuses, before anything is parsed, a package at `path` whose text parts declare more XML
/// than [`crate::Limits::max_xml_bytes`] (what an upload can be told at once).
pub(crate) fn precheck_file(path: &Path, limits: &crate::Limits) -> Result<(), FormatError> {
    let mut pkg = Package::of(crate::archive::file::open_file(path, limits)?);
    let (selected, _) = select_parts(&mut pkg)?;
    limits.check_xml(declared_size(&pkg, &selected))
}

fn extract_package<R: Read + Seek>(
    format: Format,
    mut pkg: Package<'_, R>,
    original: Source,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let (mut selected, overrides) = select_parts(&mut pkg)?;
    // Cheap early refusal on the declared sizes of what will be parsed (the reads hold the
    // limit whatever the headers say).
    options.limits.check_xml(declared_size(&pkg, &selected))?;

    // Sheet names are translated only when nothing else refers to them.
    let mut other_texts: Vec<String> = Vec::new();
    if selected.iter().any(|(_, k)| *k == Kind::Workbook) {
        let names = pkg.names.clone();
        for name in names {
            let lower = name.to_ascii_lowercase();
            let normal = lower.replace('\\', "/");
            if (lower.ends_with(".xml") || lower.ends_with(".rels") || lower.ends_with(".vml"))
                && normal != "docprops/app.xml"
                && !selected.iter().any(|(n, k)| *n == name && *k == Kind::Workbook)
            {
                let data = pkg.read(&name)?;
                other_texts.push(String::from_utf8_lossy(&data).into_owned());
            }
        }
    }

    // Spreadsheet tables and pivot caches name their columns after the header cells' text, and
    // Excel repairs a file where they disagree (see `sheet::Tables`).
    let mut report = Report::default();
    let tables = if format == Format::Xlsx {
        sheet::Tables::read(&mut pkg, &overrides, &mut report)?
    } else {
        sheet::Tables::default()
    };

    // Reading order: title, then the main text, then what hangs off it.
    // Shared strings come before worksheets of the same rank whatever their names: the
    // worksheets' formulas and the tables take the header translations from them.
    selected.sort_by_key(|(name, kind)| {
        (part_rank(name, *kind), *kind != Kind::SharedStrings, office::natural_key(name))
    });

    let mut segments = Segments::new(&options.limits);
    let mut parts = Vec::new();
    let mut header_slots = HashMap::new();
    for (part_idx, (name, kind)) in selected.iter().enumerate() {
        segments.check(&options.limits)?;
        let text = office::part_text(name, pkg.read(name)?)?;
        // Worksheets only matter for inline strings and formulas naming renamed tables; most
        // have neither and can be large.
        if *kind == Kind::Worksheet && !text.contains("inlineStr") && !tables.named_in(&text) {
            continue;
        }
        let tree = xml::parse(name, &text)?;
        let mut walk = Walk {
            tree: &tree,
            src: &text,
            part: name,
            part_idx,
            kind: *kind,
            segs: &mut segments,
            counters: HashMap::new(),
            langs: Vec::new(),
            other_texts: &other_texts,
            tables: &tables,
            header_slots: &mut header_slots,
            report: &mut report,
        };
        let mut repls = Vec::new();
        if let Some(root) = tree.root() {
            walk.collect(root, &mut repls);
        }
        drop(walk);
        parts.push(PartPlan { name: name.clone(), src: text, repls });
    }
    segments.check(&options.limits)?;
    let (title, domain) = core_properties(&mut pkg);
    Ok(office::assemble(
        format,
        original,
        parts,
        segments,
        report,
        options.limits,
        office::OdfStyles::default(),
    )
    .with_title(title, domain))
}

/// The title and domain (subject, else keywords) of the package's core properties
/// (`docProps/core.xml`); none when it has none or they cannot be read (a title is a hint,
/// never a reason to refuse a document).
fn core_properties<R: Read + Seek>(pkg: &mut Package<'_, R>) -> (Option<String>, Option<String>) {
    let Some(name) =
        pkg.names.iter().find(|n| n.eq_ignore_ascii_case("docProps/core.xml")).cloned()
    else {
        return (None, None);
    };
    match pkg.read(&name).ok().and_then(|data| String::from_utf8(data).ok()) {
        Some(text) => crate::title::dc_properties(&text),
        None => (None, None),
    }
}

/// Where a part comes in reading order.
fn part_rank(name: &str, kind: Kind) -> u8 {
    let lower = name.to_ascii_lowercase().replace('\\', "/");
    match kind {
        Kind::Core => 0,
        Kind::Workbook => 1,
        Kind::Word if lower.ends_with("/document.xml") => 2,
        Kind::Slide if lower.contains("/slides/") => 2,
        Kind::SharedStrings | Kind::Worksheet => 2,
        Kind::Slide if lower.contains("notesslide") => 3,
        Kind::Word => 4,
        Kind::Layout => 5,
        _ => 6,
    }
}

struct Walk<'a> {
    tree: &'a Tree,
    src: &'a str,
    part: &'a str,
    part_idx: usize,
    kind: Kind,
    segs: &'a mut Segments,
    counters: HashMap<String, usize>,
    other_texts: &'a [String],
    tables: &'a sheet::Tables,
    /// Shared string slots of translatable table headers, by text (filled by the shared strings
    /// part, read by the table parts that come after it).
    header_slots: &'a mut HashMap<String, usize>,
    report: &'a mut Report,
    /// Language attribute values of the runs of the paragraphs being walked (a stack: a text
    /// box's paragraph inside a run takes its own off the top).
    langs: Vec<(std::ops::Range<usize>, LangSlot)>,
}

impl Walk<'_> {
    fn location(&mut self, field: &str) -> String {
        let n = self.counters.entry(field.to_string()).or_insert(0);
        *n += 1;
        format!("{} › {} #{}", self.part, field, n)
    }

    fn note_flattened(&mut self, flattened: bool, slot: usize) {
        if flattened {
            let location = &self.segs.pending[slot].location;
            self.report
                .warnings
                .push(format!("{location}: formatting changes within words were simplified to the paragraph's main formatting"));
        }
    }

    fn add_segment(&mut self, at: usize, content: tradia_core::Content, field: &str) -> usize {
        let location = self.location(field);
        self.segs.add((self.part_idx, at), content, location, field)
    }

    /// Walks element `id` and its subtree, appending replacements in document order.
    fn collect(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        if self.segs.full() {
            return;
        }
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        match (e.ns, e.local.as_str(), self.kind) {
            (Ns::W, "p", _) => return self.word_para(id, out),
            (Ns::A, "p", _) => return self.drawing_para(id, out),
            (Ns::S, "si", Kind::SharedStrings)
            | (Ns::S, "is", Kind::Worksheet)
            | (Ns::S, "text", Kind::SheetComments) => return self.string_item(id, out),
            (Ns::Tc, "text", Kind::ThreadedComments)
            | (Ns::P, "text", Kind::PptComments)
            | (Ns::Dc, "title", Kind::Core) => return self.plain(id, out),
            (Ns::P, "sp", Kind::Layout) if self.is_placeholder(id) => {
                return self.report_placeholder(id);
            }
            (Ns::S, "sheet", Kind::Workbook) => return self.sheet_name(id, out),
            (Ns::S, "table", Kind::Table) => return self.table_columns(id, out),
            (Ns::W, "lang", Kind::WordStyles) => {
                let mark = self.langs.len();
                self.word_lang(id);
                out.extend(self.lang_repls(mark, None));
                return;
            }
            _ => {}
        }
        if matches!(e.local.as_str(), "docPr" | "cNvPr")
            && let Some(a) = e.attr(Ns::None, "descr")
            && office::worth(&a.value)
            && !office::is_file_name(&a.value)
        {
            let slot = self.add_segment(
                a.value_range.start,
                tradia_core::Content::text(a.value.clone()),
                "descr",
            );
            out.push(Repl {
                range: a.value_range.clone(),
                kind: ReplKind::Attr { slot, quote: a.quote, check: AttrCheck::None },
            });
        }
        // Worksheets: only inline strings and formulas matter; skip everything else cheaply.
        if self.kind == Kind::Worksheet
            && e.is(Ns::S, "c")
            && e.attr_value(Ns::None, "t") != Some("inlineStr")
        {
            if let Some((f, _)) = tree.child(id, Ns::S, "f") {
                self.formula(f, out);
            }
            return;
        }
        for &c in &e.children {
            self.collect(c, out);
        }
    }

    /// A layout's or master's placeholder is kept: its text is the prompt PowerPoint shows
    /// while editing ("Click to edit Master title style"), replaced by each slide's own text and
    /// never shown in a presentation. Kept visibly, in the report, when it has text.
    fn report_placeholder(&mut self, sp: NodeId) {
        let t = self.tree;
        let text = t
            .descendants(sp)
            .into_iter()
            .filter(|&n| t.elem(n).is_some_and(|e| e.is(Ns::A, "t")))
            .map(|n| t.text_of(n))
            .collect::<Vec<_>>()
            .join(" ");
        if !office::worth(&text) {
            return;
        }
        let kind = t
            .child(sp, Ns::P, "nvSpPr")
            .and_then(|(n, _)| t.child(n, Ns::P, "nvPr"))
            .and_then(|(n, _)| t.child(n, Ns::P, "ph"))
            .and_then(|(_, ph)| ph.attr_value(Ns::None, "type"))
            .unwrap_or("body")
            .to_string();
        let location = self.location("placeholder");
        self.report.kept.push(crate::KeptField {
            location: format!("{location} ({kind}): `{text}`"),
            field: "p:sp".into(),
            reason: "placeholder prompt text of a layout or master (each slide has its own)".into(),
        });
    }

    fn is_placeholder(&self, sp: NodeId) -> bool {
        let t = self.tree;
        t.child(sp, Ns::P, "nvSpPr")
            .and_then(|(n, _)| t.child(n, Ns::P, "nvPr"))
            .and_then(|(n, _)| t.child(n, Ns::P, "ph"))
            .is_some()
    }

    fn plain(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        if e.end_tag.is_none() || tree.child_elems(id).next().is_some() {
            return;
        }
        let text = tree.text_of(id);
        if !office::worth(&text) {
            return;
        }
        let field = e.qname.clone();
        let slot = self.add_segment(e.start_tag.start, tradia_core::Content::text(text), &field);
        out.push(Repl { range: e.inner(), kind: ReplKind::Plain { slot } });
    }

    /// Takes the language attributes noted since `mark` off the stack as replacements tied to
    /// `slot` (`None`: a document default).
    fn lang_repls(&mut self, mark: usize, slot: Option<usize>) -> impl Iterator<Item = Repl> + '_ {
        self.langs
            .drain(mark..)
            .map(move |(range, which)| Repl { range, kind: ReplKind::Lang { slot, which } })
    }

    /// Moves the language attributes noted since `mark` among the paragraph's nested
    /// replacements (kept sorted), tied to its `slot`.
    fn take_langs(&mut self, mark: usize, slot: usize, nested: &mut Vec<Repl>) {
        if self.langs.len() == mark {
            return;
        }
        nested.extend(self.lang_repls(mark, Some(slot)));
        nested.sort_by_key(|r| r.range.start);
    }

    /// The format of a run whose start tag is `run_open` and properties element `rpr`: runs with
    /// equal properties (minus `ignore`d ones, see [`Self::rpr_key`]) share one; merging copies
    /// the start tag and properties back around the run's text.
    fn run_fmt(
        &self,
        fmts: &mut FmtTable,
        run_open: Range<usize>,
        rpr: Option<NodeId>,
        ignore: &[&str],
        rtl: RunRtl,
    ) -> FmtId {
        let key = rpr.map(|n| self.rpr_key(n, ignore)).unwrap_or_default();
        let rpr = rpr.map(|n| self.tree.nodes[n].range.clone());
        fmts.intern(key, Fmt { rtl, run_open: Some(run_open), rpr })
    }

    /// Equivalence key of run properties: child elements' markup, minus `ignore`d ones.
    fn rpr_key(&self, rpr: NodeId, ignore: &[&str]) -> String {
        let tree = self.tree;
        let mut key = String::new();
        if let Some(e) = tree.elem(rpr) {
            // Attributes (DrawingML keeps formatting there), minus noise.
            let mut attrs: Vec<String> = e
                .attrs
                .iter()
                .filter(|a| {
                    !matches!(
                        a.local.as_str(),
                        "lang"
                            | "altLang"
                            | "dirty"
                            | "err"
                            | "smtClean"
                            | "smtId"
                            | "noProof"
                            | "bmk"
                    )
                })
                .map(|a| format!("{}={}", a.local, a.value))
                .collect();
            if !attrs.is_empty() {
                attrs.sort();
                key.push_str(&attrs.join(" "));
                key.push('|');
            }
        }
        for (c, ce) in tree.child_elems(rpr) {
            if ignore.contains(&ce.local.as_str()) {
                continue;
            }
            if ce.is(Ns::W, "rFonts") {
                // `w:hint` only says which font slot Word used while typing: not formatting.
                let mut attrs: Vec<String> = ce
                    .attrs
                    .iter()
                    .filter(|a| a.local != "hint")
                    .map(|a| format!("{}={}", a.local, a.value))
                    .collect();
                if !attrs.is_empty() {
                    attrs.sort();
                    key.push_str(&format!("<rFonts {}>", attrs.join(" ")));
                }
                continue;
            }
            key.push_str(&self.src[tree.nodes[c].range.clone()]);
        }
        key
    }
}
