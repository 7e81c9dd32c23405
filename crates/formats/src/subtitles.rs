//! SubRip (`.srt`) and WebVTT (`.vtt`) subtitles: one segment per cue.
//!
//! Cue numbers, identifiers, timing lines, cue settings, WebVTT headers and `NOTE`, `STYLE` and
//! `REGION` blocks are copied as they are; only cue text is replaced. A cue's lines form one
//! segment (line breaks are `\n` in the segment and the file's own line ending on output), so a
//! model translates the sentence, not fragments. Inline tags (`<i>`, `<b>`, `<u>`, `<font …>`,
//! `<c.x>`, `<v Name>`, `<lang …>`, `<ruby>`, timestamps) and SubRip `{\an8}` overrides become
//! inline codes. Legacy encodings such as Windows-1252 are detected and written back as they were.

use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::markup::{self, CharData};
use crate::splice::{self, Collected, InlinePart, Markup, SlotBuilder};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

/// Text at the start of `bytes` (UTF-16 with a BOM decoded), for sniffing.
fn head_text(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(4096)];
    match encoding_rs::Encoding::for_bom(head) {
        Some((enc, _)) => enc.decode(head).0.into_owned(),
        None => String::from_utf8_lossy(head).into_owned(),
    }
}

/// True when `line` is a cue timing line (`00:00:01,000 --> 00:00:02,500 …`).
fn is_timing(line: &str) -> bool {
    let Some((left, right)) = line.split_once("-->") else { return false };
    let ts = |s: &str| {
        let s = s.trim();
        !s.is_empty() && s.chars().next().is_some_and(|c| c.is_ascii_digit()) && s.contains(':')
    };
    ts(left) && right.split_whitespace().next().is_some_and(ts)
}

/// Recognises WebVTT by its signature and SubRip by a timing line among the first lines.
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    let text = head_text(bytes);
    let text = text.trim_start_matches('\u{feff}');
    if text.starts_with("WEBVTT") {
        return Some(Format::WebVtt);
    }
    let first_lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
    first_lines.iter().any(|l| is_timing(l) && l.contains(',')).then_some(Format::Srt)
}

/// Extracts a subtitle file.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let vtt = format == Format::WebVtt;
    let collected = cues(name, &decoded.text, vtt)?;
    let segments = collected.segments.clone();
    let eol = splice::line_ending(&decoded.text);
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(SubtitleSkeleton { decoded, collected, vtt, eol }),
    ))
}

fn cues(part: &str, text: &str, vtt: bool) -> Result<Collected, FormatError> {
    let mut collected = Collected::default();
    // Lines with their byte ranges (without line ending).
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        lines.push((pos, pos + body.len()));
        pos += line.len();
    }
    let line_text = |i: usize| &text[lines[i].0..lines[i].1];
    let mut i = 0;
    let mut cue_no = 0;
    let mut first_block = true;
    while i < lines.len() {
        if line_text(i).trim().is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && !line_text(i).trim().is_empty() {
            i += 1;
        }
        let block = start..i;
        let head = line_text(start).trim_start_matches('\u{feff}');
        if vtt
            && (first_block
                || head.starts_with("NOTE")
                || head.starts_with("STYLE")
                || head.starts_with("REGION"))
        {
            if first_block && !head.starts_with("WEBVTT") {
                return Err(FormatError::Malformed {
                    part: part.to_string(),
                    offset: 0,
                    message: "a WebVTT file must start with WEBVTT".into(),
                });
            }
            first_block = false;
            continue;
        }
        first_block = false;
        // Every timing line starts a cue; its text runs to the next timing line or the block end
        // (some generators omit the blank line between cues).
        let timings: Vec<usize> = block.clone().filter(|&l| is_timing(line_text(l))).collect();
        for (k, &timing) in timings.iter().enumerate() {
            cue_no += 1;
            let end = timings.get(k + 1).copied().unwrap_or(block.end);
            // A line just before the next timing line may be that cue's identifier (SRT index).
            let end = if end < block.end
                && end > timing + 1
                && !vtt
                && line_text(end - 1).trim().chars().all(|c| c.is_ascii_digit())
            {
                end - 1
            } else {
                end
            };
            if timing + 1 >= end {
                continue;
            }
            let range = lines[timing + 1].0..lines[end - 1].1;
            let mut parts = Vec::new();
            for (k, &(from, to)) in lines[timing + 1..end].iter().enumerate() {
                if k > 0 {
                    parts.push(InlinePart::Text("\n".into()));
                }
                cue_parts(text, from..to, vtt, &mut parts);
            }
            let mut b = SlotBuilder::new();
            splice::build_inline(&mut b, parts);
            let (content, slot) = b.finish(range);
            collected.push(content, slot, format!("{part}: cue {cue_no}"), "cue");
        }
    }
    Ok(collected)
}

