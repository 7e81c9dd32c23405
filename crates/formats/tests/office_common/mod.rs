//! Helpers shared by the office tests: corpus listing, zip reading, an XML text/structure
//! extraction that is independent of the filters under test.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read};
use std::path::PathBuf;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// The office formats of the corpus.
pub const OFFICE_DIRS: [&str; 6] = ["docx", "pptx", "xlsx", "odt", "odp", "ods"];

/// Files of `$TRADIA_CORPUS/documents/{dir}` for the office dirs, or `None` (with a message) when
/// the variable is unset outside CI. Panics in CI without the corpus.
pub fn corpus_files(test: &str) -> Option<Vec<PathBuf>> {
    let Some(root) = std::env::var_os("TRADIA_CORPUS") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: TRADIA_CORPUS is not set (required when CI=true)");
        }
        eprintln!("{test}: skipped, TRADIA_CORPUS is not set");
        return None;
    };
    let mut files = Vec::new();
    for dir in OFFICE_DIRS {
        let path = PathBuf::from(&root).join("documents").join(dir);
        let entries =
            std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for entry in entries {
            let p = entry.unwrap().path();
            if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "{test}: no office files in the corpus");
    Some(files)
}

/// One zip entry.
pub struct Entry {
    pub name: String,
    pub data: Vec<u8>,
    pub stored: bool,
}

/// All entries of a zip in stored order.
pub fn entries(bytes: &[u8]) -> Vec<Entry> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("entry");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("read entry");
        out.push(Entry {
            name: f.name().expect("name").into_owned(),
            stored: f.compression() == zip::CompressionMethod::Stored,
            data,
        });
    }
    out
}

/// True for entries that are XML.
pub fn is_xml_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".xml") || n.ends_with(".rels")
}

/// Checks well-formedness with quick-xml's own checks (end names, one root).
pub fn well_formed(text: &str) -> Result<(), String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => return Err(format!("at {}: {e}", reader.error_position())),
        }
    }
    if depth != 0 { Err(format!("unbalanced ({depth})")) } else { Ok(()) }
}

/// Elements whose text is visible text, by qualified-name suffix: `w:t`, `a:t`, spreadsheet
/// `t`, and any text inside `text:p`/`text:h`.
fn is_text_holder(name: &str) -> bool {
    matches!(
        name,
        "w:t"
            | "a:t"
            | "t"
            | "x:t"
            | "dc:title"
            | "text:p"
            | "text:h"
            | "p:text"
            | "svg:title"
            | "svg:desc"
    )
}

/// Visible text of a part: the content of text-holding elements (independent of the filters).
pub fn visible_text(text: &str) -> String {
    let mut reader = Reader::from_str(text);
    let mut out = String::new();
    let mut holders: Vec<bool> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Empty(e)) => visible_attrs(&e, &mut out),
            Ok(Event::Start(e)) => {
                visible_attrs(&e, &mut out);
                let holder = is_text_holder(e.name().into_inner());
                let inside = holders.last().copied().unwrap_or(false);
                holders.push(holder || (inside && !e.name().into_inner().starts_with("text:note")));
            }
            Ok(Event::End(_)) => {
                if holders.pop() == Some(true) {
                    out.push('\n');
                }
            }
            Ok(Event::Text(t)) => {
                if holders.last().copied().unwrap_or(false) {
                    out.push_str(&t.xml10_content());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if holders.last().copied().unwrap_or(false) {
                    out.push_str(&format!("&{};", r.xml10_content()));
                }
            }
            Ok(_) => {}
        }
    }
    out
}

/// Visible attribute text: alt text (`descr`) and sheet names.
fn visible_attrs(e: &quick_xml::events::BytesStart<'_>, out: &mut String) {
    let name = e.name().into_inner();
    for a in e.attributes().flatten() {
        let key = a.key.into_inner();
        let visible = key == "descr"
            || (key == "name" && (name == "sheet" || name.ends_with(":sheet")))
            // Table column names are renamed with their header cells.
            || (key == "name" && (name == "tableColumn" || name.ends_with(":tableColumn")))
            || (key == "table:name" && name == "table:table");
        if visible {
            out.push_str(&a.value);
            out.push('\n');
        }
    }
}

/// Elements whose repetition or removal is an expected effect of rebuilding runs.
fn run_level(name: &str) -> bool {
    matches!(
        name,
        "w:r"
            | "w:t"
            | "w:proofErr"
            | "w:lastRenderedPageBreak"
            | "a:r"
            | "a:t"
            | "r"
            | "t"
            | "x:r"
            | "x:t"
            | "text:span"
            | "text:s"
    )
}

