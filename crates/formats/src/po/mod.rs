//! gettext PO and POT catalogues: `msgid` (and `msgid_plural`) translated into `msgstr`.
//!
//! The parser is line-preserving: every line it does not rewrite (comments, references, flags,
//! `#|` previous msgids, `#~` obsolete entries, the original wrapping of untouched entries) is
//! copied as it is. A translated entry gets its `msgstr` lines rewritten and the `fuzzy` flag set,
//! because a machine translation needs a human look before gettext uses it. Plural entries get one
//! `msgstr[i]` per plural form of the target language (from the header's `Plural-Forms` when the
//! catalogue is already in the target language, otherwise from a table), the singular translation
//! going to the form gettext picks for n = 1. The header entry is kept, with `Language` (and
//! `Plural-Forms` when taken from the table) updated. Placeholders (`%s`, `%(name)s`, `{name}`)
//! and HTML tags become inline codes. Every construct GNU gettext reads is accepted: `domain`
//! lines (kept), a keyword whose string starts on the next line, strings continued over several
//! lines, `msgctxt`, and `#~` obsolete entries (kept as they are, never translated). An entry's
//! extracted comments (`#.`, written by the programmer for translators) and its `msgctxt` are
//! its segments' note for translators ([`Report::notes`]), which the engine gives the model.

mod plural;

use std::ops::Range;

use tradia_core::{Content, LanguageTag};

use crate::encoding::{self, Decoded, Unmappable};
use crate::splice::{self, Collected, Edit};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};
use plural::{parse_plural_forms, table_plural_forms};

/// Recognises PO by `msgid`/`msgstr` lines near the start.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    let has_msgid = head.lines().any(|l| l.starts_with("msgid ") || l.starts_with("msgid\t"));
    let has_msgstr = head.lines().any(|l| l.starts_with("msgstr"));
    let lname = name.to_ascii_lowercase();
    let po_name = lname.ends_with(".po") || lname.ends_with(".pot");
    (has_msgid && (has_msgstr || po_name)).then_some(Format::Po)
}

/// One keyword field of an entry (`msgid`, `msgstr[1]`…) with its lines.
#[derive(Debug, Clone)]
struct Field {
    keyword: String,
    /// Byte range of all its lines (keyword line and continuations, without the final newline).
    range: Range<usize>,
    /// Range of each line, for line-level edits.
    lines: Vec<Range<usize>>,
    value: String,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    /// First line of the entry.
    start: usize,
    /// Range of the first `#,` flags line, with its text.
    flags: Option<(Range<usize>, String)>,
    /// Where a new `#,` line goes (start of the first `#|`, `msgctxt` or `msgid` line).
    flags_insert: usize,
    fields: Vec<Field>,
    /// The text of its `#.` extracted comments, one per line.
    extracted: Vec<String>,
}

impl Entry {
    fn field(&self, keyword: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.keyword == keyword)
    }
}

/// What merging needs for one translatable entry.
#[derive(Debug, Clone)]
struct Unit {
    entry: Entry,
    /// Segment index of the msgid, and of the msgid_plural.
    singular: usize,
    plural: Option<usize>,
}

