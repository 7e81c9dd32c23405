//! Independent judges of a pseudo-translated output: each parses input and output with a tool
//! other than the filter under test, checks that the structure outside text is unchanged, and
//! counts the text units that changed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tradia_formats::Format;

/// How much of the visible text changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    /// Text units (nodes, values, cues) with letters in the input.
    pub total: usize,
    /// Of those, how many differ in the output.
    pub changed: usize,
}

impl Coverage {
    pub fn percent(&self) -> f64 {
        if self.total == 0 { 100.0 } else { self.changed as f64 * 100.0 / self.total as f64 }
    }

    fn add(&mut self, before: &str, after: &str) {
        if before.chars().any(char::is_alphabetic) {
            self.total += 1;
            if before != after {
                self.changed += 1;
            }
        }
    }
}

fn decode(bytes: &[u8]) -> String {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let mut det = chardetng::EncodingDetector::new();
            det.feed(bytes, true);
            let enc = declared(bytes).unwrap_or_else(|| det.guess(None, false));
            enc.decode(bytes).0.into_owned()
        }
    }
}

fn declared(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]);
    let idx = head.find("charset=")?;
    let label: String = head[idx + 8..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// Checks `output` against `input` for `format`.
pub fn output(format: Format, input: &[u8], output: &[u8]) -> Result<Coverage, String> {
    match format {
        Format::Html => html(&decode(input), &decode(output)),
        Format::Markdown => markdown(&decode(input), &decode(output)),
        Format::PlainText => text(&decode(input), &decode(output)),
        Format::Json => json(input, output),
        Format::Yaml => yaml(&decode(input), &decode(output)),
        Format::Srt | Format::WebVtt => subtitles(&decode(input), &decode(output)),
        Format::Po => po(&decode(input), &decode(output)),
        Format::Xliff => xliff(&decode(input), &decode(output)),
        Format::Epub => epub(input, output),
        other => Err(format!("no checker for {other:?}")),
    }
}

const TRANSLATED_ATTRS: &[&str] =
    &["alt", "title", "placeholder", "aria-label", "content", "value", "lang", "dir", "xml:lang"];

/// Elements whose text the filter keeps on purpose.
const KEPT: &[&str] = &[
    "script", "style", "pre", "code", "kbd", "samp", "textarea", "svg", "math", "noscript",
    "template", "select", "iframe", "object", "video", "audio", "canvas", "xmp",
];
const VOIDS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

struct HtmlView {
    tags: Vec<String>,
    texts: Vec<String>,
}

fn html_view(src: &str) -> HtmlView {
    let mut emitter = html5gum::DefaultEmitter::<()>::default();
    emitter.naively_switch_states(true);
    let mut tags = Vec::new();
    let mut texts = Vec::new();
    let mut current = String::new();
    let mut kept: Vec<String> = Vec::new();
    for token in html5gum::Tokenizer::new_with_emitter(src, emitter).flatten() {
        match token {
            html5gum::Token::String(s) if kept.is_empty() => {
                current.push_str(&String::from_utf8_lossy(&s))
            }
            html5gum::Token::String(_) => {}
            html5gum::Token::StartTag(t) => {
                texts.push(std::mem::take(&mut current));
                let name = String::from_utf8_lossy(&t.name).to_ascii_lowercase();
                let no = t.attributes.iter().any(|(k, v)| {
                    (&k[..] == b"translate" && &v[..] == b"no")
                        || (&k[..] == b"class"
                            && String::from_utf8_lossy(v)
                                .split_whitespace()
                                .any(|c| c == "notranslate"))
                });
                if !t.self_closing
                    && (no || KEPT.contains(&name.as_str()) || !kept.is_empty())
                    && !VOIDS.contains(&name.as_str())
                {
                    kept.push(name);
                }
                let attrs: BTreeMap<String, String> = t
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .filter(|(k, _)| !TRANSLATED_ATTRS.contains(&k.as_str()))
                    .collect();
                tags.push(format!("<{} {:?}>", String::from_utf8_lossy(&t.name), attrs));
                for (k, v) in &t.attributes {
                    if ["alt", "title", "placeholder"]
                        .contains(&String::from_utf8_lossy(k).as_ref())
                    {
                        texts.push(String::from_utf8_lossy(v).into_owned());
                    }
                }
            }
            html5gum::Token::EndTag(t) => {
                texts.push(std::mem::take(&mut current));
                let name = String::from_utf8_lossy(&t.name).to_ascii_lowercase();
                if let Some(pos) = kept.iter().rposition(|k| *k == name) {
                    kept.truncate(pos);
                }
                tags.push(format!("</{}>", String::from_utf8_lossy(&t.name)));
            }
            html5gum::Token::Comment(_) | html5gum::Token::Doctype(_) => {
                texts.push(std::mem::take(&mut current))
            }
            html5gum::Token::Error(_) => {}
        }
    }
    texts.push(current);
    HtmlView { tags, texts }
}

fn html(input: &str, output: &str) -> Result<Coverage, String> {
    let a = html_view(input);
    let b = html_view(output);
    if a.tags != b.tags {
        let first = a
            .tags
            .iter()
            .zip(&b.tags)
            .position(|(x, y)| x != y)
            .unwrap_or(a.tags.len().min(b.tags.len()));
        return Err(format!(
            "tag structure changed at tag {first}: {:?} vs {:?}",
            a.tags.get(first),
            b.tags.get(first)
        ));
    }
    let mut cov = Coverage::default();
    // Text inside kept elements is not expected to change.
    for (x, y) in a.texts.iter().zip(&b.texts) {
        cov.add(x.trim(), y.trim());
    }
    if a.texts.len() != b.texts.len() {
        return Err("text node count changed".into());
    }
    Ok(cov)
}

fn md_events(src: &str) -> (Vec<String>, Vec<String>) {
    use pulldown_cmark::{Event, Options, Parser};
    let mut structure = Vec::new();
    let mut texts = Vec::new();
    let mut current = String::new();
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    for event in Parser::new_ext(src, opts) {
        match event {
            Event::Text(t) => current.push_str(&t),
            Event::SoftBreak => current.push(' '),
            Event::Start(pulldown_cmark::Tag::Link { dest_url, title, .. }) => {
                // A shortcut link written back as a full reference link is the same link.
                texts.push(std::mem::take(&mut current));
                structure.push(format!("Link {dest_url} {title}"));
            }
            Event::Start(tag) => {
                texts.push(std::mem::take(&mut current));
                structure.push(format!("{tag:?}"));
            }
            Event::End(tag) => {
                texts.push(std::mem::take(&mut current));
                structure.push(format!("{tag:?}"));
            }
            other => {
                texts.push(std::mem::take(&mut current));
                structure.push(format!("{other:?}"));
            }
        }
    }
    texts.push(current);
    (structure, texts)
}

fn markdown(input: &str, output: &str) -> Result<Coverage, String> {
    let (sa, ta) = md_events(input);
    let (sb, tb) = md_events(output);
    if sa != sb {
        let first = sa.iter().zip(&sb).position(|(x, y)| x != y).unwrap_or(sa.len().min(sb.len()));
        return Err(format!(
            "markdown structure changed at event {first}: {:?} vs {:?}",
            sa.get(first),
            sb.get(first)
        ));
    }
    let mut cov = Coverage::default();
    for (x, y) in ta.iter().zip(&tb) {
        cov.add(x, y);
    }
    Ok(cov)
}

fn paragraphs(src: &str) -> Vec<String> {
    src.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn text(input: &str, output: &str) -> Result<Coverage, String> {
    let a = paragraphs(input);
    let b = paragraphs(output);
    if a.len() != b.len() {
        return Err(format!("paragraph count changed: {} vs {}", a.len(), b.len()));
    }
    let mut cov = Coverage::default();
    for (x, y) in a.iter().zip(&b) {
        cov.add(x, y);
    }
    Ok(cov)
}

fn walk_json(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
    cov: &mut Coverage,
) -> Result<(), String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.keys().collect::<Vec<_>>() != y.keys().collect::<Vec<_>>() {
                return Err(format!("{path}: keys changed"));
            }
            for (k, v) in x {
                walk_json(v, &y[k], &format!("{path}.{k}"), cov)?;
            }
            Ok(())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk_json(v, w, &format!("{path}[{i}]"), cov)?;
            }
            Ok(())
        }
        (Value::String(x), Value::String(y)) => {
            cov.add(x, y);
            Ok(())
        }
        (x, y) if x == y => Ok(()),
        _ => Err(format!("{path}: value type or scalar changed")),
    }
}

