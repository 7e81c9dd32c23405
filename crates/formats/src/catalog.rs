//! JSON and YAML message catalogues (i18next, Rails i18n, vue-i18n, ARB…): string values are
//! translated, keys and everything else kept.
//!
//! Both are validated with serde first (a malformed file is refused with the parser's message),
//! then scanned by a small tokenizer that knows the byte range of every string value, and each
//! translated value is re-escaped in place: nothing is re-serialised, so key order, indentation,
//! comments (YAML), anchors and number formats stay as they were. Placeholders (`{name}`,
//! `{{count}}`, `%{count}`, `%s`, ICU `{n, plural, …}`) and HTML tags become inline codes.
//! In JSON, keys starting with `@` (ARB metadata) are kept. In YAML, plain scalars that YAML
//! would read as booleans, nulls or numbers are not text; a translation that a plain scalar
//! cannot hold (a leading indicator, `: `, ` #`…) is written double-quoted.

use std::collections::HashMap;
use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::placeholders;
use crate::splice::{self, Collected, Edit, Slot, SlotBuilder};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};

/// How a scalar is written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Style {
    /// A JSON string (range includes the quotes).
    Json,
    /// YAML double-quoted (range includes the quotes).
    Double,
    /// YAML single-quoted (range includes the quotes).
    Single,
    /// YAML plain scalar; `flow` inside `[…]`/`{…}`.
    Plain { flow: bool },
    /// YAML block scalar content lines, with their indentation; `folded` for `>`.
    Block { indent: String, folded: bool },
}

/// A string scalar: where it is, its decoded value, how it is written, its key path.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    pub range: Range<usize>,
    pub value: String,
    pub style: Style,
    pub path: String,
}

/// Recognises JSON objects/arrays and YAML mappings; `name` breaks ties for YAML.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let full = std::str::from_utf8(bytes).ok()?.trim_start_matches('\u{feff}');
        if serde_json::from_str::<serde_json::Value>(full).is_ok() {
            return Some(Format::Json);
        }
    }
    let lname = name.to_ascii_lowercase();
    let yaml_name = lname.ends_with(".yml") || lname.ends_with(".yaml");
    let key_lines = t
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .take(5)
        .filter(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            l.starts_with("---")
                || l.split_once(':').is_some_and(|(k, v)| {
                    !k.is_empty() && !k.contains(' ') && (v.is_empty() || v.starts_with(' '))
                })
        })
        .count();
    let looks_yaml = t.starts_with("---") || key_lines >= 2;
    let other_text = [".md", ".markdown", ".txt", ".srt", ".vtt", ".po", ".pot"]
        .iter()
        .any(|e| lname.ends_with(e));
    if !looks_yaml || other_text || !(yaml_name || key_lines >= 3) {
        return None;
    }
    // Front matter followed by prose is not a catalogue: the whole text must be one YAML mapping.
    let full = std::str::from_utf8(bytes).ok()?;
    matches!(
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(full),
        Ok(serde_yaml_ng::Value::Mapping(_))
    )
    .then_some(Format::Yaml)
}

/// Extracts a JSON or YAML catalogue.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let text = &decoded.text;
    let scalars = if format == Format::Json {
        serde_json::from_str::<serde_json::Value>(text).map_err(|e| FormatError::Malformed {
            part: name.to_string(),
            offset: offset_of(text, e.line(), e.column()),
            message: e.to_string(),
        })?;
        let mut scanner = JsonScanner { s: text.as_bytes(), src: text, pos: 0, out: Vec::new() };
        scanner.value("", false).map_err(|offset| FormatError::Malformed {
            part: name.to_string(),
            offset: offset as u64,
            message: "unexpected token".into(),
        })?;
        scanner.out
    } else {
        let value = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).map_err(|e| {
            FormatError::Malformed {
                part: name.to_string(),
                offset: e.location().map_or(0, |l| l.index() as u64),
                message: e.to_string(),
            }
        })?;
        let mut scalars = yaml_scalars(text).map_err(|(offset, message)| {
            FormatError::Malformed { part: name.to_string(), offset: offset as u64, message }
        })?;
        // Cross-check with the YAML library: a scalar whose value it does not read the same way
        // (a construct this scanner does not model, such as a multi-line plain scalar) is kept.
        let mut known: HashMap<String, usize> = HashMap::new();
        collect_strings(&value, &mut known);
        scalars.retain(|scalar| match known.get_mut(scalar.value.trim_end()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => {
                report.kept.push(KeptField {
                    location: format!("{name}: {}", scalar.path),
                    field: scalar.path.clone(),
                    reason: "YAML construct not handled".into(),
                });
                false
            }
        });
        scalars
    };
    let mut collected = Collected::default();
    let mut kept = Vec::new();
    for scalar in scalars {
        let mut b = SlotBuilder::new();
        splice::build_inline(&mut b, placeholders::parts(&scalar.value));
        let (content, slot) = b.finish(scalar.range.clone());
        if collected.push(content, slot, format!("{name}: {}", scalar.path), &scalar.path) {
            kept.push(scalar);
        }
    }
    let segments = collected.segments.clone();
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(CatalogSkeleton {
            yaml: format == Format::Yaml,
            decoded,
            collected,
            scalars: kept,
        }),
    ))
}