/// Extracts a PO catalogue.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let declared = declared_charset(bytes);
    let decoded = encoding::decode(name, bytes, declared.as_deref())?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let entries = parse(name, &decoded.text)?;
    let mut collected = Collected::default();
    let mut units = Vec::new();
    let mut header = None;
    for entry in entries {
        let Some(msgid) = entry.field("msgid") else { continue };
        if msgid.value.is_empty() && entry.field("msgctxt").is_none() {
            header = Some(entry);
            continue;
        }
        let ctx = entry.field("msgctxt").map(|f| f.value.clone());
        let field_name = match &ctx {
            Some(c) => format!("msgid (msgctxt {c})"),
            None => "msgid".to_string(),
        };
        let location = format!("{name}:{}", line_of(&decoded.text, entry.start));
        let singular_index = collected.segments.len();
        if !collected.push(
            message_content(&msgid.value),
            slot_at(msgid.range.clone()),
            location.clone(),
            &field_name,
        ) {
            continue;
        }
        let plural = entry.field("msgid_plural").and_then(|p| {
            let index = collected.segments.len();
            collected
                .push(
                    message_content(&p.value),
                    slot_at(p.range.clone()),
                    location.clone(),
                    "msgid_plural",
                )
                .then_some(index)
        });
        if let Some(note) = entry_note(&entry, ctx.as_deref()) {
            for index in std::iter::once(singular_index).chain(plural) {
                report.notes.insert(collected.segments[index].id, note.clone());
            }
        }
        units.push(Unit { entry, singular: singular_index, plural });
    }
    let segments = collected.segments.clone();
    let eol = splice::line_ending(&decoded.text);
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(PoSkeleton { decoded, collected, units, header, eol }),
    ))
}

/// An entry's note for translators: its extracted comments, then its context.
fn entry_note(entry: &Entry, ctx: Option<&str>) -> Option<String> {
    let mut lines: Vec<String> =
        entry.extracted.iter().filter(|c| !c.is_empty()).cloned().collect();
    if let Some(ctx) = ctx.filter(|c| !c.trim().is_empty()) {
        lines.push(format!("Context: {ctx}"));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn slot_at(range: Range<usize>) -> splice::Slot {
    splice::Slot { range, codes: Vec::new() }
}

/// A message as segment content; the codes' markup is kept in the content's own literal form,
/// rebuilt from the source when merging (see [`PoSkeleton::message`]).
fn message_content(value: &str) -> Content {
    splice::placeholder_slot(value, 0..0).0
}

/// The code markup of `value`'s placeholders, by code id.
fn message_slot(value: &str) -> splice::Slot {
    splice::placeholder_slot(value, 0..0).1
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The charset of the header's `Content-Type` (ignoring the POT placeholder `CHARSET`).
fn declared_charset(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let idx = head.find("charset=")?;
    let label: String = head[idx + 8..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!label.is_empty() && label != "CHARSET").then_some(label)
}

/// Parses entries; lines of entries without keywords (comments, obsolete `#~`) are left alone.
fn parse(part: &str, text: &str) -> Result<Vec<Entry>, FormatError> {
    let mut entries = Vec::new();
    let mut entry = Entry::default();
    let mut in_entry = false;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let range = pos..pos + body.len();
        pos += line.len();
        let trimmed = body.trim();
        if trimmed.is_empty() {
            if in_entry {
                entries.push(std::mem::take(&mut entry));
                in_entry = false;
            }
            continue;
        }
        if !in_entry {
            entry = Entry { start: range.start, ..Entry::default() };
            in_entry = true;
        }
        if trimmed.starts_with('#') {
            if let Some(comment) = trimmed.strip_prefix("#.") {
                entry.extracted.push(comment.trim().to_string());
            }
            if trimmed.starts_with("#,") && entry.flags.is_none() {
                entry.flags = Some((range.clone(), body.to_string()));
            }
            if trimmed.starts_with("#|") && entry.flags_insert == 0 && entry.fields.is_empty() {
                entry.flags_insert = range.start;
            }
            continue;
        }
        if trimmed.starts_with('"') {
            let Some(field) = entry.fields.last_mut() else {
                return Err(malformed(part, range.start, "string continuation without a keyword"));
            };
            field.value.push_str(&unquote(part, trimmed, range.start)?);
            field.range.end = range.end;
            field.lines.push(range);
            continue;
        }
        let (keyword, rest) =
            trimmed.split_once(|c: char| c.is_whitespace()).unwrap_or((trimmed, ""));
        if keyword == "domain" {
            // `domain "name"`: the entries after it belong to that domain; the line is kept.
            unquote(part, rest.trim(), range.start)?;
            if in_entry && !entry.fields.is_empty() {
                entries.push(std::mem::take(&mut entry));
            }
            in_entry = false;
            continue;
        }
        let known = keyword == "msgctxt"
            || keyword == "msgid"
            || keyword == "msgid_plural"
            || keyword == "msgstr"
            || (keyword.starts_with("msgstr[") && keyword.ends_with(']'));
        if !known {
            return Err(malformed(part, range.start, &format!("unknown keyword `{keyword}`")));
        }
        if (keyword == "msgctxt" || keyword == "msgid")
            && entry.fields.iter().any(|f| f.keyword.starts_with("msgstr"))
        {
            // A new entry without a blank line in between.
            let start = range.start;
            entries.push(std::mem::take(&mut entry));
            entry = Entry { start, ..Entry::default() };
        }
        if entry.flags_insert == 0 && entry.fields.is_empty() {
            entry.flags_insert = range.start;
        }
        entry.fields.push(Field {
            keyword: keyword.to_string(),
            range: range.clone(),
            lines: vec![range.clone()],
            // The string may start on the next line (`msgstr[0]` alone, then `"…"` lines).
            value: if rest.trim().is_empty() {
                String::new()
            } else {
                unquote(part, rest.trim(), range.start)?
            },
        });
    }
    if in_entry {
        entries.push(entry);
    }
    Ok(entries)
}

fn malformed(part: &str, offset: usize, message: &str) -> FormatError {
    FormatError::Malformed {
        part: part.to_string(),
        offset: offset as u64,
        message: message.to_string(),
    }
}

/// Decodes one `"…"` PO string.
fn unquote(part: &str, s: &str, offset: usize) -> Result<String, FormatError> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| malformed(part, offset, "expected a quoted string"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(c @ ('"' | '\\' | '\'' | '?')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => return Err(malformed(part, offset, "string ends with a backslash")),
        }
    }
    Ok(out)
}

/// Encodes `value` as PO string lines after `keyword` (multi-line when it holds newlines).
fn quote_field(keyword: &str, value: &str, eol: &str) -> String {
    let escape = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out
    };
    let pieces: Vec<&str> = value.split_inclusive('\n').collect();
    if pieces.len() <= 1 {
        return format!("{keyword} \"{}\"", escape(value));
    }
    let mut out = format!("{keyword} \"\"");
    for piece in pieces {
        out.push_str(eol);
        out.push('"');
        out.push_str(&escape(piece));
        out.push('"');
    }
    out
}

