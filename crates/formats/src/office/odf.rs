//! OpenDocument filter: text (`.odt`), presentation (`.odp`) and spreadsheet (`.ods`).
//!
//! A package is a zip whose first entry, `mimetype` (stored), names the document type. Text
//! lives in `content.xml` (body, tables, lists, notes, frames, annotations, speaker notes,
//! embedded objects' `content.xml` for chart titles), `styles.xml` (headers, footers, master
//! pages) and `meta.xml` (`dc:title`).
//!
//! Paragraphs (`text:p`, `text:h`) become segments: spans, links and `text:meta` are paired
//! codes (adjacent spans with the same style are merged into one code); tabs, line breaks,
//! notes, bookmarks, fields (page numbers, dates, references), frames and annotations are
//! standalone codes, with the paragraphs inside notes, frames and annotations translated as
//! segments of their own. Spaces follow ODF's whitespace rules: extraction collapses whitespace
//! as a reader does and turns `text:s` into spaces; merging writes repeated and leading spaces
//! back as `text:s`, tabs as `text:tab` and newlines as `text:line-break`.
//!
//! Kept as they are: deleted text recorded in `text:tracked-changes`; spreadsheet cells whose
//! value type is not `string` or that hold a formula (their text is a rendering of the value);
//! sheet names that something else refers to. Image titles and descriptions (`svg:title`,
//! `svg:desc`) are translated.
//!
//! Language tags: the languages of a style's text properties (`fo:language`/`fo:country`,
//! their Asian and complex-script forms, `style:rfc-language-tag*`) are what LibreOffice
//! proof-reads and hyphenates with. Once anything was translated, a style is retagged with the
//! target according to who uses it: a paragraph style used by translated paragraphs only, or by
//! no paragraph at all (parents, the default style), takes the target; one used only by kept
//! paragraphs (left in the source language: not translated, kept by the engine) keeps its
//! language; one used by both is retagged and *copied* right after itself (same properties,
//! source languages, name `<name>_src`, display name `<display> (source)`), and the kept
//! paragraphs point to the copy, so each paragraph is tagged with its real language. Text
//! (span) styles follow the same rule without copies: one used in kept paragraphs only keeps
//! its language, one also used in translated paragraphs takes the target. Not covered: a kept
//! paragraph whose style has no language of its own and inherits it (from a parent style or the
//! default style, which take the target) reads as the target language. `zxx` (no linguistic
//! content, e.g. code) is never changed.
//!
//! Right-to-left targets: every paragraph style, and the default paragraph style, gets
//! `style:writing-mode="rl-tb"` (ODF sets direction on styles, not on paragraphs), so the whole
//! translated document runs right to left.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};
use std::path::Path;

use crate::archive::file::Source;

use crate::office::inline::{self, Dialect, Fmt, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::package::{self, Package};
use crate::office::xml::{self, NodeId, NodeKind, Ns, Tree};
use crate::office::{
    self, AttrCheck, LangSlot, OdfLangForm, OdfStyles, PartPlan, Repl, ReplKind, Segments,
};
use crate::{Document, ExtractOptions, Format, FormatError, KeptField, Report};

const MIME_TEXT: &str = "application/vnd.oasis.opendocument.text";
const MIME_PRESENTATION: &str = "application/vnd.oasis.opendocument.presentation";
const MIME_SPREADSHEET: &str = "application/vnd.oasis.opendocument.spreadsheet";

fn format_of_mime(mime: &str) -> Option<Format> {
    let mime = mime.trim();
    let base = mime.strip_suffix("-template").unwrap_or(mime);
    match base {
        MIME_TEXT => Some(Format::Odt),
        MIME_PRESENTATION => Some(Format::Odp),
        MIME_SPREADSHEET => Some(Format::Ods),
        _ => None,
    }
}

/// Recognises ODT, ODP and ODS by their `mimetype` entry.
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    if !bytes.starts_with(b"PK") {
        return None;
    }
    let names = package::entry_names(bytes)?;
    if !names.iter().any(|n| n == "mimetype") {
        return None;
    }
    sniff_package(&mut Package::open(bytes, crate::Limits::default()).ok()?)
}

