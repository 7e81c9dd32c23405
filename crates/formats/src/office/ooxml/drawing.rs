//! DrawingML paragraphs (`a:p`): slides, notes, layouts, charts, SmartArt and spreadsheet
//! drawings, with `rtl="1"` for right-to-left targets and the `lang` of run properties.

use super::Walk;
use crate::office::inline::{self, Dialect, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::xml::{NodeId, NodeKind, Ns};
use crate::office::{LangSlot, Repl, ReplKind};

impl Walk<'_> {
    pub(super) fn drawing_para(&mut self, id: NodeId, out: &mut Vec<Repl>) {
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
                    let fmt =
                        self.run_fmt(&mut fmts, e.start_tag.clone(), rpr, &[], RunRtl::Nothing);
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

    /// Notes the `lang` attribute of DrawingML run properties (`a:rPr`, `a:endParaRPr`).
    fn drawing_lang(&mut self, props: NodeId) {
        if let Some(a) = self.tree.elem(props).and_then(|e| e.attr(Ns::None, "lang")) {
            self.langs.push((a.value_range.clone(), LangSlot::Any));
        }
    }
}
