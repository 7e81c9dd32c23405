//! Apple `.strings` files (`"key" = "value";`): values translated, keys, comments and layout
//! kept.
//!
//! Such files are often UTF-16 with a byte-order mark, which the shared decoder reads and the
//! output keeps. Keys may be quoted or bare words; `/* … */` and `//` comments may sit anywhere,
//! and the comment just before an entry (what `genstrings` writes from `NSLocalizedString`'s
//! comment) is the segment's note. Strings use C escapes (`\"`, `\\`, `\n`, `\t`, `\r`) and
//! `\Uxxxx`; format specifiers (`%@`, `%1$@`, `%lld`, `%d`) are inline codes.

use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded};
use crate::splice::{self, Collected, Edit};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

/// Recognises `.strings` by name.
pub(crate) fn sniff(name: &str, _bytes: &[u8]) -> Option<Format> {
    name.to_ascii_lowercase().ends_with(".strings").then_some(Format::AppleStrings)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A quoted string: its range (quotes included) and value.
    Str(Range<usize>, String),
    /// A bare word.
    Word(String),
    /// A comment's text.
    Comment(String),
    Equals,
    Semicolon,
}

fn malformed(part: &str, offset: usize, message: &str) -> FormatError {
    FormatError::Malformed {
        part: part.to_string(),
        offset: offset as u64,
        message: message.to_string(),
    }
}

fn tokens(part: &str, text: &str) -> Result<Vec<(usize, Tok)>, FormatError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b if b.is_ascii_whitespace() => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .ok_or_else(|| malformed(part, start, "a comment is not closed"))?;
                out.push((start, Tok::Comment(text[i + 2..i + 2 + end].trim().to_string())));
                i += end + 4;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |e| i + e);
                out.push((start, Tok::Comment(text[i + 2..end].trim().to_string())));
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => return Err(malformed(part, start, "a string is not closed")),
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        Some(_) => j += 1,
                    }
                }
                let value = unescape(&text[i + 1..j]);
                out.push((start, Tok::Str(start..j + 1, value)));
                i = j + 1;
            }
            b'=' => {
                out.push((start, Tok::Equals));
                i += 1;
            }
            b';' => {
                out.push((start, Tok::Semicolon));
                i += 1;
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'$') => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| {
                        !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'$'))
                    })
                    .map_or(bytes.len(), |p| i + p);
                out.push((start, Tok::Word(text[i..end].to_string())));
                i = end;
            }
            _ => {
                let shown = text[i..].chars().next().unwrap_or(' ');
                return Err(malformed(part, start, &format!("unexpected `{shown}`")));
            }
        }
    }
    Ok(out)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('U' | 'u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => {
                        out.push(ch);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push('U'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn escape(s: &str, out: &mut String) {
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
}

/// Extracts a `.strings` file.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let toks = tokens(name, &decoded.text)?;
    let mut collected = Collected::default();
    let mut notes = Vec::new();
    let mut comment: Option<String> = None;
    let mut i = 0;
    while i < toks.len() {
        let (offset, tok) = &toks[i];
        match tok {
            Tok::Comment(text) => {
                comment = Some(text.clone());
                i += 1;
            }
            Tok::Str(_, key) | Tok::Word(key) => {
                let (
                    Some((_, Tok::Equals)),
                    Some((_, Tok::Str(range, value))),
                    Some((_, Tok::Semicolon)),
                ) = (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3))
                else {
                    return Err(malformed(name, *offset, "expected `\"key\" = \"value\";`"));
                };
                let (content, slot) =
                    splice::placeholder_slot(value, range.start + 1..range.end - 1);
                let location = format!("{name}: {key}");
                if collected.push(content, slot, location, key) {
                    notes.push(
                        comment
                            .take()
                            .filter(|c| !c.is_empty() && c != "No comment provided by engineer."),
                    );
                }
                comment = None;
                i += 4;
            }
            _ => return Err(malformed(name, *offset, "expected a key")),
        }
    }
    for (segment, note) in collected.segments.iter().zip(notes) {
        if let Some(note) = note {
            report.notes.insert(segment.id, note);
        }
    }
    let segments = collected.segments.clone();
    Ok(Document::new(format, segments, report, Box::new(StringsSkeleton { decoded, collected })))
}

struct StringsSkeleton {
    decoded: Decoded,
    collected: Collected,
}

impl Skeleton for StringsSkeleton {
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
                let slot = &self.collected.slots[i];
                let text = splice::render_codes(slot, translation, &escape);
                Edit { range: slot.range.clone(), text }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;
    use tradia_core::pseudo::pseudo_content;

    #[test]
    fn entries_comments_and_utf16_round_trip() {
        let text = "/* Title of the main window */\n\"window.title\" = \"Hello %@, you have %lld \\\"new\\\" items\";\n\n// Bare key\nokButton = \"OK then\";\n\"count\" = \"42\";\n";
        let mut bytes = vec![0xFF, 0xFE];
        text.encode_utf16().for_each(|u| bytes.extend_from_slice(&u.to_le_bytes()));
        let d = extract(
            Format::AppleStrings,
            "Localizable.strings",
            &bytes,
            &ExtractOptions::default(),
        )
        .unwrap();
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, ["Hello <x1/>, you have <x2/> \"new\" items", "OK then"]);
        assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("Title of the main window"));
        assert_eq!(d.report.notes.get(&1).map(String::as_str), Some("Bare key"));
        let fr = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
        assert_eq!(d.merge_identity(&fr).unwrap(), bytes);
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = d.merge(&pseudo, &fr).unwrap();
        assert_eq!(&out[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> =
            out[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        let out = String::from_utf16(&units).unwrap();
        assert!(out.contains("\"window.title\" = \"⟦Hélló⟧ %@"), "{out}");
        assert!(out.contains("%lld ⟦\\\"ñéw\\\" ítéms⟧\";"), "{out}");
        assert!(out.contains("okButton = \"⟦ÓK théñ⟧\";"), "{out}");
        assert!(
            extract(
                Format::AppleStrings,
                "b.strings",
                b"\"a\" = \"b\"",
                &ExtractOptions::default()
            )
            .is_err()
        );
    }
}
