//! SpreadsheetML: rich and plain strings (shared strings, inline string cells, legacy comments)
//! and sheet names, which are translated only when nothing else in the package refers to them.

use super::{Kind, Walk};
use crate::office::inline::{self, Dialect, Fmt, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::xml::{NodeId, NodeKind, Ns};
use crate::office::{self, AttrCheck, Repl, ReplKind};

impl Walk<'_> {
    pub(super) fn sheet_name(&mut self, id: NodeId, out: &mut Vec<Repl>) {
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

    pub(super) fn string_item(&mut self, id: NodeId, out: &mut Vec<Repl>) {
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