/// Every string value (not key) of a YAML value, trailing whitespace removed, with counts.
fn collect_strings(value: &serde_yaml_ng::Value, out: &mut HashMap<String, usize>) {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) => *out.entry(s.trim_end().to_string()).or_default() += 1,
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> u64 {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column.saturating_sub(1)) as u64
}

struct CatalogSkeleton {
    yaml: bool,
    decoded: Decoded,
    collected: Collected,
    scalars: Vec<Scalar>,
}

impl Skeleton for CatalogSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let segments = &self.collected.segments;
        splice::check_count(segments, translations)?;
        let mut edits = Vec::new();
        for (i, translation) in translations.iter().enumerate() {
            if *translation == segments[i].content {
                continue;
            }
            let scalar = &self.scalars[i];
            let slot = Slot { range: 0..0, codes: self.collected.slots[i].codes.clone() };
            let value = splice::render("", &slot, translation, &splice::escape_none, &[]);
            edits.push(Edit {
                range: scalar.range.clone(),
                text: write_scalar(&value, &scalar.style, &|c| !self.decoded.can_encode(c)),
            });
        }
        let text = splice::apply(&self.decoded.text, edits);
        if self.yaml
            && text != self.decoded.text
            && let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text)
        {
            return Err(FormatError::Invalid(format!(
                "the translated YAML would not parse ({e}); nothing was written"
            )));
        }
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

