//! Java `.properties` resource bundles: each value translated, keys, comments and layout kept.
//!
//! The syntax is `java.util.Properties`': `key=value`, `key: value` or `key value`; `#` and `!`
//! comments; a line ending in an odd number of backslashes continues on the next one (whose
//! leading whitespace is dropped); escapes `\t \n \r \f \uXXXX` and `\` before any other
//! character. The encoding follows what Java reads: UTF-8 when the bytes are valid UTF-8
//! (`ResourceBundle` since Java 9), ISO-8859-1 otherwise (`Properties.load(InputStream)`).
//! A translated value is written on one line; characters the file cannot hold as they are (any
//! non-ASCII character in an ASCII file, which is how `native2ascii` output is read by every
//! Java version; characters outside Latin-1 in a Latin-1 file) are written as `\uXXXX` escapes.
//! `MessageFormat` arguments (`{0}`, `{1,number}`) and `%s`-style placeholders are inline codes.

use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded};
use crate::splice::{self, Collected, Edit};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

/// Recognises `.properties` by name (its syntax accepts almost any text).
pub(crate) fn sniff(name: &str, _bytes: &[u8]) -> Option<Format> {
    name.to_ascii_lowercase().ends_with(".properties").then_some(Format::JavaProperties)
}

/// Extracts a properties file.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let latin1 = std::str::from_utf8(bytes).is_err() && encoding::sniff_wide(bytes).is_none();
    let decoded = encoding::decode(name, bytes, latin1.then_some("iso-8859-1"))?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let mut collected = Collected::default();
    let mut ranges = Vec::new();
    for entry in entries(&decoded.text) {
        let (content, slot) = splice::placeholder_slot(&entry.value, entry.value_range.clone());
        let location = format!("{name}:{} {}", entry.line, entry.key);
        if collected.push(content, slot, location, &entry.key) {
            ranges.push(entry.value_range);
        }
    }
    let segments = collected.segments.clone();
    let ascii = decoded.text.is_ascii();
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(PropertiesSkeleton { decoded, collected, ascii }),
    ))
}

/// One `key = value` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    value: String,
    /// The raw value, continuation lines included.
    value_range: Range<usize>,
    line: usize,
}

/// The logical lines of `text` (continuations joined) that hold entries.
fn entries(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let start = pos;
        let first_line = line_no + 1;
        // Gather a logical line.
        let mut end;
        loop {
            let line = lines[i];
            let body = line.trim_end_matches(['\n', '\r']);
            end = pos + body.len();
            pos += line.len();
            line_no += 1;
            i += 1;
            let trailing = body.bytes().rev().take_while(|b| *b == b'\\').count();
            let comment = pos - line.len() == start && is_comment(body);
            if comment || trailing % 2 == 0 || i >= lines.len() {
                break;
            }
        }
        let logical = &text[start..end];
        if is_comment(logical) || logical.trim().is_empty() {
            continue;
        }
        if let Some(entry) = parse_entry(text, start, end, first_line) {
            out.push(entry);
        }
    }
    out
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches([' ', '\t', '\u{c}']).starts_with(['#', '!'])
}

/// Splits a logical line (`text[start..end]`) into key and value.
fn parse_entry(text: &str, start: usize, end: usize, line: usize) -> Option<Entry> {
    let raw = &text[start..end];
    let bytes = raw.as_bytes();
    let mut i = raw.len() - raw.trim_start_matches([' ', '\t', '\u{c}']).len();
    let key_start = i;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = unescape(&raw[key_start..i]);
    // Separator: whitespace, then at most one `=` or `:`, then whitespace.
    let mut j = i;
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
        j += 1;
    }
    if j < bytes.len() && matches!(bytes[j], b'=' | b':') {
        j += 1;
    }
    while j < bytes.len() && matches!(bytes[j], b' ' | b'\t' | b'\x0c') {
        j += 1;
    }
    let value_raw = &raw[j..];
    Some(Entry {
        key,
        value: unescape(&join_continuations(value_raw)),
        value_range: start + j..end,
        line,
    })
}

