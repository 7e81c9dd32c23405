//! CSV and TSV tables: cells translated one by one, the table's shape, quoting and delimiter
//! kept.
//!
//! Fields follow RFC 4180 (quoted fields with `""` for a quote, line breaks inside quotes) with
//! the file's own delimiter: a tab for `.tsv`/`.tab`, otherwise whichever of `,` `;` tab `|`
//! the first line splits into most fields. The first row is a header, kept unless
//! [`CsvOptions::translate_header`] is set; [`CsvOptions::columns`] limits translation to chosen
//! columns (by header name or 1-based number). Cells that read as data rather than text (numbers,
//! identifiers such as `SKU-42` or `item_7`, URLs, e-mail addresses) are kept. A translated cell
//! keeps its quoting; an unquoted one is quoted when its translation needs it.

use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded};
use crate::splice::{self, Collected, Edit, SlotBuilder};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};

/// Options of the CSV filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Translate the first row too (by default it is a header and kept).
    pub translate_header: bool,
    /// Translate only these columns: header names or 1-based numbers (`None`: every column).
    pub columns: Option<Vec<String>>,
}

/// Recognises CSV and TSV by name (any text is a one-column table).
pub(crate) fn sniff(name: &str, _bytes: &[u8]) -> Option<Format> {
    let lname = name.to_ascii_lowercase();
    [".csv", ".tsv", ".tab"].iter().any(|e| lname.ends_with(e)).then_some(Format::Csv)
}

/// One field: its raw range (quotes included) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    range: Range<usize>,
    value: String,
    quoted: bool,
}

/// Extracts a table.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let lname = name.to_ascii_lowercase();
    let delimiter = if lname.ends_with(".tsv") || lname.ends_with(".tab") {
        '\t'
    } else {
        guess_delimiter(&decoded.text)
    };
    let rows = parse(name, &decoded.text, delimiter)?;
    let csv = &options.csv;
    let header: Vec<String> = rows
        .first()
        .map(|r| r.iter().map(|f| f.value.trim().to_string()).collect())
        .unwrap_or_default();
    let chosen = |column: usize| match &csv.columns {
        None => true,
        Some(list) => list.iter().any(|c| {
            c == header.get(column).map(String::as_str).unwrap_or("")
                || c.parse::<usize>().is_ok_and(|n| n == column + 1)
        }),
    };
    let mut collected = Collected::default();
    let mut fields = Vec::new();
    let mut not_chosen = std::collections::BTreeSet::new();
    for (row, cells) in rows.iter().enumerate() {
        if row == 0 && !csv.translate_header {
            if !cells.is_empty() {
                report.kept.push(KeptField {
                    location: format!("{name}: row 1"),
                    field: "header".into(),
                    reason: "header row".into(),
                });
            }
            continue;
        }
        for (column, field) in cells.iter().enumerate() {
            let column_name =
                header.get(column).cloned().unwrap_or_else(|| format!("{}", column + 1));
            if !chosen(column) {
                not_chosen.insert((column, column_name));
                continue;
            }
            if is_data(&field.value) {
                continue;
            }
            let mut b = SlotBuilder::new();
            b.text(&field.value);
            let (content, slot) = b.finish(field.range.clone());
            let location = format!("{name}: row {} column {}", row + 1, column + 1);
            if collected.push(content, slot, location, &column_name) {
                fields.push(field.clone());
            }
        }
    }
    for (column, column_name) in not_chosen {
        report.kept.push(KeptField {
            location: format!("{name}: column {}", column + 1),
            field: column_name,
            reason: "column not chosen".into(),
        });
    }
    let segments = collected.segments.clone();
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(CsvSkeleton { decoded, collected, fields, delimiter }),
    ))
}

/// Numbers, identifiers, URLs and addresses: cells a table holds as data.
fn is_data(value: &str) -> bool {
    let v = value.trim();
    let one_word = !v.contains(char::is_whitespace);
    one_word
        && (v.contains("://")
            || v.contains('@')
            || v.chars().any(|c| c.is_ascii_digit())
            || v.contains('_'))
}

/// The delimiter that splits the first line into most fields (`,` when none splits it),
/// read with the parser itself so that quoting is judged the same way.
fn guess_delimiter(text: &str) -> char {
    let head = &text[..text.floor_char_boundary(64 * 1024)];
    let mut best = (',', 1);
    for candidate in [',', ';', '\t', '|'] {
        let fields = parse_first(head, candidate);
        if fields > best.1 {
            best = (candidate, fields);
        }
    }
    best.0
}

/// The number of fields of the first line of `text` read with `delimiter` (0 when it does not
/// parse alone). Only the first line counts: the header is not translated, so the output's first
/// line is the input's and the guess cannot change between reading a file and its translation.
fn parse_first(text: &str, delimiter: char) -> usize {
    let end = text.find('\n').map_or(text.len(), |e| e + 1);
    parse("", &text[..end], delimiter).ok().and_then(|rows| rows.first().map(Vec::len)).unwrap_or(0)
}

