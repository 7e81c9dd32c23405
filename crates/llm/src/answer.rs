//! Reading what a model answered, and deciding whether each segment's answer may be used.
//!
//! Local models wrap their JSON in prose, Markdown fences or `<think>` blocks, break it, or stop
//! halfway (research notes §3.4–3.6). [`extract_json`] finds the JSON object anyway; when the
//! whole object is broken, [`parse_translations`] still recovers every complete `{"id","text"}`
//! entry, so one bad entry costs one segment, not the batch. [`check_answer`] then applies the
//! per-segment checks (present once, inline codes valid, non-empty, not a copy of the source, no
//! thinking), and [`reinsert_codes`] is the repair of last resort before keeping the source: the
//! translated text with the source's codes put back at proportional word boundaries.

use std::collections::HashMap;

use serde_json::Value;
use tradia_core::{Content, MarkupError, Piece};

/// Removes `<think>…</think>` blocks (also empty ones, and an unclosed block up to the first
/// `{` when one follows).
pub fn strip_thinking(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let Some(start) = find_ci(rest, "<think>") else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..start]);
        let after = &rest[start + "<think>".len()..];
        match find_ci(after, "</think>") {
            Some(end) => rest = &after[end + "</think>".len()..],
            None => {
                // Unclosed: drop the thinking up to the answer if one is recognisable.
                if let Some(brace) = after.find('{') {
                    rest = &after[brace..];
                } else {
                    rest = "";
                }
            }
        }
    }
    // A stray closing tag (the opening one was in a previous chunk or never sent).
    if let Some(end) = find_ci(&out, "</think>") {
        out = out[end + "</think>".len()..].to_string();
    }
    out
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// Removes Markdown code fences (```` ```json ````, ```` ``` ````) around or inside the text.
fn strip_fences(s: &str) -> String {
    s.lines().filter(|l| !l.trim_start().starts_with("```")).collect::<Vec<_>>().join("\n")
}

/// Spans `(start, end_inclusive)` of every balanced `{…}` in `s`, strings respected, inner ones
/// before the outer ones that contain them.
fn object_spans(s: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut spans = Vec::new();
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' if !stack.is_empty() => in_string = true,
            b'{' => stack.push(i),
            b'}' => {
                if let Some(start) = stack.pop() {
                    spans.push((start, i));
                }
            }
            _ => {}
        }
    }
    spans
}

/// Finds the JSON object in a model's answer: the whole text if it parses, else the last
/// complete top-level object that parses (after removing thinking and fences).
pub fn extract_json(content: &str) -> Option<Value> {
    let cleaned = strip_fences(&strip_thinking(content));
    let trimmed = cleaned.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
        return Some(v);
    }
    // Outermost objects are those not contained in another span.
    let spans = object_spans(trimmed);
    let mut best: Option<(usize, Value)> = None;
    for (i, &(s, e)) in spans.iter().enumerate() {
        let contained = spans.iter().enumerate().any(|(j, &(s2, e2))| j != i && s2 < s && e <= e2);
        if contained {
            continue;
        }
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&trimmed[s..=e]) {
            // Prefer later objects: a model's final answer follows its drafts.
            if best.as_ref().is_none_or(|(bs, _)| s >= *bs) {
                best = Some((s, v));
            }
        }
    }
    best.map(|(_, v)| v)
}

/// Entries found in a batch answer, by id (an id answered twice has two texts).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedAnswer {
    /// Texts by id, in the order found.
    pub by_id: HashMap<String, Vec<String>>,
    /// True when the answer's JSON object was read whole (false: entries recovered one by one).
    pub whole: bool,
}

fn entry(v: &Value) -> Option<(String, String)> {
    let obj = v.as_object()?;
    let id = match obj.get("id")? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let text = ["text", "translation", "output"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))?
        .to_string();
    Some((id, text))
}