struct PoSkeleton {
    decoded: Decoded,
    collected: Collected,
    units: Vec<Unit>,
    header: Option<Entry>,
    eol: &'static str,
}

impl PoSkeleton {
    /// The decoded string of a translation: text as is, codes from the source's placeholders.
    fn message(&self, source: &str, translation: &Content) -> String {
        splice::render("", &message_slot(source), translation, &splice::escape_none, &[])
    }

    fn header_value(&self, name: &str) -> Option<String> {
        let msgstr = self.header.as_ref()?.field("msgstr")?;
        msgstr.value.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    }

    /// Plural forms of the target: (nplurals, index used for n = 1, Plural-Forms value when it
    /// must be written into the header).
    fn plural_forms(&self, target: &LanguageTag) -> (usize, usize, Option<String>) {
        let header_lang = self.header_value("Language:").unwrap_or_default();
        let same = LanguageTag::parse(&header_lang.replace('_', "-"))
            .is_ok_and(|l| l.same_language(target));
        if same
            && let Some(forms) = self.header_value("Plural-Forms:")
            && let Some((n, one)) = parse_plural_forms(&forms)
        {
            return (n, one, None);
        }
        let forms = table_plural_forms(target);
        let (n, one) = parse_plural_forms(forms).unwrap_or((2, 0));
        (n, one, Some(forms.to_string()))
    }

