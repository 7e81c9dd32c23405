//! Glossary entries as CSV or TSV.
//!
//! Columns: `source`, `target`, then optionally `do_not_translate`, `case_sensitive`, `note`.
//! A first row made only of these names is a header and sets the column order (so a
//! spreadsheet's columns may come in any order, and `source_term`/`target_term` are accepted
//! too); without one, the columns are positional, which reads DeepL's two-column glossary files.
//! Booleans are `true`/`false`, `yes`/`no`, `1`/`0` or empty (false). Blank lines are skipped.
//!
//! CSV is quoted as RFC 4180 says; TSV is not quoted at all (as DeepL's and most tools' TSV):
//! terms never hold tabs or line breaks, so there is nothing to quote. Export always writes the
//! header and the five columns, so an export imports back to the same entries.

use tradia_core::Term;

use super::{ExchangeError, MAX_EXCHANGE_ENTRIES};

/// Comma- or tab-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// `,` with RFC 4180 quoting.
    Comma,
    /// Tab, no quoting.
    Tab,
}

impl Separator {
    fn byte(self) -> u8 {
        match self {
            Separator::Comma => b',',
            Separator::Tab => b'\t',
        }
    }

    fn name(self) -> &'static str {
        match self {
            Separator::Comma => "CSV",
            Separator::Tab => "TSV",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Source,
    Target,
    DoNotTranslate,
    CaseSensitive,
    Note,
}

const POSITIONAL: [Column; 5] =
    [Column::Source, Column::Target, Column::DoNotTranslate, Column::CaseSensitive, Column::Note];

fn column(name: &str) -> Option<Column> {
    match name.trim().to_ascii_lowercase().replace([' ', '-'], "_").as_str() {
        "source" | "source_term" => Some(Column::Source),
        "target" | "target_term" => Some(Column::Target),
        "do_not_translate" | "dnt" => Some(Column::DoNotTranslate),
        "case_sensitive" => Some(Column::CaseSensitive),
        "note" | "notes" | "comment" => Some(Column::Note),
        _ => None,
    }
}

fn boolean(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" => Some(false),
        "true" | "yes" | "1" => Some(true),
        _ => None,
    }
}

/// Reads entries. A row with fewer than two cells, or a boolean cell that is not one, is an
/// error naming its line; checking the terms themselves (empty, too long, twice) is the store's.
pub fn read_terms(bytes: &[u8], separator: Separator) -> Result<Vec<Term>, ExchangeError> {
    let malformed =
        |message: String| ExchangeError::Malformed { format: separator.name(), message };
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator.byte())
        .has_headers(false)
        .flexible(true)
        .quoting(separator == Separator::Comma)
        .from_reader(bytes);
    let mut columns: Vec<Column> = POSITIONAL.to_vec();
    let mut terms = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| malformed(e.to_string()))?;
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if i == 0 {
            let header: Option<Vec<Column>> = record.iter().map(column).collect();
            if let Some(header) = header {
                if !header.contains(&Column::Source) || !header.contains(&Column::Target) {
                    return Err(malformed("the header names no source or no target column".into()));
                }
                columns = header;
                continue;
            }
        }
        if record.len() < 2 {
            return Err(malformed(format!("line {line}: a source and a target term are needed")));
        }
        if terms.len() == MAX_EXCHANGE_ENTRIES {
            return Err(ExchangeError::TooManyEntries);
        }
        let mut term = Term {
            source: String::new(),
            target: String::new(),
            do_not_translate: false,
            case_sensitive: false,
            note: None,
        };
        for (cell, column) in record.iter().zip(&columns) {
            let flag = |name: &str| {
                boolean(cell).ok_or_else(|| {
                    malformed(format!("line {line}: `{cell}` is not a yes/no value for {name}"))
                })
            };
            match column {
                Column::Source => term.source = cell.trim().to_string(),
                Column::Target => term.target = cell.trim().to_string(),
                Column::DoNotTranslate => term.do_not_translate = flag("do_not_translate")?,
                Column::CaseSensitive => term.case_sensitive = flag("case_sensitive")?,
                Column::Note => {
                    term.note = Some(cell.trim().to_string()).filter(|n| !n.is_empty());
                }
            }
        }
        terms.push(term);
    }
    Ok(terms)
}

/// Writes entries with a header and the five columns.
pub fn write_terms(terms: &[Term], separator: Separator) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(separator.byte())
            .quote_style(match separator {
                Separator::Comma => csv::QuoteStyle::Necessary,
                Separator::Tab => csv::QuoteStyle::Never,
            })
            .from_writer(&mut out);
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        // Writing into a Vec cannot fail; a failure would only lose rows, never panic.
        let _ =
            writer.write_record(["source", "target", "do_not_translate", "case_sensitive", "note"]);
        for term in terms {
            let _ = writer.write_record([
                term.source.as_str(),
                term.target.as_str(),
                yes_no(term.do_not_translate),
                yes_no(term.case_sensitive),
                term.note.as_deref().unwrap_or(""),
            ]);
        }
        let _ = writer.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_two_columns_and_headers_in_any_order() {
        let terms =
            read_terms("cours,course\n\nleçon,lesson\n".as_bytes(), Separator::Comma).unwrap();
        assert_eq!(terms.len(), 2);
        assert_eq!((terms[1].source.as_str(), terms[1].target.as_str()), ("leçon", "lesson"));
        let terms = read_terms(
            b"Note\tTarget term\tSource term\tcase sensitive\nschool\tcourse\tcours\tyes\n",
            Separator::Tab,
        )
        .unwrap();
        assert_eq!(terms[0].source, "cours");
        assert_eq!(terms[0].note.as_deref(), Some("school"));
        assert!(terms[0].case_sensitive);
    }

    #[test]
    fn errors_name_the_line() {
        let err = read_terms(b"a,b\nc\n", Separator::Comma).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = read_terms(b"a,b,maybe\n", Separator::Comma).unwrap_err();
        assert!(err.to_string().contains("maybe"), "{err}");
    }
}