/// Reads the `{"translations":[{"id","text"}]}` answer of a batch request, tolerating prose,
/// fences, thinking and broken JSON (complete entries are recovered one by one).
pub fn parse_translations(content: &str) -> ParsedAnswer {
    let mut out = ParsedAnswer::default();
    if let Some(v) = extract_json(content) {
        let list = v.get("translations").or_else(|| v.get("segments")).and_then(Value::as_array);
        if let Some(list) = list {
            for item in list {
                if let Some((id, text)) = entry(item) {
                    out.by_id.entry(id).or_default().push(text);
                }
            }
            out.whole = true;
            return out;
        }
    }
    // Item-level recovery: every complete object with an id and a text.
    let cleaned = strip_fences(&strip_thinking(content));
    for (s, e) in object_spans(&cleaned) {
        if let Ok(v) = serde_json::from_str::<Value>(&cleaned[s..=e])
            && let Some((id, text)) = entry(&v)
        {
            out.by_id.entry(id).or_default().push(text);
        }
    }
    out
}

/// Why one segment's answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No entry for this id.
    Missing,
    /// Several different entries for this id.
    Duplicate,
    /// The inline codes do not match the source's.
    InvalidCodes(MarkupError),
    /// Nothing translated where the source has text.
    Empty,
    /// The source returned unchanged.
    CopyOfSource,
    /// Thinking or chatter inside the text.
    Thinking,
    /// The answer was cut (output limit) before this entry was complete.
    Truncated,
    /// Far longer than the source (a runaway or looping generation).
    TooLong,
    /// The request failed or did not fit the context.
    RequestFailed(String),
}

impl Rejection {
    /// Stable code (also the [`tradia_core::KeptReason`] code when the source is kept).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Missing => "missing_answer",
            Rejection::Duplicate => "duplicate_answer",
            Rejection::InvalidCodes(_) => "invalid_codes",
            Rejection::Empty => "empty_answer",
            Rejection::CopyOfSource => "copy_of_source",
            Rejection::Thinking => "chatter",
            Rejection::Truncated => "truncated",
            Rejection::TooLong => "too_long",
            Rejection::RequestFailed(_) => "request_failed",
        }
    }

    /// For people.
    pub fn message(&self) -> String {
        match self {
            Rejection::Missing => "the model did not answer this segment".into(),
            Rejection::Duplicate => {
                "the model answered this segment several times, differently".into()
            }
            Rejection::InvalidCodes(e) => format!("the answer's inline codes are wrong: {e}"),
            Rejection::Empty => "the answer was empty".into(),
            Rejection::CopyOfSource => "the model returned the source text untranslated".into(),
            Rejection::Thinking => "the answer contained the model's thinking or comments".into(),
            Rejection::Truncated => "the answer was cut off (output limit reached)".into(),
            Rejection::TooLong => {
                "the answer was far longer than the source (runaway generation)".into()
            }
            Rejection::RequestFailed(m) => format!("the request failed: {m}"),
        }
    }
}

/// Preambles a model puts before a translation (never the start of a real one).
const CHATTER: &[&str] = &[
    "here is the translation",
    "here's the translation",
    "here is the translated",
    "translation:",
    "translated text:",
    "voici la traduction",
    "traduction :",
    "traduction:",
    "sure, here",
    "certainly! here",
];

/// Checks one segment's answer against its source core. `languages_differ`: whether a copy of
/// the source counts as a failure.
pub fn check_answer(
    core: &Content,
    answer: &str,
    languages_differ: bool,
) -> Result<Content, Rejection> {
    let lower = answer.to_lowercase();
    if lower.contains("<think>") || lower.contains("</think>") {
        return Err(Rejection::Thinking);
    }
    let head = lower.trim_start();
    let source_head = core.plain_text().to_lowercase();
    if CHATTER.iter().any(|c| head.starts_with(c) && !source_head.trim_start().starts_with(c)) {
        return Err(Rejection::Thinking);
    }
    let parsed = Content::parse_answer(core, answer.trim()).map_err(Rejection::InvalidCodes)?;
    let (src_len, out_len) =
        (core.plain_text().chars().count(), parsed.plain_text().chars().count());
    if out_len > src_len * 4 + 60 {
        return Err(Rejection::TooLong);
    }
    if parsed.plain_text().trim().is_empty() && !core.plain_text().trim().is_empty() {
        return Err(Rejection::Empty);
    }
    if languages_differ && core.has_letters() && parsed == *core {
        return Err(Rejection::CopyOfSource);
    }
    Ok(parsed)
}