    /// Edits of the header entry: `Language` and maybe `Plural-Forms` lines.
    fn header_edits(&self, target: &LanguageTag, plural_forms: Option<&str>) -> Vec<Edit> {
        let Some(header) = &self.header else { return Vec::new() };
        let Some(msgstr) = header.field("msgstr") else { return Vec::new() };
        let src = &self.decoded.text;
        let mut edits = Vec::new();
        let lang = target.as_str().replace('-', "_");
        let mut wanted = vec![("Language:", lang)];
        if let Some(forms) = plural_forms {
            wanted.push(("Plural-Forms:", forms.to_string()));
        }
        for (name, value) in wanted {
            let line = msgstr.lines.iter().find(|r| {
                src[(*r).clone()]
                    .trim_start()
                    .trim_start_matches("msgstr")
                    .trim_start()
                    .starts_with(&format!("\"{name}"))
            });
            let new_line = format!("\"{name} {}\\n\"", value);
            match line {
                Some(r) => {
                    let prefix_len = src[r.clone()].find('"').unwrap_or(0);
                    let range = r.start + prefix_len..r.end;
                    if src[range.clone()] != new_line {
                        edits.push(Edit { range, text: new_line });
                    }
                }
                None => {
                    let end = msgstr.range.end;
                    edits.push(Edit { range: end..end, text: format!("{}{new_line}", self.eol) });
                }
            }
        }
        edits
    }
}

