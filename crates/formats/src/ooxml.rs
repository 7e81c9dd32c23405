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
//! live in worksheet cells, which are never touched (only inline string cells are). Shared
//! strings that name a table column or a pivot cache field are kept, since Excel requires those
//! names to match the header cells.
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

use std::collections::{HashMap, HashSet};

use crate::office::inline::{self, Dialect, Fmt, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::package::Package;
use crate::office::xml::{self, NodeId, NodeKind, Ns, Tree};
use crate::office::{self, AttrCheck, LangSlot, PartPlan, Repl, ReplKind, Segments};
use crate::{Document, ExtractOptions, Format, FormatError, Report};

/// Recognises DOCX, PPTX and XLSX: a zip holding `[Content_Types].xml` and a `word/`, `ppt/` or
/// `xl/` folder.
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    if !bytes.starts_with(b"PK") {
        return None;
    }
    let names = office::package::entry_names(bytes)?;
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
    let mut pkg = Package::open(bytes, options.limits)?;
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
    // Excel repairs a file where they disagree: strings used as such names are kept.
    let mut column_names: HashSet<String> = HashSet::new();
    if format == Format::Xlsx {
        let names = pkg.names.clone();
        for name in names {
            let normal = name.replace('\\', "/");
            let part_name = format!("/{}", normal.trim_start_matches('/')).to_ascii_lowercase();
            let Some(ct) = overrides.get(&part_name) else { continue };
            let ct = ct.to_ascii_lowercase();
            let element = if ct.ends_with("spreadsheetml.table+xml") {
                "tableColumn"
            } else if ct.ends_with("spreadsheetml.pivotcachedefinition+xml") {
                "cacheField"
            } else {
                continue;
            };
            let text = office::part_text(&name, pkg.read(&name)?)?;
            let tree = xml::parse(&name, &text)?;
            for node in &tree.nodes {
                if let NodeKind::Elem(e) = &node.kind
                    && e.is(Ns::S, element)
                    && let Some(v) = e.attr_value(Ns::None, "name")
                {
                    column_names.insert(v.to_string());
                }
            }
        }
    }

    // Reading order: title, then the main text, then what hangs off it.
    selected.sort_by_key(|(name, kind)| (part_rank(name, *kind), office::natural_key(name)));

    let mut segments = Segments::default();
    let mut parts = Vec::new();
    let mut report = Report::default();
    for (part_idx, (name, kind)) in selected.iter().enumerate() {
        let text = office::part_text(name, pkg.read(name)?)?;
        // Worksheets only matter for inline strings; most have none and can be large.
        if *kind == Kind::Worksheet && !text.contains("inlineStr") {
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
            column_names: &column_names,
            report: &mut report,
        };
        let mut repls = Vec::new();
        if let Some(root) = tree.root() {
            walk.collect(root, &mut repls);
        }
        drop(walk);
        parts.push(PartPlan { name: name.clone(), src: text, repls });
    }
    Ok(office::assemble(format, bytes, parts, segments, report, options.limits))
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
    column_names: &'a HashSet<String>,
    report: &'a mut Report,
    /// Language attribute values of the runs of the paragraphs being walked (a stack: a text
    /// box's paragraph inside a run takes its own off the top).
    langs: Vec<(std::ops::Range<usize>, LangSlot)>,
}

/// Field instructions whose result is ordinary text worth translating.
fn field_is_translatable(instruction: &str) -> bool {
    let keyword = instruction.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    matches!(keyword.as_str(), "HYPERLINK" | "TOC" | "REF" | "GOTOBUTTON" | "MACROBUTTON")
}

