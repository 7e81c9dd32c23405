//! The YAML half of the catalogue filter: a line scanner that finds string scalars (plain,
//! quoted, block and flow) with their ranges, styles and key paths, the rules for when a plain
//! scalar can hold a translation, and the writer of double-quoted scalars.

use std::collections::HashMap;

use super::{Scalar, Style};

/// Every string value (not key) of a YAML value, trailing whitespace removed, with counts.
pub(super) fn collect_strings(value: &serde_yaml_ng::Value, out: &mut HashMap<String, usize>) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) => *out.entry(s.trim_end().to_string()).or_default() += 1,
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

pub(super) fn yaml_double(value: &str) -> String {
    yaml_double_with(value, &|_| false)
}

pub(super) fn yaml_double_with(value: &str, unmappable: &dyn Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unmappable(c) && (c as u32) > 0xFFFF => {
                out.push_str(&format!("\\U{:08x}", c as u32))
            }
            c if c.is_control() || c == '\u{feff}' || unmappable(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn plain_safe(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else { return false };
    if value.trim() != value
        || value.contains('\n')
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
    {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if flow && value.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    !is_special_plain(value) && value.chars().all(|c| !c.is_control())
}

/// Plain scalars YAML reads as something other than a string.
fn is_special_plain(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "null"
            | "~"
            | "y"
            | "n"
            | ".nan"
            | ".inf"
            | "-.inf"
    ) || value.parse::<f64>().is_ok()
}

/// Finds the string scalars of a YAML document with their ranges and styles.
pub(crate) fn yaml_scalars(text: &str) -> Result<Vec<Scalar>, (usize, String)> {
    let mut out = Vec::new();
    let lines: Vec<(usize, &str)> = {
        let mut pos = 0;
        text.split_inclusive('\n')
            .map(|l| {
                let start = pos;
                pos += l.len();
                (start, l.trim_end_matches(['\n', '\r']))
            })
            .collect()
    };
    // (indent, key) of open mappings.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    let mut skip_to = 0usize;
    while i < lines.len() {
        let (start, line) = lines[i];
        i += 1;
        if start < skip_to {
            continue;
        }
        let trimmed = line.trim_start_matches([' ', '\u{feff}']);
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with("---")
            || trimmed.starts_with("...")
            || trimmed.starts_with('%')
        {
            continue;
        }
        let line_indent = line.len() - trimmed.len();
        let mut indent = line_indent;
        let mut rest = trimmed;
        let mut offset = start + indent;
        // Sequence entries.
        let mut seq = false;
        while rest.starts_with("- ") || rest == "-" {
            seq = true;
            let step = if rest == "-" { 1 } else { 2 };
            let extra = rest[step..].len() - rest[step..].trim_start().len();
            rest = rest[step..].trim_start();
            offset += step + extra;
            indent += step + extra;
        }
        while stack.last().is_some_and(|(ind, _)| *ind >= indent && !(seq && *ind == indent)) {
            stack.pop();
        }
        let (key, value_at) = match mapping_key(rest) {
            Some((key, after)) => (Some(key), after),
            None => (None, 0),
        };
        let path_base: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        let mut path = path_base.join(".");
        if let Some(k) = &key {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
        }
        let value = &rest[value_at..];
        let lead = value.len() - value.trim_start().len();
        let mut value = value.trim_start();
        let mut value_offset = offset + value_at + lead;
        // Anchors and tags before the value.
        while value.starts_with('&') || value.starts_with('!') {
            let end = value.find(' ').unwrap_or(value.len());
            let skip = value[end..].len() - value[end..].trim_start().len();
            value_offset += end + skip;
            value = value[end..].trim_start();
        }
        if let Some(k) = &key
            && (value.is_empty() || value.starts_with('#'))
        {
            stack.push((indent, k.clone()));
            continue;
        }
        if value.is_empty() || value.starts_with('#') || value.starts_with('*') {
            continue;
        }
        let first = value.as_bytes()[0];
        match first {
            b'|' | b'>' => {
                let folded = first == b'>';
                // Content lines: more indented than the key (or blank).
                let mut j = i;
                let mut block_indent: Option<usize> = None;
                let mut last = i;
                while j < lines.len() {
                    let (_, l) = lines[j];
                    let ind = l.len() - l.trim_start_matches(' ').len();
                    if l.trim().is_empty() {
                        j += 1;
                        continue;
                    }
                    if ind <= line_indent {
                        break;
                    }
                    block_indent.get_or_insert(ind);
                    j += 1;
                    last = j;
                }
                let Some(bi) = block_indent else { continue };
                if last > i {
                    let range = lines[i].0..lines[last - 1].0 + lines[last - 1].1.len();
                    let body: Vec<&str> =
                        lines[i..last].iter().map(|(_, l)| l.get(bi..).unwrap_or("")).collect();
                    let value = if folded {
                        body.split(|l| l.is_empty())
                            .map(|p| p.join(" "))
                            .collect::<Vec<_>>()
                            .join("\n")
                    } else {
                        body.join("\n")
                    };
                    out.push(Scalar {
                        range: range.clone(),
                        value,
                        style: Style::Block { indent: " ".repeat(bi), folded },
                        path,
                    });
                    skip_to = range.end;
                    i = last;
                }
            }
            b'"' | b'\'' => {
                // Constructs not modelled here are left to the cross-check with the YAML library.
                let Some((end, decoded)) = quoted(text, value_offset) else { continue };
                let style = if first == b'"' { Style::Double } else { Style::Single };
                out.push(Scalar { range: value_offset..end, value: decoded, style, path });
                skip_to = end;
            }
            b'[' | b'{' => {
                let mut found = Vec::new();
                let Some(end) = flow(text, value_offset, &path, &mut found) else { continue };
                out.extend(found);
                skip_to = end;
            }
            _ => {
                let plain = strip_comment(value);
                let mut joined = plain.to_string();
                let mut end = value_offset + plain.len();
                // A plain scalar continues on more indented lines (folded with spaces), unless a
                // comment ended it.
                if plain == value.trim_end() {
                    while i < lines.len() {
                        let (line_start, next) = lines[i];
                        let body = next.trim_start_matches(' ');
                        let ind = next.len() - body.len();
                        if body.trim().is_empty() || body.starts_with('#') || ind <= line_indent {
                            break;
                        }
                        let piece = strip_comment(body);
                        joined.push(' ');
                        joined.push_str(piece);
                        end = line_start + ind + piece.len();
                        i += 1;
                        if piece != body.trim_end() {
                            break;
                        }
                    }
                }
                if !is_special_plain(&joined) {
                    out.push(Scalar {
                        range: value_offset..end,
                        value: joined,
                        style: Style::Plain { flow: false },
                        path,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `key: …` at the start of `s`: the key and where the value starts.
fn mapping_key(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if b.first().is_some_and(|c| *c == b'"' || *c == b'\'') {
        let q = b[0];
        let mut i = 1;
        while i < b.len() {
            if b[i] == q {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            if q == b'"' && b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        let after = s.get(i + 1..)?.trim_start();
        let colon = s.len() - after.len();
        if after.starts_with(':') && (after.len() == 1 || after.as_bytes()[1] == b' ') {
            return Some((s[1..i].to_string(), colon + 1));
        }
        return None;
    }
    if b.first().is_some_and(|c| b"[{|>#&*!%@`".contains(c)) {
        return None;
    }
    let mut search = 0;
    while let Some(p) = s[search..].find(':') {
        let at = search + p;
        if s[at + 1..].is_empty() || s.as_bytes()[at + 1] == b' ' {
            let key = s[..at].trim_end();
            if key.contains(" #") {
                return None;
            }
            return Some((key.to_string(), at + 1));
        }
        search = at + 1;
    }
    None
}

fn strip_comment(value: &str) -> &str {
    match value.find(" #") {
        Some(p) => value[..p].trim_end(),
        None => value.trim_end(),
    }
}

/// Reads a quoted scalar starting at `start`; returns its end (after the closing quote) and value.
fn quoted(text: &str, start: usize) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            break;
        }
        if q == b'"' && b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    if i >= b.len() {
        return None;
    }
    let raw = &text[start..=i];
    // Let the YAML library decode the scalar (escapes, line folding).
    let value: String = serde_yaml_ng::from_str(raw).ok()?;
    Some((i + 1, value))
}

/// Scans a flow collection at `start`, recording its string scalars; returns its end.
fn flow(text: &str, start: usize, path: &str, out: &mut Vec<Scalar>) -> Option<usize> {
    let b = text.as_bytes();
    let close = if b[start] == b'[' { b']' } else { b'}' };
    let mapping = close == b'}';
    let mut i = start + 1;
    let mut index = 0usize;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\n' || b[i] == b'\r' || b[i] == b'\t') {
            i += 1;
        }
        let c = *b.get(i)?;
        if c == close {
            return Some(i + 1);
        }
        if c == b',' {
            i += 1;
            continue;
        }
        let item_path = format!("{path}[{index}]");
        index += 1;
        let item_start = i;
        if mapping {
            // Skip the key.
            let key_end = i + text[i..].find(':')?;
            i = key_end + 1;
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
        }
        let c = *b.get(i)?;
        match c {
            b'[' | b'{' => i = flow(text, i, &item_path, out)?,
            b'"' | b'\'' => {
                let (end, value) = quoted(text, i)?;
                let style = if c == b'"' { Style::Double } else { Style::Single };
                out.push(Scalar { range: i..end, value, style, path: item_path });
                i = end;
            }
            _ => {
                let end = i + text[i..].find([',', ']', '}', '\n'])?;
                let raw = text[i..end].trim_end();
                if !raw.is_empty() && !is_special_plain(raw) && !raw.starts_with('*') {
                    out.push(Scalar {
                        range: i..i + raw.len(),
                        value: raw.to_string(),
                        style: Style::Plain { flow: true },
                        path: item_path,
                    });
                }
                i = end;
            }
        }
        if i <= item_start {
            // No progress (a closing bracket of the other kind): not a flow collection we model.
            return None;
        }
    }
}