/// Writes `value` in the scalar's style (or double-quoted when the style cannot hold it).
///
/// Characters the file's encoding cannot hold (`unmappable`) are written as `\u` escapes, in a
/// double-quoted scalar for YAML: a `?` in their place could change the document's structure.
pub(crate) fn write_scalar(
    value: &str,
    style: &Style,
    unmappable: &dyn Fn(char) -> bool,
) -> String {
    // A block scalar cannot hold escapes; a `?` written there by the encoder is harmless.
    if !matches!(style, Style::Block { .. }) && value.chars().any(unmappable) {
        return match style {
            Style::Json => json_quote_with(value, unmappable),
            _ => yaml_double_with(value, unmappable),
        };
    }
    match style {
        Style::Json => json_quote(value),
        Style::Double => yaml_double(value),
        Style::Single if !value.contains('\n') => format!("'{}'", value.replace('\'', "''")),
        Style::Single => yaml_double(value),
        Style::Plain { flow } if plain_safe(value, *flow) => value.to_string(),
        Style::Plain { .. } => yaml_double(value),
        Style::Block { indent, folded } => {
            let text = if *folded { value.replace('\n', "\n\n") } else { value.to_string() };
            text.split('\n')
                .map(|l| if l.is_empty() { String::new() } else { format!("{indent}{l}") })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

fn json_quote(value: &str) -> String {
    json_quote_with(value, &|_| false)
}

fn json_quote_with(value: &str, unmappable: &dyn Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if unmappable(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yaml_double(value: &str) -> String {
    yaml_double_with(value, &|_| false)
}

fn yaml_double_with(value: &str, unmappable: &dyn Fn(char) -> bool) -> String {
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

fn plain_safe(value: &str, flow: bool) -> bool {
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

struct JsonScanner<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    out: Vec<Scalar>,
}

impl JsonScanner<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len()
            && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r' | 0xEF | 0xBB | 0xBF)
        {
            self.pos += 1;
        }
    }

    /// Scans a value at `pos`; records strings unless `kept`.
    fn value(&mut self, path: &str, kept: bool) -> Result<(), usize> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b'}') {
                        self.pos += 1;
                        return Ok(());
                    }
                    let (key, _) = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.pos);
                    }
                    self.pos += 1;
                    let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    self.value(&child, kept || key.starts_with('@'))?;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.pos),
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                let mut i = 0;
                loop {
                    self.ws();
                    if self.s.get(self.pos) == Some(&b']') {
                        self.pos += 1;
                        return Ok(());
                    }
                    self.value(&format!("{path}[{i}]"), kept)?;
                    i += 1;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(self.pos),
                    }
                }
            }
            Some(b'"') => {
                let (value, range) = self.string()?;
                if !kept {
                    self.out.push(Scalar {
                        range,
                        value,
                        style: Style::Json,
                        path: path.to_string(),
                    });
                }
                Ok(())
            }
            Some(_) => {
                while self.pos < self.s.len()
                    && !matches!(
                        self.s[self.pos],
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    self.pos += 1;
                }
                Ok(())
            }
            None => Err(self.pos),
        }
    }

    /// Reads a string at `pos`: its decoded value and range (quotes included).
    fn string(&mut self) -> Result<(String, Range<usize>), usize> {
        let start = self.pos;
        if self.s.get(self.pos) != Some(&b'"') {
            return Err(self.pos);
        }
        self.pos += 1;
        let mut i = self.pos;
        while i < self.s.len() && self.s[i] != b'"' {
            i += if self.s[i] == b'\\' { 2 } else { 1 };
        }
        if i >= self.s.len() {
            return Err(start);
        }
        let raw = &self.src[start..=i];
        let value: String = serde_json::from_str(raw).map_err(|_| start)?;
        self.pos = i + 1;
        Ok((value, start..i + 1))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;
    use tradia_core::pseudo::pseudo_content;

    fn fr() -> MergeOptions {
        MergeOptions { target: LanguageTag::parse("fr").unwrap() }
    }

    #[test]
    fn json_placeholder_is_a_standalone_code() {
        let src = "{\n  \"greeting\": \"Hello {name}!\",\n  \"count\": 3,\n  \"nested\": {\"items\": \"{{count}} items\\n\", \"@meta\": \"keep\"}\n}\n";
        assert_eq!(sniff("x.json", src.as_bytes()), Some(Format::Json));
        let d =
            extract(Format::Json, "x.json", src.as_bytes(), &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(rendered, vec!["Hello <x1/>!", "<x1/> items\n"]);
        assert_eq!(d.segments[1].location, "x.json: nested.items");
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let t = vec![
            Content::parse("Bonjour \"<x1/>\" !").unwrap(),
            Content::parse("<x1/> éléments\n").unwrap(),
        ];
        let out = String::from_utf8(d.merge(&t, &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "{\n  \"greeting\": \"Bonjour \\\"{name}\\\" !\",\n  \"count\": 3,\n  \"nested\": {\"items\": \"{{count}} éléments\\n\", \"@meta\": \"keep\"}\n}\n"
        );
    }

    #[test]
    fn characters_a_legacy_encoding_lacks_are_escaped() {
        let text = "fr:\n  hello: Café crème\n  other: Déjà vu\n  third: Voilà tout\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let d = extract(Format::Yaml, "fr.yml", &bytes, &ExtractOptions::default()).unwrap();
        let t = vec![Content::text("مقهى ? ok"), Content::text("Déjà"), Content::text("🙂 x")];
        let out = d.merge(&t, &fr()).unwrap();
        let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&out);
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&decoded).unwrap();
        assert_eq!(value["fr"]["hello"].as_str(), Some("مقهى ? ok"));
        assert_eq!(value["fr"]["other"].as_str(), Some("Déjà"));
        assert_eq!(value["fr"]["third"].as_str(), Some("🙂 x"));
    }

    #[test]
    fn yaml_styles_are_kept_or_quoted_when_needed() {
        let src = "fr:\n  date:\n    abbr_day_names: [dim, lun, mar]\n    formats:\n      default: \"%d/%m/%Y\"\n  hello: Hello world # greeting\n  quoted: 'It''s %{count} days'\n  flag: true\n  long: |\n    Line one\n    Line two\n  items:\n    - First item\n    - \"Second\"\n";
        assert_eq!(sniff("fr.yml", src.as_bytes()), Some(Format::Yaml));
        let d =
            extract(Format::Yaml, "fr.yml", src.as_bytes(), &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            rendered,
            vec![
                "dim",
                "lun",
                "mar",
                "Hello world",
                "It's <x1/> days",
                "Line one\nLine two",
                "First item",
                "Second"
            ]
        );
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &fr()).unwrap()).unwrap();
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(value["fr"]["hello"].as_str(), Some("⟦Hélló wórld⟧"));
        assert_eq!(value["fr"]["quoted"].as_str(), Some("⟦Ít's⟧ %{count} ⟦dáýs⟧"));
        assert_eq!(value["fr"]["long"].as_str(), Some("⟦Líñé óñé\nLíñé twó⟧\n"));
        assert_eq!(value["fr"]["flag"].as_bool(), Some(true));
        assert_eq!(value["fr"]["date"]["abbr_day_names"][1].as_str(), Some("⟦lúñ⟧"));
        assert!(out.contains("hello: ⟦Hélló wórld⟧ # greeting\n"), "{out}");
        let colon =
            d.merge(&[vec![Content::text("a: b")], pseudo[1..].to_vec()].concat(), &fr()).unwrap();
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&colon).unwrap();
        assert_eq!(value["fr"]["date"]["abbr_day_names"][0].as_str(), Some("a: b"));
    }
}