/// Recognises ODT, ODP and ODS by the `mimetype` entry of an open package.
pub(crate) fn sniff_package<R: Read + Seek>(pkg: &mut Package<'_, R>) -> Option<Format> {
    if !pkg.has("mimetype") {
        return None;
    }
    let mime = pkg.read("mimetype").ok()?;
    if mime.len() > 200 {
        return None;
    }
    format_of_mime(std::str::from_utf8(&mime).ok()?)
}

/// Extracts an ODT, ODP or ODS document.
pub(crate) fn extract(
    format: Format,
    _name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let pkg = Package::open(bytes, options.limits)?;
    extract_package(format, pkg, Source::Bytes(bytes.to_vec()), options)
}

/// Extracts an ODT, ODP or ODS document read from the file at `path`: only the parts that carry text are
/// decompressed, and merging streams every other entry (media) from that file.
pub(crate) fn extract_file(
    format: Format,
    path: &Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let pkg = Package::of(crate::archive::file::open_file(path, &options.limits)?);
    extract_package(format, pkg, Source::File(path.to_path_buf()), options)
}

fn extract_package<R: Read + Seek>(
    format: Format,
    mut pkg: Package<'_, R>,
    original: Source,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    if !pkg.has("mimetype") {
        return Err(FormatError::Invalid(
            "not an OpenDocument package: no `mimetype` entry".into(),
        ));
    }
    let mut selected: Vec<String> = pkg
        .names
        .iter()
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or(n);
            matches!(base, "content.xml" | "styles.xml") || n.as_str() == "meta.xml"
        })
        .cloned()
        .collect();
    // Sheet names: anything but content.xml itself that mentions them (settings.xml only keeps
    // view state keyed by name, which does no harm if it goes stale).
    let mut other_texts = Vec::new();
    if format == Format::Ods {
        let names = pkg.names.clone();
        for name in names {
            if name.ends_with(".xml") && name != "content.xml" && name != "settings.xml" {
                let data = pkg.read(&name)?;
                other_texts.push(String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
    // Reading order: title, body, headers and footers, then embedded objects.
    selected.sort_by_key(|name| {
        let rank = match name.as_str() {
            "meta.xml" => 0,
            "content.xml" => 1,
            "styles.xml" => 2,
            _ => 3,
        };
        (rank, office::natural_key(name))
    });
    let mut segments = Segments::new(&options.limits);
    let mut parts = Vec::new();
    let mut report = Report::default();
    let mut styles = StyleTable::default();
    for (part_idx, name) in selected.iter().enumerate() {
        segments.check(&options.limits)?;
        let text = office::part_text(name, pkg.read(name)?)?;
        let tree = xml::parse(name, &text)?;
        let style_names = tree
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Elem(e) => e.attr_value(Ns::Style, "name").map(str::to_string),
                _ => None,
            })
            .collect();
        let mut walk = Walk {
            styles: &mut styles,
            style: None,
            style_names,
            tree: &tree,
            src: &text,
            part: name,
            part_idx,
            segs: &mut segments,
            counters: HashMap::new(),
            is_meta: name == "meta.xml",
            sheet_names: format == Format::Ods && name == "content.xml",
            other_texts: &other_texts,
            report: &mut report,
        };
        let mut repls = Vec::new();
        if let Some(root) = tree.root() {
            walk.collect(root, &mut repls);
            // Language attributes of a style come after its right-to-left insertions in
            // document order only most of the time: replacements are applied in order.
            repls.sort_by_key(|r| r.range.start);
        }
        drop(walk);
        parts.push(PartPlan { name: name.clone(), src: text, repls });
    }
    segments.check(&options.limits)?;
    let (title, domain) = parts
        .iter()
        .find(|p| p.name == "meta.xml")
        .map_or((None, None), |p| crate::title::dc_properties(&p.src));
    let odf_styles = styles.resolve(&selected);
    Ok(office::assemble(format, original, parts, segments, report, options.limits, odf_styles)
        .with_title(title, domain))
}

/// The styles with language attributes found while walking the parts, and who uses them.
#[derive(Default)]
struct StyleTable {
    /// By style: (part index, family, name).
    defs: Vec<(usize, String, String)>,
    /// By style: the name of its copy.
    copy_names: Vec<String>,
    /// Paragraph uses that may be redirected to a copy (index: `OdfStyleRef::use_idx`), then
    /// span uses: (part index, family, name, slot).
    ref_uses: Vec<(usize, String, String, usize)>,
    span_uses: Vec<(usize, String, String, usize)>,
}

impl StyleTable {
    /// Who uses which style: a name is looked up in the part that uses it (its automatic
    /// styles), then in the `styles.xml` beside it (the common styles).
    fn resolve(self, part_names: &[String]) -> OdfStyles {
        let index: HashMap<(usize, &str, &str), u32> = self
            .defs
            .iter()
            .enumerate()
            .map(|(i, (part, family, name))| {
                ((*part, family.as_str(), name.as_str()), u32::try_from(i).unwrap_or(u32::MAX))
            })
            .collect();
        let styles_part = |part: usize| {
            let name = part_names.get(part).map_or("", String::as_str);
            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
            let want =
                if dir.is_empty() { "styles.xml".to_string() } else { format!("{dir}/styles.xml") };
            part_names.iter().position(|n| *n == want)
        };
        let find = |part: usize, family: &str, name: &str| {
            index
                .get(&(part, family, name))
                .copied()
                .or_else(|| styles_part(part).and_then(|q| index.get(&(q, family, name)).copied()))
        };
        let mut users = vec![Vec::new(); self.defs.len()];
        let mut use_style = Vec::with_capacity(self.ref_uses.len());
        for (part, family, name, slot) in &self.ref_uses {
            let style = find(*part, family, name);
            if let Some(s) = style {
                users[s as usize].push(*slot);
            }
            use_style.push(style);
        }
        for (part, family, name, slot) in &self.span_uses {
            if let Some(s) = find(*part, family, name) {
                users[s as usize].push(*slot);
            }
        }
        OdfStyles { users, copy_names: self.copy_names, use_style }
    }
}

struct Walk<'a> {
    tree: &'a Tree,
    src: &'a str,
    part: &'a str,
    part_idx: usize,
    segs: &'a mut Segments,
    counters: HashMap<String, usize>,
    is_meta: bool,
    sheet_names: bool,
    other_texts: &'a [String],
    report: &'a mut Report,
    /// Styles and their uses, for every part.
    styles: &'a mut StyleTable,
    /// The style whose children are being walked.
    style: Option<u32>,
    /// The style names of this part (a copy's name must be new).
    style_names: HashSet<String>,
}