/// Splits one line of cue text into text and tags.
fn cue_parts(text: &str, range: std::ops::Range<usize>, vtt: bool, parts: &mut Vec<InlinePart>) {
    let line = &text[range.clone()];
    let mut i = 0;
    let push_text = |parts: &mut Vec<InlinePart>, from: usize, to: usize| {
        if to <= from {
            return;
        }
        if vtt {
            for piece in markup::decode_refs(text, range.start + from..range.start + to, false) {
                match piece {
                    CharData::Text(t) => parts.push(InlinePart::Text(t)),
                    CharData::Unknown(r) => parts.push(InlinePart::Standalone(Markup::Source(r))),
                }
            }
        } else {
            parts.push(InlinePart::Text(line[from..to].to_string()));
        }
    };
    let mut text_from = 0;
    while i < line.len() {
        let rest = &line[i..];
        let (close_char, is_tag) = if rest.starts_with('<') {
            ('>', true)
        } else if rest.starts_with("{\\") {
            ('}', false)
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let Some(len) = rest.find(close_char) else {
            i += 1;
            continue;
        };
        let tag = &rest[..=len];
        push_text(parts, text_from, i);
        let markup = Markup::Source(range.start + i..range.start + i + len + 1);
        let inner = &tag[1..tag.len() - 1];
        let part = if !is_tag {
            InlinePart::Standalone(markup)
        } else if let Some(name) = inner.strip_prefix('/') {
            InlinePart::Close(tag_name(name), markup)
        } else if inner.starts_with(|c: char| c.is_ascii_alphabetic()) && !inner.ends_with('/') {
            InlinePart::Open(tag_name(inner), markup)
        } else {
            InlinePart::Standalone(markup)
        };
        parts.push(part);
        i += len + 1;
        text_from = i;
    }
    push_text(parts, text_from, line.len());
}

/// `c.yellow` → `c`, `v Name` → `v`, `font color=x` → `font`.
fn tag_name(inner: &str) -> String {
    inner
        .split(|c: char| c == '.' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

struct SubtitleSkeleton {
    decoded: Decoded,
    collected: Collected,
    vtt: bool,
    eol: &'static str,
}

impl Skeleton for SubtitleSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        splice::check_count(&self.collected.segments, translations)?;
        let eol = self.eol;
        let vtt = self.vtt;
        let escape = move |t: &str, out: &mut String| {
            let mut s = String::new();
            if vtt {
                splice::escape_markup_text(t, &mut s);
            } else {
                s.push_str(t);
            }
            // A blank line would end the cue: never write one inside cue text.
            let lines: Vec<&str> = s
                .split('\n')
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .collect();
            let joined = lines.join(eol);
            out.push_str(if joined.is_empty() { " " } else { &joined });
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
    use tradia_core::pseudo::pseudo_content;

    fn fr() -> MergeOptions {
        MergeOptions { target: LanguageTag::parse("fr").unwrap() }
    }

    #[test]
    fn windows_1252_srt_round_trip() {
        let text = "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Ça été</i> déjà\r\nréglé.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n{\\an8}Où êtes-vous ?\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        assert_eq!(sniff("a.srt", &bytes), Some(Format::Srt));
        let d = extract(Format::Srt, "a.srt", &bytes, &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(rendered, vec!["<g1>Ça été</g1> déjà\nréglé.", "<x1/>Où êtes-vous ?"]);
        assert_eq!(d.merge_identity(&fr()).unwrap(), bytes.to_vec());
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = d.merge(&pseudo, &fr()).unwrap();
        let (back, _, _) = encoding_rs::WINDOWS_1252.decode(&out);
        assert_eq!(
            back,
            "1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>⟦Çá été⟧</i> ⟦déjà\r\nréglé.⟧\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000 X1:10\r\n{\\an8}⟦Óù êtés-vóús ?⟧\r\n"
                .replace(['⟦', '⟧'], "?")
        );
    }

    #[test]
    fn webvtt_cues_keep_settings_and_voice() {
        let src = "WEBVTT\nKind: captions\n\nNOTE a comment\n\nid1\n00:01.000 --> 00:02.000 align:start\n<v Roger>Hi &amp; <c.loud>bye</c>\n";
        assert_eq!(sniff("x", src.as_bytes()), Some(Format::WebVtt));
        let d =
            extract(Format::WebVtt, "a.vtt", src.as_bytes(), &ExtractOptions::default()).unwrap();
        assert_eq!(d.segments.len(), 1);
        assert_eq!(d.segments[0].content.render(), "<x1/>Hi &amp; <g2>bye</g2>");
        let out = d
            .merge(&[Content::parse("<x1/>Salut &amp; <g2>au revoir</g2>").unwrap()], &fr())
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WEBVTT\nKind: captions\n\nNOTE a comment\n\nid1\n00:01.000 --> 00:02.000 align:start\n<v Roger>Salut &amp; <c.loud>au revoir</c>\n"
        );
    }
}