/// The value with each backslash-newline and the next line's leading whitespace removed.
fn join_continuations(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut lines = raw.split('\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if lines.peek().is_some() {
            // An odd number of trailing backslashes: the last one is the continuation.
            out.push_str(&line[..line.len() - 1]);
            if let Some(next) = lines.peek_mut() {
                *next = next.trim_start_matches([' ', '\t', '\u{c}']);
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16) {
                    Ok(unit) if hex.len() == 4 => {
                        for _ in 0..4 {
                            chars.next();
                        }
                        // A surrogate pair is two escapes.
                        if (0xD800..0xDC00).contains(&unit) {
                            let rest: String = chars.clone().take(6).collect();
                            if let Some(low) = rest
                                .strip_prefix("\\u")
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .filter(|l| (0xDC00..0xE000).contains(l))
                            {
                                for _ in 0..6 {
                                    chars.next();
                                }
                                let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                                out.extend(char::from_u32(code));
                                continue;
                            }
                        }
                        out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
                    }
                    _ => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

struct PropertiesSkeleton {
    decoded: Decoded,
    collected: Collected,
    ascii: bool,
}

impl Skeleton for PropertiesSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let ascii = self.ascii;
        let decoded = &self.decoded;
        let utf8 = decoded.encoding == encoding_rs::UTF_8;
        // Java reads a non-UTF-8 file as ISO-8859-1: only U+0000..U+00FF are written as such.
        let keep = move |c: char| {
            if ascii {
                c.is_ascii()
            } else {
                utf8 || (u32::from(c) < 0x100 && decoded.can_encode(c))
            }
        };
        let escape = move |t: &str, out: &mut String| escape_value(t, out, &keep);
        splice::merge_changed(
            &self.decoded,
            &self.collected.segments,
            translations,
            |(i, translation)| {
                let slot = &self.collected.slots[i];
                // Codes are literal placeholders (`{0}`), written as they are.
                let text = splice::render_codes(slot, translation, &escape);
                Edit { range: slot.range.clone(), text }
            },
        )
    }
}

/// A value as written after the separator: backslashes, line breaks and a leading space
/// escaped; characters `keep` refuses as `\uXXXX` (UTF-16 units).
fn escape_value(value: &str, out: &mut String, keep: &dyn Fn(char) -> bool) {
    let at_start = out.is_empty();
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if i == 0 && at_start => out.push_str("\\ "),
            c if !keep(c) || c.is_control() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
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

    fn doc(name: &str, bytes: &[u8]) -> Document {
        extract(Format::JavaProperties, name, bytes, &ExtractOptions::default()).unwrap()
    }

    #[test]
    fn keys_separators_continuations_and_escapes_are_read() {
        let src = "# Messages\n! other comment\ngreeting = Hello {0}, welcome\nbye:Good\\\n    bye now\nkey\\ with\\ spaces value here\nsaved=Caf\\u00e9 saved \\\\ done\nempty=\nnumber = 42\n";
        let d = doc("m.properties", src.as_bytes());
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            texts,
            ["Hello <x1/>, welcome", "Goodbye now", "value here", "Café saved \\ done"]
        );
        assert_eq!(d.segments[2].field, "key with spaces");
        assert_eq!(d.segments[1].location, "m.properties:4 bye");
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &fr()).unwrap()).unwrap();
        assert!(out.is_ascii(), "an ASCII file stays ASCII: {out}");
        assert!(out.contains("greeting = \\u27E6H\\u00E9ll\\u00F3\\u27E7 {0}"), "{out}");
        assert!(
            out.contains("bye:\\u27E6G\\u00F3\\u00F3db\\u00FD\\u00E9 \\u00F1\\u00F3w\\u27E7\nkey"),
            "{out}"
        );
        assert!(out.ends_with("empty=\nnumber = 42\n"));
        let back = doc("m.properties", out.as_bytes());
        let texts: Vec<String> = back.segments.iter().map(|s| s.content.plain_text()).collect();
        let expected: Vec<String> = pseudo.iter().map(Content::plain_text).collect();
        assert_eq!(texts, expected, "the output reads back as the translation");
    }

    #[test]
    fn latin1_and_utf8_files_keep_their_encoding() {
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode("title=Résumé du jour\n");
        let d = doc("l.properties", &latin1);
        assert_eq!(d.segments[0].content.plain_text(), "Résumé du jour");
        let out = d.merge(&[Content::text("Été — مرحبا")], &fr()).unwrap();
        assert_eq!(out, b"title=\xC9t\xE9 \\u2014 \\u0645\\u0631\\u062D\\u0628\\u0627\n");
        let d = doc("u.properties", "title=Résumé\n".as_bytes());
        let out = d.merge(&[Content::text("مرحبا")], &fr()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "title=مرحبا\n");
    }
}