/// Elements whose whole subtree is run properties (copied from the source for each new run).
fn run_props(name: &str) -> bool {
    matches!(name, "w:rPr" | "a:rPr" | "rPr" | "x:rPr")
}

/// Whether attribute `key` of element `element` names a language (Word `w:lang`'s three
/// attributes, DrawingML's `lang`): the one value a translation may change outside text.
pub fn is_language_attr(element: &str, key: &str) -> bool {
    element.ends_with(":lang")
        || element == "lang"
        || key == "lang"
        // OpenDocument text properties: `fo:language`, `fo:country`, `style:language-asian`,
        // `style:country-complex`, `style:rfc-language-tag`…
        || (element.ends_with(":text-properties")
            && (key.contains(":language") || key.contains(":country") || key.contains(":rfc-language-tag")))
}

/// The value of attribute `a` of element `element`, or `*` for a language value.
fn masked_value(element: &str, a: &quick_xml::events::attributes::Attribute<'_>) -> String {
    if is_language_attr(element, a.key.into_inner()) { "*".into() } else { a.value.to_string() }
}

/// Every language attribute value of a part, in document order.
pub fn language_values(text: &str) -> Vec<String> {
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name().into_inner().to_string();
                for a in e.attributes().flatten() {
                    if is_language_attr(&name, a.key.into_inner()) {
                        out.push(a.value.to_string());
                    }
                }
            }
            Ok(_) => {}
        }
    }
    out
}

/// The structure of a part outside text: the sequence of element names with attribute names
/// and values (except translatable ones, and language values, shown as `*`), ignoring
/// run-level elements and run properties, and the set of distinct run-property blocks.
pub fn structure(text: &str) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let mut reader = Reader::from_str(text);
    let mut seq = Vec::new();
    let mut props = std::collections::BTreeSet::new();
    let mut in_props: Option<(usize, String)> = None;
    let mut depth = 0usize;
    let translatable_attr = |k: &str| matches!(k, "descr" | "name" | "table:name");
    loop {
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        let is_start = matches!(event, Event::Start(_));
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().into_inner().to_string();
                let value =
                    |a: &quick_xml::events::attributes::Attribute<'_>| masked_value(&name, a);
                if let Some((_, buf)) = &mut in_props {
                    buf.push_str(&format!(
                        "<{}>",
                        String::from_utf8_lossy(e.name().into_inner().as_bytes())
                    ));
                    for a in e.attributes().flatten() {
                        buf.push_str(&format!("{}={};", a.key.into_inner(), value(&a)));
                    }
                } else if run_props(&name) {
                    let mut buf = String::new();
                    for a in e.attributes().flatten() {
                        buf.push_str(&format!("{}={};", a.key.into_inner(), value(&a)));
                    }
                    if is_start {
                        in_props = Some((depth, buf));
                    } else {
                        props.insert(buf);
                    }
                } else if !run_level(&name) {
                    let mut item = name.clone();
                    for a in e.attributes().flatten() {
                        let key = a.key.into_inner();
                        if key.starts_with("xmlns") {
                            continue;
                        }
                        if translatable_attr(key) {
                            item.push_str(&format!(" {key}"));
                        } else {
                            item.push_str(&format!(" {key}={}", value(&a)));
                        }
                    }
                    seq.push(item);
                }
                if is_start {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth -= 1;
                if let Some((d, _)) = &in_props
                    && *d == depth
                {
                    let (_, buf) = in_props.take().unwrap_or_default();
                    props.insert(buf);
                }
            }
            _ => {}
        }
    }
    (seq, props)
}

/// The part with every language attribute value replaced by `*`, everything else as it is.
pub fn mask_languages(text: &str) -> String {
    let mut reader = Reader::from_str(text);
    let mut out = String::with_capacity(text.len());
    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(Event::Eof) | Err(_) => break,
            Ok(e) => e,
        };
        let end = reader.buffer_position() as usize;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().into_inner().to_string();
                out.push('<');
                out.push_str(&name);
                for a in e.attributes().flatten() {
                    out.push_str(&format!(
                        " {}=\"{}\"",
                        a.key.into_inner(),
                        masked_value(&name, &a)
                    ));
                }
                out.push_str(if matches!(event, Event::Empty(_)) { "/>" } else { ">" });
            }
            _ => out.push_str(&text[start..end]),
        }
    }
    out
}
