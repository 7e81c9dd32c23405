//! Reading what a model answered, and deciding whether each segment's answer may be used.
//!
//! Local models wrap their JSON in prose, Markdown fences or `<think>` blocks, break it, or stop
//! halfway (research notes §3.4–3.6). [`extract_json`] finds the JSON object anyway; when the
//! whole object is broken, [`parse_translations`] still recovers every complete `{"id","text"}`
//! entry. A real small model also shifts, invents, drops and repeats ids, and copies another
//! segment's source under an id (issue 18): so an answer is first *aligned* with its request
//! ([`align`]: the id set must be the request's, or a prefix of it when the output was cut, or
//! one entry for a single segment), then each entry is checked against its own source
//! ([`check_entry`]: codes, emptiness, copies, another segment's source, numbers and URLs, a
//! length band, thinking). [`reinsert_codes`] is the repair of last resort before keeping the
//! source, and [`protect_placeholders`] sends placeholders wrapped in paired codes as codes.

mod align;
mod check;
mod reinsert;

pub use align::{Alignment, align};
pub(crate) use check::source_keys;
pub use check::{CHATTER, EntryContext, Rejection, check_answer, check_entry};
pub use reinsert::{
    MAX_REINSERTED_CODES, Protected, is_placeholder, protect_placeholders, reinsert_codes,
};

use std::collections::HashMap;

use serde_json::Value;

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
    /// Every entry `(id, text)`, in the order of the answer.
    pub entries: Vec<(String, String)>,
    /// True when the answer's JSON object was read whole (false: entries recovered one by one).
    pub whole: bool,
}

impl ParsedAnswer {
    fn push(&mut self, id: String, text: String) {
        self.by_id.entry(id.clone()).or_default().push(text.clone());
        self.entries.push((id, text));
    }
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
                    out.push(id, text);
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
            out.push(id, text);
        }
    }
    out
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
        assert_eq!(p.entries, [("1".into(), "a".into()), ("1".into(), "b".into())]);
    }
}