fn json(input: &[u8], output: &[u8]) -> Result<Coverage, String> {
    let strip = |b: &[u8]| b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b).to_vec();
    let a: serde_json::Value =
        serde_json::from_slice(&strip(input)).map_err(|e| format!("input: {e}"))?;
    let b: serde_json::Value =
        serde_json::from_slice(&strip(output)).map_err(|e| format!("output is not JSON: {e}"))?;
    let mut cov = Coverage::default();
    walk_json(&a, &b, "$", &mut cov)?;
    Ok(cov)
}

fn walk_yaml(
    a: &serde_yaml_ng::Value,
    b: &serde_yaml_ng::Value,
    path: &str,
    cov: &mut Coverage,
) -> Result<(), String> {
    use serde_yaml_ng::Value;
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            if x.keys().collect::<Vec<_>>() != y.keys().collect::<Vec<_>>() {
                return Err(format!("{path}: keys changed"));
            }
            for (k, v) in x {
                walk_yaml(v, &y[k], &format!("{path}.{k:?}"), cov)?;
            }
            Ok(())
        }
        (Value::Sequence(x), Value::Sequence(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                walk_yaml(v, w, &format!("{path}[{i}]"), cov)?;
            }
            Ok(())
        }
        (Value::String(x), Value::String(y)) => {
            cov.add(x, y);
            Ok(())
        }
        (x, y) if x == y => Ok(()),
        (x, y) => Err(format!("{path}: value changed: {x:?} vs {y:?}")),
    }
}

