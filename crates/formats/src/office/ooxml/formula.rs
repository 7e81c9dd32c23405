//! Structured references in spreadsheet formulas (`Sales[Amount]`, `Sales[[#This Row],[Amount]]`,
//! `Sales[[Q1]:[Q4]]`, `Sales[@Amount]`), found so that renamed table columns can be renamed in
//! the formulas too.
//!
//! The scanner knows string literals (`"…"`) and quoted sheet names (`'…'`), which may hold
//! brackets, and the escape of structured references (`'` before `[`, `]`, `#` and `'`). A
//! reference to a known table that it cannot read, or that names a column the table does not
//! have, makes the whole formula unreadable (`None`): the caller then keeps the table's names.

/// A piece of a formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text written as it is.
    Lit(String),
    /// A column name of table `table` (its index in the list given to [`split`]), in a
    /// reference's brackets; `simple` when the brackets are the reference's own (`T[Col]`,
    /// `T[@Col]`), so that a new name is written in brackets of its own (`T[[New name]]`).
    Col {
        /// The table's index.
        table: usize,
        /// The column's name, as the table defines it.
        name: String,
        /// Whether the name stood directly in the reference's brackets.
        simple: bool,
    },
}

/// Splits `formula` into literal text and the column names of references to `tables` (lower-case
/// display names, with their column names). `strict`: a bracket that does not follow a known
/// table name (an unqualified reference, as in a table's own formulas) is unreadable too.
pub(crate) fn split(
    formula: &str,
    tables: &[(String, Vec<String>)],
    strict: bool,
) -> Option<Vec<Piece>> {
    let chars: Vec<char> = formula.chars().collect();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            // A string literal or a quoted sheet name, doubled quotes inside.
            lit.push(c);
            i += 1;
            while i < chars.len() {
                lit.push(chars[i]);
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        lit.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_alphabetic() || c == '_' || c == '\\' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '\\' | '.'))
            {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            lit.push_str(&name);
            if chars.get(i) == Some(&'[') {
                let lower = name.to_lowercase();
                if let Some(table) = tables.iter().position(|(t, _)| *t == lower) {
                    flush(&mut lit, &mut out);
                    i = reference(&chars, i, table, &tables[table].1, &mut out)?;
                }
            }
            continue;
        }
        if c == '[' && strict {
            return None;
        }
        lit.push(c);
        i += 1;
    }
    flush(&mut lit, &mut out);
    Some(out)
}

fn flush(lit: &mut String, out: &mut Vec<Piece>) {
    if !lit.is_empty() {
        out.push(Piece::Lit(std::mem::take(lit)));
    }
}

/// Reads the bracketed part of a reference starting at `chars[at] == '['`; returns the index
/// after it.
fn reference(
    chars: &[char],
    at: usize,
    table: usize,
    columns: &[String],
    out: &mut Vec<Piece>,
) -> Option<usize> {
    let mut i = at + 1;
    out.push(Piece::Lit("[".into()));
    match chars.get(i)? {
        ']' => {}
        '[' => {
            // A list of bracketed items separated by `,` or `:` (spaces allowed).
            loop {
                while chars.get(i) == Some(&' ') {
                    out.push(Piece::Lit(" ".into()));
                    i += 1;
                }
                if *chars.get(i)? != '[' {
                    return None;
                }
                out.push(Piece::Lit("[".into()));
                i = item(chars, i + 1, table, columns, false, out)? + 1;
                out.push(Piece::Lit("]".into()));
                while chars.get(i) == Some(&' ') {
                    out.push(Piece::Lit(" ".into()));
                    i += 1;
                }
                match chars.get(i)? {
                    ',' | ':' => {
                        out.push(Piece::Lit(chars[i].to_string()));
                        i += 1;
                    }
                    ']' => break,
                    _ => return None,
                }
            }
        }
        '@' => {
            out.push(Piece::Lit("@".into()));
            i += 1;
            if chars.get(i) == Some(&'[') {
                out.push(Piece::Lit("[".into()));
                i = item(chars, i + 1, table, columns, false, out)? + 1;
                out.push(Piece::Lit("]".into()));
            } else {
                i = item(chars, i, table, columns, true, out)?;
            }
        }
        _ => i = item(chars, i, table, columns, true, out)?,
    }
    if *chars.get(i)? != ']' {
        return None;
    }
    out.push(Piece::Lit("]".into()));
    Some(i + 1)
}