/// Reads every record.
fn parse(part: &str, text: &str, delimiter: char) -> Result<Vec<Vec<Field>>, FormatError> {
    let bytes = text.as_bytes();
    let d = delimiter as u8;
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let field = if bytes[i] == b'"' {
            let mut value = String::new();
            let mut j = i + 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &bytes[j..]) else {
                    return Err(FormatError::Malformed {
                        part: part.to_string(),
                        offset: start as u64,
                        message: "a quoted field is not closed".into(),
                    });
                };
                value.push_str(&text[j..j + k]);
                j += k + 1;
                if bytes.get(j) == Some(&b'"') {
                    value.push('"');
                    j += 1;
                } else {
                    break;
                }
            }
            // Anything between the closing quote and the delimiter belongs to the field.
            let end = bytes[j..]
                .iter()
                .position(|&b| b == d || b == b'\n' || b == b'\r')
                .map_or(bytes.len(), |p| j + p);
            value.push_str(&text[j..end]);
            i = end;
            Field { range: start..end, value, quoted: end == j }
        } else {
            let end = bytes[i..]
                .iter()
                .position(|&b| b == d || b == b'\n' || b == b'\r')
                .map_or(bytes.len(), |p| i + p);
            i = end;
            Field { range: start..end, value: text[start..end].to_string(), quoted: false }
        };
        row.push(field);
        match bytes.get(i) {
            Some(&b) if b == d => {
                i += 1;
                if i == bytes.len() {
                    row.push(Field { range: i..i, value: String::new(), quoted: false });
                }
            }
            Some(b'\r') | Some(b'\n') => {
                i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                rows.push(std::mem::take(&mut row));
            }
            _ => {}
        }
    }
    if !row.is_empty() {
        rows.push(row);
    }
    Ok(rows)
}

struct CsvSkeleton {
    decoded: Decoded,
    collected: Collected,
    fields: Vec<Field>,
    delimiter: char,
}

impl Skeleton for CsvSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        splice::merge_changed(
            &self.decoded,
            &self.collected.segments,
            translations,
            |(i, translation)| {
                let field = &self.fields[i];
                let value = translation.plain_text();
                // Any delimiter candidate is quoted too, so that reading the output guesses the
                // same.
                let needs_quotes = field.quoted
                    || value.contains([self.delimiter, ',', ';', '\t', '|', '"', '\n', '\r'])
                    || value.starts_with(' ')
                    || value.ends_with(' ');
                let text = if needs_quotes {
                    format!("\"{}\"", value.replace('"', "\"\""))
                } else {
                    value
                };
                Edit { range: field.range.clone(), text }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;
    use tradia_core::pseudo::pseudo_content;

    fn fr() -> MergeOptions {
        MergeOptions { target: LanguageTag::parse("fr").unwrap() }
    }

    fn cells(text: &str, delimiter: char) -> Vec<Vec<String>> {
        parse("t", text, delimiter)
            .unwrap()
            .into_iter()
            .map(|r| r.into_iter().map(|f| f.value).collect())
            .collect()
    }

    #[test]
    fn quoted_fields_line_breaks_and_empty_cells_are_read() {
        assert_eq!(
            cells("a,\"b, \"\"c\"\"\",\r\n\"multi\nline\",x\n", ','),
            [vec!["a", "b, \"c\"", ""], vec!["multi\nline", "x"]]
        );
        assert_eq!(guess_delimiter("name;label;note\n1;2;3\n"), ';');
        assert_eq!(guess_delimiter("\"a,b\"\tc\td\n"), '\t');
        assert!(parse("t", "a,\"open\n", ',').is_err());
    }

    #[test]
    fn cells_are_translated_with_quoting_and_delimiter_kept() {
        let src = "id;label;description;url\r\nSKU-1;Red apple;\"Fresh, crisp; sweet\";https://x.example/a\r\nSKU-2;Green pear;Ripe;https://x.example/b\r\n";
        let options = ExtractOptions::default();
        let d = extract(Format::Csv, "fruit.csv", src.as_bytes(), &options).unwrap();
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, ["Red apple", "Fresh, crisp; sweet", "Green pear", "Ripe"]);
        assert_eq!(d.segments[1].field, "description");
        assert_eq!(d.report.kept[0].reason, "header row");
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let t = vec![
            Content::text("Pomme; rouge"),
            Content::text("Fraîche, \"croquante\""),
            Content::text("Poire verte"),
            Content::text("Mûre"),
        ];
        let out = String::from_utf8(d.merge(&t, &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "id;label;description;url\r\nSKU-1;\"Pomme; rouge\";\"Fraîche, \"\"croquante\"\"\";https://x.example/a\r\nSKU-2;Poire verte;Mûre;https://x.example/b\r\n"
        );
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &fr()).unwrap()).unwrap();
        let shape = |t: &str| cells(t, ';').iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(shape(&out), shape(src));
    }

    #[test]
    fn the_header_and_chosen_columns_follow_the_options() {
        let src = "label\tnote\nHello world\tInternal note\n";
        let options = ExtractOptions {
            csv: CsvOptions { translate_header: true, columns: Some(vec!["label".into()]) },
            ..ExtractOptions::default()
        };
        let d = extract(Format::Csv, "t.tsv", src.as_bytes(), &options).unwrap();
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, ["label", "Hello world"]);
        assert!(d.report.kept.iter().any(|k| k.reason == "column not chosen" && k.field == "note"));
        let options = ExtractOptions {
            csv: CsvOptions { translate_header: false, columns: Some(vec!["2".into()]) },
            ..ExtractOptions::default()
        };
        let d = extract(Format::Csv, "t.tsv", src.as_bytes(), &options).unwrap();
        assert_eq!(d.segments[0].content.render(), "Internal note");
    }
}
