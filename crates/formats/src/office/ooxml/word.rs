//! WordprocessingML: paragraphs (`w:p`) with their runs, wrappers (hyperlinks, tracked
//! insertions, content controls) and fields, right-to-left paragraph and run properties, and the
//! `w:lang` attributes retagged with the target language.

use std::collections::HashMap;

use super::Walk;
use crate::office::inline::{self, Dialect, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::xml::{NodeId, NodeKind, Ns};
use crate::office::{LangSlot, Repl, ReplKind};

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
    pub(super) fn word_para(&mut self, id: NodeId, out: &mut Vec<Repl>) {
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

    /// Notes the language attributes of a Word `w:lang` element.
    pub(super) fn word_lang(&mut self, lang: NodeId) {
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
        let rtl = self.word_run_rtl(rpr);
        let fmt = self.run_fmt(fmts, r.start_tag.clone(), rpr, &["lang", "noProof"], rtl);
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
}
