//! SpreadsheetML: rich and plain strings (shared strings, inline string cells, legacy comments),
//! sheet names, which are translated only when nothing else in the package refers to them, and
//! table column names, renamed with their header cells.
//!
//! Tables: Excel requires each `tableColumn/@name` to equal its header cell's text, and repairs
//! (with a warning) a file where they differ. A header held in the shared strings is translated
//! and the table definitions' column names take the same translation (one segment, so the two
//! cannot differ); when a table's translated names are not distinct and non-empty, all its
//! columns keep their source names. Renaming is refused, and the header kept and reported, where
//! a reference would need rewriting: a table named in any formula or other part
//! (`Sales[Amount]`, which also covers defined names and charts), a table with calculated or
//! totals-row formulas (`[@Amount]`), and names of pivot cache fields (pivot caches copy the
//! header names and their items; they are not rewritten).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use super::{Kind, Walk};
use crate::office::inline::{self, Dialect, Fmt, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::package::Package;
use crate::office::xml::{self, NodeId, NodeKind, Ns};
use crate::office::{self, AttrCheck, Repl, ReplKind};
use crate::{FormatError, KeptField, Report};

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
        let header = (self.kind == Kind::SharedStrings).then(|| tree.text_of(id));
        if let Some(text) = &header
            && let Some(why) = self.tables.kept.get(text)
        {
            self.report.kept.push(crate::KeptField {
                location: format!("{} › `{text}`", self.part),
                field: "si".into(),
                reason: why.clone(),
            });
            return;
        }
        let first_new_slot = self.segs.pending.len();
        self.string_item_segment(id, rich, out);
        if let Some(text) = header
            && self.tables.renamed.contains(&text)
            && self.segs.pending.len() > first_new_slot
        {
            self.header_slots.entry(text).or_insert(first_new_slot);
        }
    }

    fn string_item_segment(&mut self, id: NodeId, rich: bool, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(si) = tree.elem(id) else { return };
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

/// What the package's tables allow for header strings.
#[derive(Debug, Default)]
pub(super) struct Tables {
    /// Header texts that must keep their source, with why.
    pub kept: HashMap<String, String>,
    /// Header texts renamed together with their tables' column names.
    pub renamed: HashSet<String>,
}

impl Tables {
    /// Reads the table and pivot cache definitions (parts typed by `overrides`, keyed by
    /// lower-case part name) and decides which header texts may be renamed.
    pub(super) fn read<R: Read + Seek>(
        pkg: &mut Package<'_, R>,
        overrides: &HashMap<String, String>,
        report: &mut Report,
    ) -> Result<Tables, FormatError> {
        let mut tables = Vec::new();
        let mut pivot_fields = Vec::new();
        let mut others = Vec::new();
        for name in pkg.names.clone() {
            let normal = name.replace('\\', "/");
            let part_name = format!("/{}", normal.trim_start_matches('/')).to_ascii_lowercase();
            let ct = overrides.get(&part_name).map(|c| c.to_ascii_lowercase()).unwrap_or_default();
            let is_table = ct.ends_with("spreadsheetml.table+xml");
            let is_pivot = ct.ends_with("spreadsheetml.pivotcachedefinition+xml");
            if !is_table && !is_pivot {
                let lower = part_name.as_str();
                if lower.ends_with(".xml") && !lower.ends_with("sharedstrings.xml") {
                    others.push(name);
                }
                continue;
            }
            let text = crate::office::part_text(&name, pkg.read(&name)?)?;
            let tree = xml::parse(&name, &text)?;
            let mut table = Table { part: name.clone(), ..Table::default() };
            for node in &tree.nodes {
                let NodeKind::Elem(e) = &node.kind else { continue };
                if is_pivot && e.is(Ns::S, "cacheField") {
                    pivot_fields.extend(e.attr_value(Ns::None, "name").map(str::to_string));
                } else if is_table && e.is(Ns::S, "table") {
                    table.display = e.attr_value(Ns::None, "displayName").map(str::to_string);
                } else if is_table && e.is(Ns::S, "tableColumn") {
                    table.columns.extend(e.attr_value(Ns::None, "name").map(str::to_string));
                } else if is_table
                    && (e.is(Ns::S, "calculatedColumnFormula") || e.is(Ns::S, "totalsRowFormula"))
                {
                    table.formulas = true;
                }
            }
            if is_table {
                tables.push(table);
            }
        }
        // A table named anywhere else (formulas in worksheets, defined names, charts, other
        // tables' formulas) has structured references to its columns.
        if !tables.is_empty() {
            for name in others {
                let data = pkg.read(&name)?;
                let text = String::from_utf8_lossy(&data).to_lowercase();
                for table in &mut tables {
                    if let Some(display) = &table.display
                        && text.contains(&format!("{}[", display.to_lowercase()))
                    {
                        table.referenced = true;
                    }
                }
            }
        }
        let mut out = Tables::default();
        for field in pivot_fields {
            out.kept.insert(
                field,
                "names a pivot table field (pivot caches are not renamed)".to_string(),
            );
        }
        for table in &tables {
            let display = table.display.clone().unwrap_or_default();
            let why = if table.referenced {
                Some(format!(
                    "names a column of table `{display}`, which formulas or other parts refer to \
                     by structured references (those are not rewritten)"
                ))
            } else if table.formulas {
                Some(format!(
                    "names a column of table `{display}`, which has calculated or totals-row \
                     formulas (those are not rewritten)"
                ))
            } else {
                None
            };
            if let Some(why) = why {
                report.kept.push(KeptField {
                    location: format!("{} › table `{display}`", table.part),
                    field: "tableColumn".into(),
                    reason: why.clone(),
                });
                for column in &table.columns {
                    out.kept.entry(column.clone()).or_insert_with(|| why.clone());
                }
            }
        }
        for table in &tables {
            for column in &table.columns {
                if !out.kept.contains_key(column) {
                    out.renamed.insert(column.clone());
                }
            }
        }
        Ok(out)
    }
}

/// One table definition, as [`Tables::read`] sees it.
#[derive(Debug, Default)]
struct Table {
    part: String,
    display: Option<String>,
    columns: Vec<String>,
    formulas: bool,
    referenced: bool,
}

impl Walk<'_> {
    /// A table definition: each column whose header was translated takes the same translation
    /// (the header's segment); the renamed columns form one group that must stay distinct.
    pub(super) fn table_columns(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let mut group = Vec::new();
        for node in id..tree.nodes.len() {
            let NodeKind::Elem(e) = &tree.nodes[node].kind else { continue };
            if !e.is(Ns::S, "tableColumn") {
                continue;
            }
            let Some(a) = e.attr(Ns::None, "name") else { continue };
            if !self.tables.renamed.contains(&a.value) {
                continue;
            }
            let Some(&slot) = self.header_slots.get(&a.value) else { continue };
            out.push(Repl {
                range: a.value_range.clone(),
                kind: ReplKind::Attr { slot, quote: a.quote, check: AttrCheck::None },
            });
            group.push(slot);
        }
        if group.len() > 1 {
            self.segs.distinct_groups.push(group);
        }
    }
}