impl Walk<'_> {
    fn note_flattened(&mut self, flattened: bool, slot: usize) {
        if flattened {
            let location = &self.segs.pending[slot].location;
            self.report
                .warnings
                .push(format!("{location}: formatting changes within words were simplified to the paragraph's main formatting"));
        }
    }

    fn add_segment(&mut self, at: usize, content: tradia_core::Content, field: &str) -> usize {
        let n = self.counters.entry(field.to_string()).or_insert(0);
        *n += 1;
        let location = format!("{} › {} #{}", self.part, field, n);
        self.segs.add((self.part_idx, at), content, location, field)
    }

    fn collect(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        if self.segs.full() {
            return;
        }
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        match (e.ns, e.local.as_str()) {
            (Ns::Text, "p") | (Ns::Text, "h") => return self.para(id, out),
            (Ns::Text, "tracked-changes") => return,
            (Ns::Svg, "title") | (Ns::Svg, "desc") => return self.plain(id, out),
            (Ns::Dc, "title") if self.is_meta => return self.plain(id, out),
            (Ns::Table, "table-cell") | (Ns::Table, "covered-table-cell") => {
                let value_type = e.attr_value(Ns::Office, "value-type");
                // A formula's result, a number, date, currency, percentage, boolean or time is
                // rendered into the cell's paragraphs; so is a string whose value is stored apart
                // (`office:string-value`). None of these is translated.
                let computed = e.attr(Ns::Table, "formula").is_some()
                    || e.attr(Ns::Office, "string-value").is_some()
                    || value_type.is_some_and(|v| v != "string");
                if computed {
                    for &c in &e.children {
                        let is_para = tree
                            .elem(c)
                            .is_some_and(|ce| ce.is(Ns::Text, "p") || ce.is(Ns::Text, "h"));
                        if !is_para {
                            self.collect(c, out);
                        }
                    }
                    return;
                }
            }
            (Ns::Table, "table") if self.sheet_names => self.sheet_name(id, out),
            (Ns::Style, "style") | (Ns::Style, "default-style") => {
                if e.attr_value(Ns::Style, "family") == Some("paragraph") {
                    self.rtl_style(id, out);
                }
                if e.local == "style" {
                    return self.style(id, out);
                }
            }
            (Ns::Style, "text-properties") => self.language_attrs(id, out),
            _ => {}
        }
        for &c in &e.children {
            self.collect(c, out);
        }
    }

    fn plain(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        if e.end_tag.is_none() || tree.child_elems(id).next().is_some() {
            return;
        }
        let text = tree.text_of(id);
        if !office::worth(&text) || (e.ns == Ns::Svg && office::is_file_name(&text)) {
            return;
        }
        let field = e.qname.clone();
        let slot = self.add_segment(e.start_tag.start, tradia_core::Content::text(text), &field);
        out.push(Repl { range: e.inner(), kind: ReplKind::Plain { slot } });
    }

    fn sheet_name(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let Some(e) = self.tree.elem(id) else { return };
        let Some(a) = e.attr(Ns::Table, "name") else { return };
        if !office::worth(&a.value) {
            return;
        }
        let raw = &self.src[a.value_range.clone()];
        if office::sheet_name_referenced(self.src, raw, &a.value, self.other_texts) {
            self.report.kept.push(KeptField {
                location: format!("{} › table `{}`", self.part, a.value),
                field: "sheet name".into(),
                reason: "referred to by formulas, ranges or other parts".into(),
            });
            return;
        }
        let slot = self.add_segment(
            a.value_range.start,
            tradia_core::Content::text(a.value.clone()),
            "table:name",
        );
        out.push(Repl {
            range: a.value_range.clone(),
            kind: ReplKind::Attr { slot, quote: a.quote, check: AttrCheck::SheetName },
        });
    }

    /// A named style: registered (with a copy's name) so that its language attributes follow
    /// who uses it; a paragraph style gets the copy written after it when it is split.
    fn style(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let Some(e) = self.tree.elem(id) else { return };
        let (Some(name), Some(family)) =
            (e.attr(Ns::Style, "name"), e.attr_value(Ns::Style, "family"))
        else {
            for &c in &e.children {
                self.collect(c, out);
            }
            return;
        };
        let index = u32::try_from(self.styles.defs.len()).unwrap_or(u32::MAX);
        let mut copy = format!("{}_src", name.value);
        let mut n = 2;
        while self.style_names.contains(&copy) {
            copy = format!("{}_src{n}", name.value);
            n += 1;
        }
        self.style_names.insert(copy.clone());
        self.styles.defs.push((self.part_idx, family.to_string(), name.value.clone()));
        self.styles.copy_names.push(copy.clone());
        let outer = self.style.replace(index);
        for &c in &e.children {
            self.collect(c, out);
        }
        self.style = outer;
        if family == "paragraph" {
            let end = e.end_tag.as_ref().map_or(e.start_tag.end, |t| t.end);
            let mut renames = vec![(name.value_range.clone(), copy)];
            if let Some(d) = e.attr(Ns::Style, "display-name") {
                renames.push((d.value_range.clone(), format!("{} (source)", d.value)));
            }
            renames.sort_by_key(|(r, _)| r.start);
            out.push(Repl {
                range: end..end,
                kind: ReplKind::OdfStyleCopy {
                    style: index,
                    elem: e.start_tag.start..end,
                    renames,
                },
            });
        }
    }

    /// Language tags of a style's text properties (`fo:language`/`fo:country` for Latin
    /// scripts, `style:language-asian`… and `style:language-complex`…, and the
    /// `style:rfc-language-tag*` forms), retagged with the target on merge according to the
    /// rule of the module documentation. `zxx` (no linguistic content, e.g. code) is kept.
    fn language_attrs(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let Some(e) = self.tree.elem(id) else { return };
        let style = self.style;
        let sets = [
            (Ns::Fo, "language", Ns::Fo, "country", "rfc-language-tag", LangSlot::Latin),
            (
                Ns::Style,
                "language-asian",
                Ns::Style,
                "country-asian",
                "rfc-language-tag-asian",
                LangSlot::EastAsian,
            ),
            (
                Ns::Style,
                "language-complex",
                Ns::Style,
                "country-complex",
                "rfc-language-tag-complex",
                LangSlot::Complex,
            ),
        ];
        for (lang_ns, lang, country_ns, country, rfc, which) in sets {
            let Some(l) = e.attr(lang_ns, lang) else { continue };
            if l.value == "zxx" || l.value.is_empty() {
                continue;
            }
            out.push(Repl {
                range: l.value_range.clone(),
                kind: ReplKind::OdfLang { which, form: OdfLangForm::Language, style },
            });
            if let Some(c) = e.attr(country_ns, country) {
                out.push(Repl {
                    range: c.value_range.clone(),
                    kind: ReplKind::OdfLang { which, form: OdfLangForm::Country, style },
                });
            }
            if let Some(r) = e.attr(Ns::Style, rfc) {
                out.push(Repl {
                    range: r.value_range.clone(),
                    kind: ReplKind::OdfLang { which, form: OdfLangForm::Tag, style },
                });
            }
        }
    }

    /// For right-to-left targets: paragraph styles (and the default paragraph style) get
    /// `style:writing-mode="rl-tb"`, so that every paragraph of the translated document runs
    /// right to left.
    fn rtl_style(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        // An attribute needs a prefix to be in the style namespace; documents that make it the
        // default namespace are left alone.
        if e.prefix().is_empty() {
            return;
        }
        match tree.child(id, Ns::Style, "paragraph-properties") {
            Some((_, pp)) if pp.prefix().is_empty() => {}
            Some((_, pp)) => match pp.attr(Ns::Style, "writing-mode") {
                Some(a) if a.value == "rl-tb" => {}
                Some(a) => out.push(Repl {
                    range: a.value_range.clone(),
                    kind: ReplKind::RtlDocument { markup: "rl-tb".into() },
                }),
                None => {
                    let tag = &self.src[pp.start_tag.clone()];
                    let at = pp.start_tag.end - if tag.ends_with("/>") { 2 } else { 1 };
                    let markup = format!(" {}writing-mode=\"rl-tb\"", pp.prefix());
                    out.push(Repl { range: at..at, kind: ReplKind::RtlDocument { markup } });
                }
            },
            None if e.local == "default-style" && e.end_tag.is_some() => {
                let p = e.prefix();
                let at = e.start_tag.end;
                let markup = format!("<{p}paragraph-properties {p}writing-mode=\"rl-tb\"/>");
                out.push(Repl { range: at..at, kind: ReplKind::RtlDocument { markup } });
            }
            None => {}
        }
    }

    fn para(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(p) = tree.elem(id) else { return };
        if p.end_tag.is_none() {
            return;
        }
        let mut items = Vec::new();
        let mut nested = Vec::new();
        let mut fmts = FmtTable::default();
        fmts.intern(String::new(), Fmt { run_open: None, rpr: None, rtl: RunRtl::Nothing });
        let mut prev_space = true;
        let mut spans = Vec::new();
        self.inline(&p.children, &mut items, &mut nested, &mut prev_space, &mut spans);
        inline::merge_adjacent_wrappers(&mut items, self.src);
        match inline::build(&items) {
            Some(inline::Built { content, codes, default_fmt, flattened }) => {
                let field = p.qname.clone();
                let slot = self.add_segment(p.start_tag.start, content, &field);
                self.note_flattened(flattened, slot);
                self.style_uses(p, slot, spans, out);
                let plan = ParaPlan {
                    dialect: Dialect::Odf,
                    prefix: p.prefix().to_string(),
                    fmts: fmts.fmts,
                    default_fmt,
                    codes,
                    nested,
                };
                out.push(Repl {
                    range: p.inner(),
                    kind: ReplKind::Para { slot, plan: Box::new(plan) },
                });
            }
            None => out.extend(nested),
        }
    }

    /// Records which styles paragraph `p` (segment `slot`) uses: its own (whose name may be
    /// redirected to a copy) and its spans' (`spans`).
    fn style_uses(&mut self, p: &xml::Elem, slot: usize, spans: Vec<String>, out: &mut Vec<Repl>) {
        let part = self.part_idx;
        if let Some(a) = p.attr(Ns::Text, "style-name") {
            let use_idx = u32::try_from(self.styles.ref_uses.len()).unwrap_or(u32::MAX);
            self.styles.ref_uses.push((part, "paragraph".into(), a.value.clone(), slot));
            out.push(Repl {
                range: a.value_range.clone(),
                kind: ReplKind::OdfStyleRef { slot, use_idx },
            });
        }
        for name in spans {
            self.styles.span_uses.push((part, "text".into(), name, slot));
        }
    }

    fn inline(
        &mut self,
        children: &[NodeId],
        items: &mut Vec<Item>,
        nested: &mut Vec<Repl>,
        prev_space: &mut bool,
        spans: &mut Vec<String>,
    ) {
        let tree = self.tree;
        for &c in children {
            let node = &tree.nodes[c];
            match &node.kind {
                NodeKind::Text(t) => {
                    let mut text = String::with_capacity(t.len());
                    for ch in t.chars() {
                        if matches!(ch, ' ' | '\t' | '\n' | '\r') {
                            if !*prev_space {
                                text.push(' ');
                                *prev_space = true;
                            }
                        } else {
                            text.push(ch);
                            *prev_space = false;
                        }
                    }
                    items.push(Item::Text { fmt: 0, text });
                }
                NodeKind::Other => items.push(Item::Raw { range: node.range.clone() }),
                NodeKind::Elem(e) => {
                    if e.ns == Ns::Text {
                        match e.local.as_str() {
                            "s" => {
                                let n: usize = e
                                    .attr_value(Ns::Text, "c")
                                    .and_then(|v| v.trim().parse().ok())
                                    .unwrap_or(1)
                                    .clamp(1, 1_000);
                                items.push(Item::Text { fmt: 0, text: " ".repeat(n) });
                                *prev_space = false;
                                continue;
                            }
                            "tab" | "line-break" => {
                                items.push(Item::Raw { range: node.range.clone() });
                                *prev_space = false;
                                continue;
                            }
                            "span" | "a" | "meta" if e.end_tag.is_some() => {
                                if let Some(style) = e.attr_value(Ns::Text, "style-name") {
                                    spans.push(style.to_string());
                                }
                                let close = e.end_tag.clone().unwrap_or_default();
                                items.push(Item::Open { open: e.start_tag.clone(), close });
                                self.inline(&e.children, items, nested, prev_space, spans);
                                items.push(Item::Close);
                                continue;
                            }
                            _ => {}
                        }
                    }
                    self.collect(c, nested);
                    items.push(Item::Raw { range: node.range.clone() });
                }
            }
        }
    }
}