/// Reads an item's content up to its unescaped `]` (not consumed): a special item (`#Data`…)
/// stays literal, a column name becomes a [`Piece::Col`].
fn item(
    chars: &[char],
    mut i: usize,
    table: usize,
    columns: &[String],
    simple: bool,
    out: &mut Vec<Piece>,
) -> Option<usize> {
    let start = i;
    let mut name = String::new();
    loop {
        match *chars.get(i)? {
            '\'' => {
                name.push(*chars.get(i + 1)?);
                i += 2;
            }
            ']' => break,
            '[' => return None,
            c => {
                name.push(c);
                i += 1;
            }
        }
    }
    if name.starts_with('#') {
        out.push(Piece::Lit(chars[start..i].iter().collect()));
        return Some(i);
    }
    let column = columns.iter().find(|c| c.to_lowercase() == name.to_lowercase())?;
    out.push(Piece::Col { table, name: column.clone(), simple });
    Some(i)
}

/// A column name as written inside a reference's brackets.
pub(crate) fn escape_column(name: &str, simple: bool) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    if simple {
        out.push('[');
    }
    for c in name.chars() {
        if matches!(c, '[' | ']' | '#' | '\'') {
            out.push('\'');
        }
        out.push(c);
    }
    if simple {
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Vec<(String, Vec<String>)> {
        vec![("ventes".into(), vec!["Montant".into(), "Prix [HT]".into(), "Région".into()])]
    }

    fn render(pieces: &[Piece], rename: impl Fn(&str) -> String) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.clone(),
                Piece::Col { name, simple, .. } => escape_column(&rename(name), *simple),
            })
            .collect()
    }

    #[test]
    fn references_are_found_and_rewritten() {
        let cases = [
            ("SUM(Ventes[Montant])", "SUM(Ventes[[Amount]])"),
            ("Ventes[[#This Row],[Montant]]*2", "Ventes[[#This Row],[Amount]]*2"),
            ("SUM(ventes[[Montant]:[Région]])", "SUM(ventes[[Amount]:[Region]])"),
            (
                "Ventes[@Montant]+Ventes[@[Prix '[HT']]]",
                "Ventes[@[Amount]]+Ventes[@[Price '[net']]]",
            ),
            ("\"Ventes[Montant]\"&'Ventes[x]'!A1", "\"Ventes[Montant]\"&'Ventes[x]'!A1"),
            (
                "COUNTA(Ventes[#Data])+Autres[Col]+[1]Feuil1!A1",
                "COUNTA(Ventes[#Data])+Autres[Col]+[1]Feuil1!A1",
            ),
        ];
        let rename = |n: &str| match n {
            "Montant" => "Amount".to_string(),
            "Région" => "Region".to_string(),
            _ => "Price [net]".to_string(),
        };
        for (formula, expected) in cases {
            let pieces = split(formula, &tables(), false).unwrap();
            assert_eq!(render(&pieces, rename), expected, "{formula}");
        }
    }

    #[test]
    fn unreadable_references_are_refused() {
        assert!(split("Ventes[Inconnue]", &tables(), false).is_none());
        assert!(split("Ventes[[Montant]", &tables(), false).is_none());
        assert!(split("[@Montant]*2", &tables(), true).is_none());
        assert!(split("[1]Feuil1!A1", &tables(), false).is_some());
    }
}