/// Removes anything that looks like an inline code tag (`<g3>`, `</g3>`, `<x4/>`), keeping text.
fn strip_code_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let from = &rest[pos..];
        let b = from.as_bytes();
        let mut i = 1;
        if b.get(i) == Some(&b'/') {
            i += 1;
        }
        let is_code = matches!(b.get(i), Some(b'g' | b'x'));
        let mut j = i + 1;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        while b.get(j) == Some(&b' ') {
            j += 1;
        }
        if b.get(j) == Some(&b'/') {
            j += 1;
        }
        if is_code && j > i + 1 && b.get(j) == Some(&b'>') {
            rest = &from[j + 1..];
        } else {
            out.push('<');
            rest = &from[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Most codes a segment may have for [`reinsert_codes`] to place them by proportion.
pub const MAX_REINSERTED_CODES: usize = 8;

/// Puts the source core's inline codes into a translation whose own codes are wrong: the tags
/// are removed from the answer and each source code is placed at the word boundary nearest to
/// its relative position in the source. Order, and so nesting, is preserved; the result carries
/// exactly the source's codes. `None` when the text is empty or there are too many codes to
/// place safely.
pub fn reinsert_codes(core: &Content, answer: &str) -> Option<Content> {
    if core.code_count() > MAX_REINSERTED_CODES {
        return None;
    }
    let text = Content::parse(&strip_code_tags(answer)).ok()?.plain_text();
    if text.trim().is_empty() {
        return None;
    }
    let src_len: usize = core
        .pieces()
        .iter()
        .map(|p| if let Piece::Text(t) = p { t.chars().count() } else { 0 })
        .sum();
    let chars: Vec<char> = text.chars().collect();
    let tgt_len = chars.len();
    // Candidate insertion points: start, end, and every position next to whitespace.
    let boundaries: Vec<usize> = (0..=tgt_len)
        .filter(|&i| {
            i == 0
                || i == tgt_len
                || chars[i - 1].is_whitespace()
                || chars.get(i).is_some_and(|c| c.is_whitespace())
        })
        .collect();
    let mut offset = 0usize;
    let mut last = 0usize;
    let mut placed: Vec<(usize, Piece)> = Vec::new();
    for p in core.pieces() {
        match p {
            Piece::Text(t) => offset += t.chars().count(),
            code => {
                let want = if src_len == 0 {
                    0.0
                } else {
                    offset as f64 / src_len as f64 * tgt_len as f64
                };
                let pos = boundaries
                    .iter()
                    .copied()
                    .filter(|&b| b >= last)
                    .min_by(|a, b| {
                        let da = (*a as f64 - want).abs();
                        let db = (*b as f64 - want).abs();
                        da.total_cmp(&db)
                    })
                    .unwrap_or(tgt_len);
                last = pos;
                placed.push((pos, code.clone()));
            }
        }
    }
    let mut pieces = Vec::new();
    let mut cursor = 0usize;
    for (pos, code) in placed {
        if pos > cursor {
            pieces.push(Piece::Text(chars[cursor..pos].iter().collect()));
            cursor = pos;
        }
        pieces.push(code);
    }
    if cursor < tgt_len {
        pieces.push(Piece::Text(chars[cursor..].iter().collect()));
    }
    let content = Content::from_pieces(pieces).ok()?;
    content.check_codes_against(core).ok()?;
    Some(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_behind_thinking_fences_and_prose() {
        let raw = "<think>Let me think {not json}</think>\nHere is the translation:\n```json\n{\"translations\":[{\"id\":\"1\",\"text\":\"Hi\"}]}\n```\nHope this helps!";
        let p = parse_translations(raw);
        assert!(p.whole);
        assert_eq!(p.by_id["1"], vec!["Hi".to_string()]);
        let bare =
            parse_translations("Sure! {\"translations\":[{\"id\":2,\"text\":\"a { b\"}]} Done.");
        assert_eq!(bare.by_id["2"], vec!["a { b".to_string()]);
    }

    #[test]
    fn complete_entries_of_a_truncated_answer_are_recovered() {
        let raw = r#"{"translations":[{"id":"1","text":"One"},{"id":"2","text":"Two \"quoted\" }"},{"id":"3","text":"Thr"#;
        let p = parse_translations(raw);
        assert!(!p.whole);
        assert_eq!(p.by_id.len(), 2);
        assert_eq!(p.by_id["2"], vec!["Two \"quoted\" }".to_string()]);
    }

    #[test]
    fn unclosed_and_empty_think_blocks_are_removed() {
        assert_eq!(strip_thinking("<think></think>{\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_thinking("<think>hmm... {\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_thinking("reasoning</think>answer"), "answer");
        assert_eq!(
            extract_json("<THINK>x</THINK> {\"k\": [1]}"),
            Some(serde_json::json!({"k":[1]}))
        );
    }

    #[test]
    fn duplicate_ids_are_kept_apart() {
        let p =
            parse_translations(r#"{"translations":[{"id":"1","text":"a"},{"id":"1","text":"b"}]}"#);
        assert_eq!(p.by_id["1"].len(), 2);
    }

    fn c(s: &str) -> Content {
        Content::parse(s).unwrap()
    }

    #[test]
    fn answers_are_checked() {
        let core = c("Lisez le <g1>guide</g1> <x2/>.");
        assert!(check_answer(&core, "Read the <g1>guide</g1> <x2/>.", true).is_ok());
        assert!(matches!(
            check_answer(&core, "Read the guide <x2/>.", true),
            Err(Rejection::InvalidCodes(_))
        ));
        assert!(matches!(check_answer(&core, "<g1></g1><x2/>", true), Err(Rejection::Empty)));
        assert_eq!(
            check_answer(&core, "Lisez le <g1>guide</g1> <x2/>.", true),
            Err(Rejection::CopyOfSource)
        );
        assert!(check_answer(&core, "Lisez le <g1>guide</g1> <x2/>.", false).is_ok());
        assert_eq!(
            check_answer(&core, "<think></think>Read <g1>it</g1><x2/>", true),
            Err(Rejection::Thinking)
        );
    }

    #[test]
    fn codes_are_reinserted_in_order_at_word_boundaries() {
        let core = c("Cliquez sur <g1>le bouton <g2>vert</g2></g1> puis <x3/> validez.");
        let fixed = reinsert_codes(&core, "Click the <g1>green</g2> button then confirm.").unwrap();
        assert!(fixed.check_codes_against(&core).is_ok());
        assert_eq!(fixed.plain_text(), "Click the green button then confirm.");
        let r = fixed.render();
        let (a, b, c3) =
            (r.find("<g1>").unwrap(), r.find("<g2>").unwrap(), r.find("<x3/>").unwrap());
        assert!(a < b && b < c3, "{r}");
        assert!(reinsert_codes(&core, "<g1></g1>").is_none());
    }

    #[test]
    fn code_tags_are_stripped_but_other_text_is_not() {
        assert_eq!(strip_code_tags("a <g1>b</g1> <x2 /> c &lt;d&gt; <b>"), "a b  c &lt;d&gt; <b>");
    }
}
