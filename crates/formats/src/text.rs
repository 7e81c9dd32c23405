//! Plain text: paragraphs separated by blank lines, each one segment.
//!
//! Line breaks inside a paragraph stay in the segment as `\n` (a translator can keep or move
//! them); they are written back with the file's own line ending. Anything that decodes as text is
//! accepted, so this is the fallback of format detection.

use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::splice::{self, Collected, SlotBuilder};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

/// Accepts anything that looks like text (no NUL bytes, unless UTF-16 with a BOM).
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let head = &bytes[..bytes.len().min(8192)];
    (utf16 || !head.contains(&0)).then_some(Format::PlainText)
}

/// Extracts a plain-text document.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let collected = paragraphs(name, &decoded.text);
    let segments = collected.segments.clone();
    let eol = splice::line_ending(&decoded.text);
    Ok(Document::new(format, segments, report, Box::new(TextSkeleton { decoded, collected, eol })))
}

/// Splits `text` into paragraphs (runs of non-blank lines).
fn paragraphs(part: &str, text: &str) -> Collected {
    let mut collected = Collected::default();
    let mut start: Option<(usize, usize)> = None;
    let mut end = 0;
    let mut pos = 0;
    let mut line_no = 0;
    let close = |start: &mut Option<(usize, usize)>, end: usize, collected: &mut Collected| {
        if let Some((s, line)) = start.take() {
            let mut b = SlotBuilder::new();
            b.text(&text[s..end].replace("\r\n", "\n"));
            let (content, slot) = b.finish(s..end);
            collected.push(content, slot, format!("{part}:{line}"), "paragraph");
        }
    };
    for line in text.split_inclusive('\n') {
        line_no += 1;
        let body = line.trim_end_matches(['\n', '\r']);
        if body.trim().is_empty() {
            close(&mut start, end, &mut collected);
        } else {
            if start.is_none() {
                start = Some((pos, line_no));
            }
            end = pos + body.len();
        }
        pos += line.len();
    }
    close(&mut start, end, &mut collected);
    collected
}

struct TextSkeleton {
    decoded: Decoded,
    collected: Collected,
    eol: &'static str,
}

impl Skeleton for TextSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        splice::check_count(&self.collected.segments, translations)?;
        let eol = self.eol;
        let escape = move |t: &str, out: &mut String| {
            out.push_str(&t.replace("\r\n", "\n").replace('\n', eol))
        };
        let edits = splice::segment_edits(
            &self.decoded.text,
            &self.collected.segments,
            &self.collected.slots,
            translations,
            &escape,
            &[],
        );
        let text = splice::apply(&self.decoded.text, edits);
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;

    #[test]
    fn paragraphs_round_trip_with_crlf() {
        let src = "First line\r\nsame paragraph\r\n\r\n  \r\nSecond.\r\n";
        let d = extract(Format::PlainText, "a.txt", src.as_bytes(), &ExtractOptions::default())
            .unwrap();
        assert_eq!(d.segments.len(), 2);
        assert_eq!(d.segments[0].content.plain_text(), "First line\nsame paragraph");
        let opts = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
        assert_eq!(d.merge_identity(&opts).unwrap(), src.as_bytes());
        let out = d
            .merge(&[Content::text("Première\nligne"), Content::text("Deuxième.")], &opts)
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Première\r\nligne\r\n\r\n  \r\nDeuxième.\r\n");
    }
}
