//! SpreadsheetML: rich and plain strings (shared strings, inline string cells, legacy comments),
//! sheet names, which are translated only when nothing else in the package refers to them, and
//! table column names, renamed with their header cells.
//!
//! Tables: Excel requires each `tableColumn/@name` to equal its header cell's text, and repairs
//! (with a warning) a file where they differ. A header held in the shared strings is translated
//! and the table definitions' column names take the same translation (one segment, so the two
//! cannot differ); when a table's translated names are not distinct and non-empty, all its
//! columns keep their source names. Structured references to renamed columns in worksheet
//! cells' formulas and in the tables' calculated and totals-row formulas are rewritten with the
//! same names ([`super::formula`]). Renaming is refused, and the headers kept and reported, where
//! a reference cannot be rewritten safely: a table named by a defined name or any part other
//! than worksheets (charts, …), a formula naming the table that cannot be read, a table formula
//! that cannot be read (it may refer to its columns unqualified), and names of pivot cache fields
//! (pivot caches copy the header names and their items; they are not rewritten).

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use super::{Kind, Walk};
use crate::office::inline::{self, Dialect, Fmt, FmtTable, Item, ParaPlan, RunRtl};
use crate::office::package::Package;
use crate::office::xml::{self, NodeId, NodeKind, Ns};
use crate::office::{self, AttrCheck, FormulaPiece, Repl, ReplKind};
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
                    let fmt =
                        self.run_fmt(&mut fmts, e.start_tag.clone(), rpr, &[], RunRtl::Nothing);
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
    /// Tables whose columns are renamed, for reading formulas: lower-case display name and
    /// column names.
    pub formula_tables: Vec<(String, Vec<String>)>,
}