fn yaml(input: &str, output: &str) -> Result<Coverage, String> {
    let a: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(input).map_err(|e| format!("input: {e}"))?;
    let b: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(output).map_err(|e| format!("output is not YAML: {e}"))?;
    let mut cov = Coverage::default();
    walk_yaml(&a, &b, "$", &mut cov)?;
    Ok(cov)
}

/// Subtitles: timing lines identical, one text block per cue, text changed.
fn subtitles(input: &str, output: &str) -> Result<Coverage, String> {
    let timings =
        |s: &str| s.lines().filter(|l| l.contains("-->")).map(str::to_string).collect::<Vec<_>>();
    if timings(input) != timings(output) {
        return Err("timing lines changed".into());
    }
    let cues = |s: &str| {
        let norm = s.replace("\r\n", "\n");
        norm.split("\n\n")
            .filter(|b| b.contains("-->"))
            .map(|b| {
                b.lines().skip_while(|l| !l.contains("-->")).skip(1).collect::<Vec<_>>().join("\n")
            })
            .collect::<Vec<_>>()
    };
    let (a, b) = (cues(input), cues(output));
    if a.len() != b.len() {
        return Err("cue count changed".into());
    }
    let mut cov = Coverage::default();
    for (x, y) in a.iter().zip(&b) {
        cov.add(x, y);
    }
    Ok(cov)
}

/// PO: same entries (by msgctxt + msgid), every translated entry's msgstr changed or filled.
fn po(input: &str, output: &str) -> Result<Coverage, String> {
    fn entries(src: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for block in src.replace("\r\n", "\n").split("\n\n") {
            let mut id = String::new();
            let mut strs = String::new();
            let mut field = "";
            for line in block.lines() {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                if let Some(rest) = line.strip_prefix("msgctxt ") {
                    field = "id";
                    id.push_str(rest);
                } else if let Some(rest) = line.strip_prefix("msgid ") {
                    field = "id";
                    id.push_str(rest);
                } else if let Some(rest) = line.strip_prefix("msgid_plural ") {
                    field = "id";
                    id.push_str(rest);
                } else if line.starts_with("msgstr") {
                    field = "str";
                    strs.push_str(line.split_once(' ').map_or("", |x| x.1));
                } else if line.starts_with('"') {
                    if field == "id" { id.push_str(line) } else { strs.push_str(line) }
                }
            }
            if !id.is_empty() {
                out.push((id, strs));
            }
        }
        out
    }
    let a = entries(input);
    let b = entries(output);
    if a.iter().map(|e| &e.0).collect::<Vec<_>>() != b.iter().map(|e| &e.0).collect::<Vec<_>>() {
        return Err("entries (msgctxt/msgid) changed".into());
    }
    let mut cov = Coverage::default();
    for ((id, x), (_, y)) in a.iter().zip(&b) {
        if id == "\"\"" {
            continue;
        }
        if id.chars().any(char::is_alphabetic) {
            cov.total += 1;
            if x != y {
                cov.changed += 1;
            }
        }
    }
    Ok(cov)
}

fn xml_texts(doc: &roxmltree::Document, element: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == element)
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .map(|d| d.text().unwrap_or_default())
                .collect::<String>()
        })
        .collect()
}