/// WordprocessingML paragraph-property children that come after `w:bidi` in schema order.
const AFTER_BIDI: &[&str] = &[
    "adjustRightInd",
    "snapToGrid",
    "spacing",
    "ind",
    "contextualSpacing",
    "mirrorIndents",
    "suppressOverlap",
    "jc",
    "textDirection",
    "textAlignment",
    "textboxTightWrap",
    "outlineLvl",
    "divId",
    "cnfStyle",
    "rPr",
    "sectPr",
    "pPrChange",
];

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
            (Ns::P, "sp", Kind::Layout) if self.is_placeholder(id) => return,
            (Ns::S, "sheet", Kind::Workbook) => return self.sheet_name(id, out),
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
        // Worksheets: only inline strings matter; skip everything else cheaply.
        if self.kind == Kind::Worksheet
            && e.is(Ns::S, "c")
            && e.attr_value(Ns::None, "t") != Some("inlineStr")
        {
            return;
        }
        for &c in &e.children {
            self.collect(c, out);
        }
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

    fn sheet_name(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let Some(e) = self.tree.elem(id) else { return };
        let Some(a) = e.attr(Ns::None, "name") else { return };
        if !office::worth(&a.value) {
            return;
        }
        let raw = &self.src[a.value_range.clone()];
        if office::sheet_name_referenced(self.src, raw, &a.value, self.other_texts) {
            self.report.kept.push(crate::KeptField {
                location: format!("{} › sheet `{}`", self.part, a.value),
                field: "sheet name".into(),
                reason: "referred to by formulas, names or other parts".into(),
            });
            return;
        }
        let slot = self.add_segment(
            a.value_range.start,
            tradia_core::Content::text(a.value.clone()),
            "sheet name",
        );
        out.push(Repl {
            range: a.value_range.clone(),
            kind: ReplKind::Attr { slot, quote: a.quote, check: AttrCheck::SheetName },
        });
    }

    // ---- WordprocessingML ----

    fn word_para(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(p) = tree.elem(id) else { return };
        if p.end_tag.is_none() {
            return;
        }
        let mut ppr = None;
        let mut first = 0;
        let mut region_start = p.inner().start;
        for (i, &c) in p.children.iter().enumerate() {
            if let Some(ce) = tree.elem(c) {
                if ce.is(Ns::W, "pPr") {
                    ppr = Some(c);
                    first = i + 1;
                    region_start = tree.nodes[c].range.end;
                }
                break;
            }
        }
        let region = region_start..p.inner().end;
        let mut items = Vec::new();
        let mut nested = Vec::new();
        let mut fmts = FmtTable::default();
        let langs = self.langs.len();
        self.word_inline(&p.children[first..], &mut items, &mut nested, &mut fmts);
        match inline::build(&items) {
            Some(inline::Built { content, codes, default_fmt, flattened }) => {
                let slot = self.add_segment(p.start_tag.start, content, "w:p");
                self.note_flattened(flattened, slot);
                self.take_langs(langs, slot, &mut nested);
                if let Some((range, markup)) = self.word_rtl(id, ppr) {
                    out.push(Repl { range, kind: ReplKind::Rtl { slot, markup } });
                }
                let plan = ParaPlan {
                    dialect: Dialect::Word,
                    prefix: p.prefix().to_string(),
                    fmts: fmts.fmts,
                    default_fmt,
                    codes,
                    nested,
                };
                out.push(Repl {
                    range: region,
                    kind: ReplKind::Para { slot, plan: Box::new(plan) },
                });
            }
            None => {
                self.langs.truncate(langs);
                out.extend(nested);
            }
        }
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

    /// Notes the language attributes of a Word `w:lang` element.
    fn word_lang(&mut self, lang: NodeId) {
        let Some(e) = self.tree.elem(lang) else { return };
        for (local, which) in [
            ("val", LangSlot::Latin),
            ("eastAsia", LangSlot::EastAsian),
            ("bidi", LangSlot::Complex),
        ] {
            if let Some(a) = e.attr(Ns::W, local) {
                self.langs.push((a.value_range.clone(), which));
            }
        }
    }

    /// Notes the `lang` attribute of DrawingML run properties (`a:rPr`, `a:endParaRPr`).
    fn drawing_lang(&mut self, props: NodeId) {
        if let Some(a) = self.tree.elem(props).and_then(|e| e.attr(Ns::None, "lang")) {
            self.langs.push((a.value_range.clone(), LangSlot::Any));
        }
    }

    fn word_rtl(&self, p: NodeId, ppr: Option<NodeId>) -> Option<(std::ops::Range<usize>, String)> {
        let tree = self.tree;
        let pe = tree.elem(p)?;
        let prefix = pe.prefix();
        let bidi = format!("<{prefix}bidi/>");
        match ppr {
            None => {
                let at = pe.start_tag.end;
                Some((at..at, format!("<{prefix}pPr>{bidi}</{prefix}pPr>")))
            }
            Some(ppr) => {
                let pp = tree.elem(ppr)?;
                if tree.child(ppr, Ns::W, "bidi").is_some() {
                    return None;
                }
                match &pp.end_tag {
                    None => {
                        Some((pp.start_tag.clone(), format!("<{}>{bidi}</{}>", pp.qname, pp.qname)))
                    }
                    Some(end) => {
                        let at = tree
                            .child_elems(ppr)
                            .find(|(_, c)| c.ns == Ns::W && AFTER_BIDI.contains(&c.local.as_str()))
                            .map_or(end.start, |(c, _)| tree.nodes[c].range.start);
                        Some((at..at, bidi))
                    }
                }
            }
        }
    }

    /// Walks inline children of a paragraph or wrapper.
    fn word_inline(
        &mut self,
        children: &[NodeId],
        items: &mut Vec<Item>,
        nested: &mut Vec<Repl>,
        fmts: &mut FmtTable,
    ) {
        let tree = self.tree;
        let fields = self.field_spans(children);
        let mut i = 0;
        while i < children.len() {
            let c = children[i];
            if let Some((j, instruction)) = fields.get(&i)
                && !field_is_translatable(instruction)
            {
                // A field whose result is not ordinary text is kept whole, as one code.
                let range = tree.nodes[c].range.start..tree.nodes[children[*j]].range.end;
                for &k in &children[i..=*j] {
                    self.collect(k, nested);
                }
                items.push(Item::Raw { range });
                i = j + 1;
                continue;
            }
            let node = &tree.nodes[c];
            match &node.kind {
                NodeKind::Text(t) => {
                    if !t.trim().is_empty() {
                        items.push(Item::Raw { range: node.range.clone() });
                    }
                }
                NodeKind::Other => items.push(Item::Raw { range: node.range.clone() }),
                NodeKind::Elem(e) => {
                    let local = e.local.as_str();
                    if e.ns == Ns::W && local == "r" {
                        self.word_run(c, items, nested, fmts);
                    } else if e.ns == Ns::W && local == "proofErr" {
                        // Spell-check marks are dropped from rebuilt paragraphs.
                    } else if let Some((open, close, inner)) = self.word_wrapper(c) {
                        items.push(Item::Open { open, close });
                        self.word_inline(&inner, items, nested, fmts);
                        items.push(Item::Close);
                    } else {
                        self.collect(c, nested);
                        items.push(Item::Raw { range: node.range.clone() });
                    }
                }
            }
            i += 1;
        }
    }

    /// For wrapper elements around runs: opening markup, closing markup and inner children.
    fn word_wrapper(
        &self,
        id: NodeId,
    ) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>, Vec<NodeId>)> {
        let tree = self.tree;
        let e = tree.elem(id)?;
        if e.ns != Ns::W {
            return None;
        }
        let end = e.end_tag.clone()?;
        match e.local.as_str() {
            "hyperlink" | "ins" | "moveTo" | "dir" | "bdo" => {
                Some((e.start_tag.clone(), end, e.children.clone()))
            }
            "fldSimple" => {
                let instruction = e.attr_value(Ns::W, "instr").unwrap_or("");
                field_is_translatable(instruction)
                    .then(|| (e.start_tag.clone(), end, e.children.clone()))
            }
            "smartTag" | "customXml" => {
                let pr_name = if e.local == "smartTag" { "smartTagPr" } else { "customXmlPr" };
                match tree.child(id, Ns::W, pr_name) {
                    Some((pr, _)) => {
                        let pos = e.children.iter().position(|&c| c == pr)?;
                        Some((
                            e.start_tag.start..tree.nodes[pr].range.end,
                            end,
                            e.children[pos + 1..].to_vec(),
                        ))
                    }
                    None => Some((e.start_tag.clone(), end, e.children.clone())),
                }
            }
            "sdt" => {
                let (_, ce) = tree.child(id, Ns::W, "sdtContent")?;
                let cend = ce.end_tag.clone()?;
                Some((
                    e.start_tag.start..ce.start_tag.end,
                    cend.start..end.end,
                    ce.children.clone(),
                ))
            }
            _ => None,
        }
    }

    fn word_run(
        &mut self,
        id: NodeId,
        items: &mut Vec<Item>,
        nested: &mut Vec<Repl>,
        fmts: &mut FmtTable,
    ) {
        let tree = self.tree;
        let Some(r) = tree.elem(id) else { return };
        if r.end_tag.is_none() {
            return;
        }
        let rpr = tree.child(id, Ns::W, "rPr").map(|(n, _)| n);
        if let Some((lang, _)) = rpr.and_then(|n| tree.child(n, Ns::W, "lang")) {
            self.word_lang(lang);
        }
        let key = rpr.map(|n| self.rpr_key(n, &["lang", "noProof"])).unwrap_or_default();
        let rtl = self.word_run_rtl(rpr);
        let fmt = fmts.intern(
            key,
            Fmt {
                rtl,
                run_open: Some(r.start_tag.clone()),
                rpr: rpr.map(|n| tree.nodes[n].range.clone()),
            },
        );
        for &c in &r.children {
            let node = &tree.nodes[c];
            match &node.kind {
                NodeKind::Text(_) => {}
                NodeKind::Other => items.push(Item::Obj { fmt, range: node.range.clone() }),
                NodeKind::Elem(e) => {
                    if e.ns == Ns::W && e.local == "rPr" {
                        continue;
                    }
                    if e.ns == Ns::W && e.local == "lastRenderedPageBreak" {
                        continue;
                    }
                    if e.ns == Ns::W && e.local == "t" {
                        items.push(Item::Text { fmt, text: tree.text_of(c) });
                        continue;
                    }
                    self.collect(c, nested);
                    items.push(Item::Obj { fmt, range: node.range.clone() });
                }
            }
        }
    }

    /// Where `w:rtl` goes in a Word run's properties (schema order: before `w:cs`, `w:em`,
    /// `w:lang`, `w:eastAsianLayout`, `w:specVanish`, `w:oMath` and `w:rPrChange`).
    fn word_run_rtl(&self, rpr: Option<NodeId>) -> RunRtl {
        const AFTER_RTL: &[&str] =
            &["cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath", "rPrChange"];
        let tree = self.tree;
        let Some(rpr) = rpr else { return RunRtl::NewProperties };
        let Some(e) = tree.elem(rpr) else { return RunRtl::Nothing };
        let Some(end) = &e.end_tag else { return RunRtl::NewProperties };
        if tree.child(rpr, Ns::W, "rtl").is_some() {
            return RunRtl::Nothing;
        }
        let at = tree
            .child_elems(rpr)
            .find(|(_, c)| c.ns == Ns::W && AFTER_RTL.contains(&c.local.as_str()))
            .map_or(end.start, |(c, _)| tree.nodes[c].range.start);
        RunRtl::InsertAt(at)
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

    /// Complex fields among `children`: for the index of the child where an outermost field
    /// begins, the index of the child where it ends and its instruction text. One pass, so a
    /// paragraph full of unterminated fields costs linear time.
    fn field_spans(&self, children: &[NodeId]) -> HashMap<usize, (usize, String)> {
        let tree = self.tree;
        let mut spans = HashMap::new();
        let mut depth = 0usize;
        let mut start = None;
        let mut instruction = String::new();
        let mut in_instruction = false;
        for (k, &c) in children.iter().enumerate() {
            if tree.elem(c).is_none() {
                continue;
            }
            let mut nodes = vec![c];
            nodes.extend(tree.descendants(c));
            for n in nodes {
                let Some(e) = tree.elem(n) else { continue };
                if e.is(Ns::W, "fldChar") {
                    match e.attr_value(Ns::W, "fldCharType") {
                        Some("begin") => {
                            if depth == 0 {
                                start = Some(k);
                                instruction.clear();
                                in_instruction = true;
                            }
                            depth += 1;
                        }
                        Some("separate") if depth == 1 => in_instruction = false,
                        Some("end") if depth > 0 => {
                            depth -= 1;
                            if depth == 0
                                && let Some(s) = start.take()
                            {
                                spans.insert(s, (k, std::mem::take(&mut instruction)));
                            }
                        }
                        _ => {}
                    }
                } else if e.is(Ns::W, "instrText") && depth == 1 && in_instruction {
                    instruction.push_str(&tree.text_of(n));
                }
            }
        }
        spans
    }

    // ---- DrawingML ----

    fn drawing_para(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(p) = tree.elem(id) else { return };
        if p.end_tag.is_none() {
            return;
        }
        let elems: Vec<(usize, NodeId)> = p
            .children
            .iter()
            .enumerate()
            .filter(|(_, c)| tree.elem(**c).is_some())
            .map(|(i, c)| (i, *c))
            .collect();
        let mut first = 0;
        let mut last = p.children.len();
        let mut region = p.inner();
        let mut ppr = None;
        if let Some(&(i, c)) = elems.first()
            && tree.elem(c).is_some_and(|e| e.is(Ns::A, "pPr"))
        {
            ppr = Some(c);
            first = i + 1;
            region.start = tree.nodes[c].range.end;
        }
        if let Some(&(i, c)) = elems.last()
            && tree.elem(c).is_some_and(|e| e.is(Ns::A, "endParaRPr"))
            && i >= first
        {
            last = i;
            region.end = tree.nodes[c].range.start;
        }
        let mut items = Vec::new();
        let mut nested = Vec::new();
        let mut fmts = FmtTable::default();
        let langs = self.langs.len();
        for &c in &p.children[first..last] {
            let node = &tree.nodes[c];
            match &node.kind {
                NodeKind::Text(t) => {
                    if !t.trim().is_empty() {
                        items.push(Item::Raw { range: node.range.clone() });
                    }
                }
                NodeKind::Other => items.push(Item::Raw { range: node.range.clone() }),
                NodeKind::Elem(e) if e.is(Ns::A, "r") && e.end_tag.is_some() => {
                    let rpr = tree.child(c, Ns::A, "rPr").map(|(n, _)| n);
                    if let Some(rpr) = rpr {
                        self.drawing_lang(rpr);
                    }
                    let key = rpr.map(|n| self.rpr_key(n, &[])).unwrap_or_default();
                    let fmt = fmts.intern(
                        key,
                        Fmt {
                            rtl: RunRtl::Nothing,
                            run_open: Some(e.start_tag.clone()),
                            rpr: rpr.map(|n| tree.nodes[n].range.clone()),
                        },
                    );
                    for (rc, re) in tree.child_elems(c) {
                        if re.is(Ns::A, "t") {
                            items.push(Item::Text { fmt, text: tree.text_of(rc) });
                        } else if !re.is(Ns::A, "rPr") {
                            items.push(Item::Obj { fmt, range: tree.nodes[rc].range.clone() });
                        }
                    }
                }
                NodeKind::Elem(_) => {
                    self.collect(c, &mut nested);
                    items.push(Item::Raw { range: node.range.clone() });
                }
            }
        }
        match inline::build(&items) {
            Some(inline::Built { content, codes, default_fmt, flattened }) => {
                let slot = self.add_segment(p.start_tag.start, content, "a:p");
                self.note_flattened(flattened, slot);
                self.take_langs(langs, slot, &mut nested);
                let prefix = p.prefix().to_string();
                let rtl = match ppr.and_then(|n| tree.elem(n)) {
                    None => {
                        let at = p.start_tag.end;
                        Some((at..at, format!("<{prefix}pPr rtl=\"1\"/>")))
                    }
                    Some(pp) => match pp.attr(Ns::None, "rtl") {
                        Some(a) if a.value == "1" || a.value == "true" => None,
                        Some(a) => Some((a.value_range.clone(), "1".to_string())),
                        None => {
                            let tag = &self.src[pp.start_tag.clone()];
                            let back = if tag.ends_with("/>") { 2 } else { 1 };
                            let at = pp.start_tag.end - back;
                            Some((at..at, " rtl=\"1\"".to_string()))
                        }
                    },
                };
                if let Some((range, markup)) = rtl {
                    out.push(Repl { range, kind: ReplKind::Rtl { slot, markup } });
                }
                let plan = ParaPlan {
                    dialect: Dialect::Drawing,
                    prefix,
                    fmts: fmts.fmts,
                    default_fmt,
                    codes,
                    nested,
                };
                out.push(Repl {
                    range: region,
                    kind: ReplKind::Para { slot, plan: Box::new(plan) },
                });
                // The end-of-paragraph properties (what text typed at the end gets) follow it.
                if let Some(&end_props) = p.children.get(last) {
                    let mark = self.langs.len();
                    self.drawing_lang(end_props);
                    out.extend(self.lang_repls(mark, Some(slot)));
                }
            }
            None => {
                self.langs.truncate(langs);
                out.extend(nested);
            }
        }
    }

    // ---- SpreadsheetML strings ----

    fn string_item(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(si) = tree.elem(id) else { return };
        if si.end_tag.is_none() {
            return;
        }
        let rich = tree.child(id, Ns::S, "r").is_some();
        if self.kind == Kind::SharedStrings && self.column_names.contains(&tree.text_of(id)) {
            self.report.kept.push(crate::KeptField {
                location: format!("{} › `{}`", self.part, tree.text_of(id)),
                field: "si".into(),
                reason: "names a table or pivot table column".into(),
            });
            return;
        }
        if !rich {
            if let Some((t, _)) = tree.child(id, Ns::S, "t") {
                self.plain(t, out);
            }
            return;
        }
        let mut items = Vec::new();
        let mut fmts = FmtTable::default();
        for &c in &si.children {
            let node = &tree.nodes[c];
            match &node.kind {
                NodeKind::Text(t) => {
                    if !t.trim().is_empty() {
                        items.push(Item::Raw { range: node.range.clone() });
                    }
                }
                NodeKind::Other => items.push(Item::Raw { range: node.range.clone() }),
                NodeKind::Elem(e) if e.is(Ns::S, "r") && e.end_tag.is_some() => {
                    let rpr = tree.child(c, Ns::S, "rPr").map(|(n, _)| n);
                    let key = rpr.map(|n| self.rpr_key(n, &[])).unwrap_or_default();
                    let fmt = fmts.intern(
                        key,
                        Fmt {
                            rtl: RunRtl::Nothing,
                            run_open: Some(e.start_tag.clone()),
                            rpr: rpr.map(|n| tree.nodes[n].range.clone()),
                        },
                    );
                    for (rc, re) in tree.child_elems(c) {
                        if re.is(Ns::S, "t") {
                            items.push(Item::Text { fmt, text: tree.text_of(rc) });
                        }
                    }
                }
                NodeKind::Elem(e) if e.is(Ns::S, "t") => {
                    let fmt = fmts.intern(
                        String::from("\u{0}plain"),
                        Fmt { run_open: None, rpr: None, rtl: RunRtl::Nothing },
                    );
                    items.push(Item::Text { fmt, text: tree.text_of(c) });
                }
                NodeKind::Elem(_) => items.push(Item::Raw { range: node.range.clone() }),
            }
        }
        if let Some(inline::Built { content, codes, default_fmt, flattened }) =
            inline::build(&items)
        {
            let field = si.qname.clone();
            let slot = self.add_segment(si.start_tag.start, content, &field);
            self.note_flattened(flattened, slot);
            let plan = ParaPlan {
                dialect: Dialect::Sheet,
                prefix: si.prefix().to_string(),
                fmts: fmts.fmts,
                default_fmt,
                codes,
                nested: Vec::new(),
            };
            out.push(Repl {
                range: si.inner(),
                kind: ReplKind::Para { slot, plan: Box::new(plan) },
            });
        }
    }
}