impl Skeleton for PoSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let segments = &self.collected.segments;
        splice::check_count(segments, translations)?;
        let (nplurals, one_index, table_forms) = self.plural_forms(&options.target);
        let mut edits = Vec::new();
        let mut used_plural = false;
        for unit in &self.units {
            let changed = segments[unit.singular].content != translations[unit.singular]
                || unit.plural.is_some_and(|p| segments[p].content != translations[p]);
            if !changed {
                continue;
            }
            let entry = &unit.entry;
            let Some(msgid) = entry.field("msgid") else { continue };
            let singular = self.message(&msgid.value, &translations[unit.singular]);
            let strs: Vec<&Field> =
                entry.fields.iter().filter(|f| f.keyword.starts_with("msgstr")).collect();
            let (Some(first), Some(last)) = (strs.first(), strs.last()) else { continue };
            let mut new = String::new();
            match (unit.plural, entry.field("msgid_plural")) {
                (Some(p), Some(plural_field)) => {
                    used_plural = true;
                    let plural = self.message(&plural_field.value, &translations[p]);
                    for i in 0..nplurals {
                        if i > 0 {
                            new.push_str(self.eol);
                        }
                        let value =
                            if i == one_index && nplurals > 1 { &singular } else { &plural };
                        new.push_str(&quote_field(&format!("msgstr[{i}]"), value, self.eol));
                    }
                }
                _ => new.push_str(&quote_field("msgstr", &singular, self.eol)),
            }
            let indent = &self.decoded.text[self.decoded.text[..first.range.start]
                .rfind('\n')
                .map_or(0, |p| p + 1)
                ..first.range.start];
            let new = if indent.trim().is_empty() {
                new
            } else {
                new.replace(self.eol, &format!("{}{}", self.eol, indent))
            };
            edits.push(Edit { range: first.range.start..last.range.end, text: new });
            match &entry.flags {
                Some((range, text)) if !text.split([',', ' ']).any(|f| f == "fuzzy") => {
                    edits.push(Edit { range: range.end..range.end, text: ", fuzzy".into() })
                }
                Some(_) => {}
                None => edits.push(Edit {
                    range: entry.flags_insert..entry.flags_insert,
                    text: format!("#, fuzzy{}", self.eol),
                }),
            }
        }
        if !edits.is_empty() {
            let forms = if used_plural { table_forms.as_deref() } else { None };
            edits.extend(self.header_edits(&options.target, forms));
        }
        let text = splice::apply(&self.decoded.text, edits);
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(lang: &str) -> LanguageTag {
        LanguageTag::parse(lang).unwrap()
    }

    fn opts(lang: &str) -> MergeOptions {
        MergeOptions { target: LanguageTag::parse(lang).unwrap() }
    }

    const SRC: &str = "# Translator comment\nmsgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\"Language: en\\n\"\n\"Plural-Forms: nplurals=2; plural=(n != 1);\\n\"\n\n#: src/a.py:1\n#, python-format\nmsgid \"One file for %(user)s\"\nmsgid_plural \"%(n)d files for %(user)s\"\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n\nmsgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"\"\n\n#~ msgid \"Old\"\n#~ msgstr \"Vieux\"\n";

    #[test]
    fn plural_entry_gets_every_form_of_the_target() {
        let d = extract(Format::Po, "a.po", SRC.as_bytes(), &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(rendered, vec!["One file for <x1/>", "<x1/> files for <x2/>", "Open"]);
        assert_eq!(d.merge_identity(&opts("fr")).unwrap(), SRC.as_bytes());
        let t = vec![
            Content::parse("ملف واحد لـ <x1/>").unwrap(),
            Content::parse("<x1/> ملفات لـ <x2/>").unwrap(),
            Content::text("فتح"),
        ];
        let out = String::from_utf8(d.merge(&t, &opts("ar")).unwrap()).unwrap();
        assert!(out.contains("\"Language: ar\\n\"\n"), "{out}");
        assert!(out.contains("\"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1"), "{out}");
        assert!(out.contains("#, python-format, fuzzy\nmsgid \"One file"), "{out}");
        assert!(out.contains(
            "msgstr[0] \"%(n)d ملفات لـ %(user)s\"\nmsgstr[1] \"ملف واحد لـ %(user)s\"\nmsgstr[2] \"%(n)d ملفات لـ %(user)s\"\nmsgstr[3]"
        ), "{out}");
        assert!(out.contains("msgstr[5] \"%(n)d ملفات لـ %(user)s\"\n\n#, fuzzy\nmsgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"فتح\"\n"), "{out}");
        assert!(out.ends_with("#~ msgid \"Old\"\n#~ msgstr \"Vieux\"\n"));
    }

    #[test]
    fn extracted_comments_and_context_are_notes() {
        let src = "#. Shown on the toolbar.\n#.   At most 10 characters.\n#: src/ui.c:4\nmsgctxt \"verb\"\nmsgid \"Open\"\nmsgstr \"\"\n\n# translator's own comment\nmsgid \"Close\"\nmsgstr \"\"\n\n#. Files left\nmsgid \"One file\"\nmsgid_plural \"%d files\"\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n";
        let d = extract(Format::Po, "a.po", src.as_bytes(), &ExtractOptions::default()).unwrap();
        let note = |i: u32| d.report.notes.get(&i).map(String::as_str);
        assert_eq!(note(0), Some("Shown on the toolbar.\nAt most 10 characters.\nContext: verb"));
        assert_eq!(note(1), None, "a translator comment (`# `) is no note for the model");
        assert_eq!(note(2), Some("Files left"));
        assert_eq!(note(3), Some("Files left"), "the plural has its singular's note");
        assert_eq!(d.merge_identity(&opts("fr")).unwrap(), src.as_bytes());
    }

    #[test]
    fn plural_expressions_evaluate() {
        assert_eq!(parse_plural_forms("nplurals=2; plural=(n > 1);"), Some((2, 0)));
        assert_eq!(parse_plural_forms(table_plural_forms(&tag("ar"))), Some((6, 1)));
        assert_eq!(parse_plural_forms(table_plural_forms(&tag("ru"))), Some((3, 0)));
        assert_eq!(parse_plural_forms("nplurals=INTEGER; plural=EXPRESSION;"), None);
        assert_eq!(plural::eval_plural("n%10==1 && n%100!=11 ? 0 : 2", 21), Some(0));
    }

    #[test]
    fn multiline_values_and_escapes() {
        assert_eq!(
            quote_field("msgstr", "a \"b\"\nc", "\n"),
            "msgstr \"\"\n\"a \\\"b\\\"\\n\"\n\"c\""
        );
        assert_eq!(unquote("x", "\"a\\tb\\\\\"", 0).unwrap(), "a\tb\\");
    }
}