impl Tables {
    /// Whether a part's text may hold a structured reference to a renamed table.
    pub(super) fn named_in(&self, text: &str) -> bool {
        if self.formula_tables.is_empty() {
            return false;
        }
        let lower = text.to_lowercase();
        self.formula_tables.iter().any(|(t, _)| lower.contains(&format!("{t}[")))
    }
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
        // Formula texts, with the table whose own formula it is (`None`: a worksheet's).
        let mut formulas: Vec<(String, Option<usize>)> = Vec::new();
        for name in pkg.names.clone() {
            let normal = name.replace('\\', "/");
            let part_name = format!("/{}", normal.trim_start_matches('/')).to_ascii_lowercase();
            let ct = overrides.get(&part_name).map(|c| c.to_ascii_lowercase()).unwrap_or_default();
            let is_table = ct.ends_with("spreadsheetml.table+xml");
            let is_pivot = ct.ends_with("spreadsheetml.pivotcachedefinition+xml");
            if !is_table && !is_pivot {
                let lower = part_name.as_str();
                if lower.ends_with(".xml") && !lower.ends_with("sharedstrings.xml") {
                    let worksheet = ct.ends_with("spreadsheetml.worksheet+xml");
                    others.push((name, worksheet));
                }
                continue;
            }
            let text = crate::office::part_text(&name, pkg.read(&name)?)?;
            let tree = xml::parse(&name, &text)?;
            let mut table = Table { part: name.clone(), ..Table::default() };
            for (node, entry) in tree.nodes.iter().enumerate() {
                let NodeKind::Elem(e) = &entry.kind else { continue };
                if is_pivot && e.is(Ns::S, "cacheField") {
                    pivot_fields.extend(e.attr_value(Ns::None, "name").map(str::to_string));
                } else if is_table && e.is(Ns::S, "table") {
                    table.display = e.attr_value(Ns::None, "displayName").map(str::to_string);
                } else if is_table && e.is(Ns::S, "tableColumn") {
                    table.columns.extend(e.attr_value(Ns::None, "name").map(str::to_string));
                } else if is_table
                    && (e.is(Ns::S, "calculatedColumnFormula") || e.is(Ns::S, "totalsRowFormula"))
                {
                    formulas.push((tree.text_of(node), Some(tables.len())));
                }
            }
            if is_table {
                tables.push(table);
            }
        }
        // Structured references: those in worksheet cells' formulas and in tables' own formulas
        // are rewritten when they can be read; a table named anywhere else (defined names,
        // charts, …) or in a formula that cannot be read keeps its names.
        if !tables.is_empty() {
            for (name, worksheet) in others {
                let data = pkg.read(&name)?;
                let text = String::from_utf8_lossy(&data);
                let lower = text.to_lowercase();
                let named: Vec<usize> = (0..tables.len())
                    .filter(|&t| {
                        tables[t]
                            .display
                            .as_ref()
                            .is_some_and(|d| lower.contains(&format!("{}[", d.to_lowercase())))
                    })
                    .collect();
                if named.is_empty() {
                    continue;
                }
                if !worksheet {
                    named.iter().for_each(|&t| tables[t].referenced = true);
                    continue;
                }
                let tree = xml::parse(&name, &text)?;
                for node in 0..tree.nodes.len() {
                    if tree.elem(node).is_some_and(|e| e.is(Ns::S, "f")) {
                        formulas.push((tree.text_of(node), None));
                    }
                }
            }
            let known: Vec<(String, Vec<String>)> = tables
                .iter()
                .map(|t| (t.display.clone().unwrap_or_default().to_lowercase(), t.columns.clone()))
                .collect();
            for (formula, owner) in &formulas {
                if super::formula::split(formula, &known, owner.is_some()).is_some() {
                    continue;
                }
                // Unreadable: the tables it names keep their names, and so does the table whose
                // own formula it is (it may refer to its columns unqualified).
                let lower = formula.to_lowercase();
                for (t, table) in tables.iter_mut().enumerate() {
                    if *owner == Some(t) || lower.contains(&format!("{}[", known[t].0)) {
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
            let why = table.referenced.then(|| {
                format!(
                    "names a column of table `{display}`, which a defined name, another part or \
                     a formula that cannot be read refers to by structured references"
                )
            });
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
            if !table.referenced {
                let display = table.display.clone().unwrap_or_default().to_lowercase();
                out.formula_tables.push((display, table.columns.clone()));
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
            if e.is(Ns::S, "calculatedColumnFormula") || e.is(Ns::S, "totalsRowFormula") {
                self.formula(node, out);
                continue;
            }
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

    /// A formula (`f` in a cell, a table's calculated or totals-row formula): its references to
    /// renamed columns are rewritten with the headers' translations. Formulas that cannot be
    /// read never reach here for a renamed table (see [`Tables::read`]).
    pub(super) fn formula(&mut self, id: NodeId, out: &mut Vec<Repl>) {
        let tree = self.tree;
        let Some(e) = tree.elem(id) else { return };
        if e.end_tag.is_none() || self.tables.formula_tables.is_empty() {
            return;
        }
        let text = tree.text_of(id);
        let strict = self.kind == Kind::Table;
        let Some(pieces) = super::formula::split(&text, &self.tables.formula_tables, strict) else {
            return;
        };
        let mut any = false;
        let mut written = Vec::with_capacity(pieces.len());
        for piece in pieces {
            written.push(match piece {
                super::formula::Piece::Lit(text) => FormulaPiece::Lit(text),
                super::formula::Piece::Col { name, simple, .. } => {
                    match self.header_slots.get(&name) {
                        Some(&slot) if self.tables.renamed.contains(&name) => {
                            any = true;
                            FormulaPiece::Col { slot, simple }
                        }
                        // Not renamed: written as it stands.
                        _ => FormulaPiece::Lit(super::formula::escape_column(&name, false)),
                    }
                }
            });
        }
        if any {
            out.push(Repl { range: e.inner(), kind: ReplKind::Formula { pieces: written } });
        }
    }
}