/// XLIFF: well-formed, every element of the input kept, targets carry changed text.
fn xliff(input: &str, output: &str) -> Result<Coverage, String> {
    let opts = || roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    let a = roxmltree::Document::parse_with_options(input, opts())
        .map_err(|e| format!("input: {e}"))?;
    let b = roxmltree::Document::parse_with_options(output, opts())
        .map_err(|e| format!("output not well-formed: {e}"))?;
    let count = |d: &roxmltree::Document| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for n in d
            .descendants()
            .filter(|n| n.is_element() && !n.ancestors().any(|a| a.tag_name().name() == "target"))
        {
            *m.entry(n.tag_name().name().to_string()).or_default() += 1;
        }
        m
    };
    let (ca, cb) = (count(&a), count(&b));
    for (name, n) in &ca {
        if name != "target" && cb.get(name) != Some(n) {
            return Err(format!("element count of {name} changed"));
        }
    }
    // Sources to translate: children of a unit or segment, not under translate="no".
    let translatable = |n: &roxmltree::Node| {
        n.parent().is_some_and(|p| ["trans-unit", "segment"].contains(&p.tag_name().name()))
            && n.ancestors().find_map(|a| a.attribute("translate")).is_none_or(|t| t != "no")
    };
    let text_of = |n: roxmltree::Node| {
        n.descendants()
            .filter(|d| d.is_text())
            .map(|d| d.text().unwrap_or_default())
            .collect::<String>()
    };
    let mut cov = Coverage::default();
    for source in b.descendants().filter(|n| n.tag_name().name() == "source" && translatable(n)) {
        if !text_of(source).chars().any(char::is_alphabetic) {
            continue;
        }
        cov.total += 1;
        let target =
            source.parent().and_then(|p| p.children().find(|c| c.tag_name().name() == "target"));
        if target.is_some_and(|t| text_of(t).contains('⟦')) {
            cov.changed += 1;
        }
    }
    let _ = xml_texts;
    Ok(cov)
}

/// What the EPUB check does with a text node of an XML entry.
enum Role {
    Judged,
    Kept,
    Counted,
}

/// EPUB: same entries in the same order; XHTML entries well-formed with changed text; the NCX
/// table of contents well-formed with its labels (`navLabel`/`docTitle` texts) changed and every
/// other text node (`docAuthor`…) unchanged.
fn epub(input: &[u8], output: &[u8]) -> Result<Coverage, String> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(input)).map_err(|e| e.to_string())?;
    let mut b = zip::ZipArchive::new(std::io::Cursor::new(output))
        .map_err(|e| format!("output zip: {e}"))?;
    if a.len() != b.len() {
        return Err("entry count changed".into());
    }
    let mut cov = Coverage::default();
    for i in 0..a.len() {
        let (mut ea, mut eb) =
            (a.by_index(i).map_err(|e| e.to_string())?, b.by_index(i).map_err(|e| e.to_string())?);
        let name = ea.name().map_err(|e| e.to_string())?.to_string();
        if eb.name().map_err(|e| e.to_string())? != name {
            return Err(format!("entry {i} renamed"));
        }
        let (mut da, mut db) = (Vec::new(), Vec::new());
        ea.read_to_end(&mut da).map_err(|e| e.to_string())?;
        eb.read_to_end(&mut db).map_err(|e| e.to_string())?;
        let ncx = name.ends_with(".ncx");
        let opf = name.ends_with(".opf");
        if ncx || opf || name.ends_with(".xhtml") || name.ends_with(".html") {
            let (sa, sb) = (
                String::from_utf8_lossy(&da).into_owned(),
                String::from_utf8_lossy(&db).into_owned(),
            );
            let opts = || roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
            let xa = roxmltree::Document::parse_with_options(&sa, opts())
                .map_err(|e| format!("{name}: {e}"))?;
            let xb = roxmltree::Document::parse_with_options(&sb, opts())
                .map_err(|e| format!("{name}: output not well-formed: {e}"))?;
            // Each text node compared, with its role: judged (its change counts toward
            // coverage), kept (must not change) or only counted (package metadata).
            let texts = |d: &roxmltree::Document| {
                d.descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| {
                        let text = n.text().unwrap_or_default().trim().to_string();
                        let role = if ncx {
                            if text.is_empty() {
                                return None;
                            }
                            let label = n.parent().and_then(|t| t.parent()).is_some_and(|p| {
                                ["navLabel", "docTitle"].contains(&p.tag_name().name())
                            });
                            if label { Role::Judged } else { Role::Kept }
                        } else if n.ancestors().any(|p| {
                            ["style", "script", "pre", "code"].contains(&p.tag_name().name())
                        }) {
                            return None;
                        } else if opf {
                            Role::Counted
                        } else {
                            Role::Judged
                        };
                        Some((role, text))
                    })
                    .collect::<Vec<_>>()
            };
            let (ta, tb) = (texts(&xa), texts(&xb));
            if ta.len() != tb.len() {
                return Err(format!("{name}: text node count changed"));
            }
            for ((role, x), (_, y)) in ta.iter().zip(&tb) {
                match role {
                    Role::Judged => cov.add(x, y),
                    Role::Kept if x != y => {
                        return Err(format!("{name}: kept text `{x}` changed"));
                    }
                    Role::Kept | Role::Counted => {}
                }
            }
        } else if da != db {
            return Err(format!("{name}: untouched entry changed"));
        }
    }
    Ok(cov)
}
