//! TMX 1.4b (Translation Memory eXchange), read and written with inline codes.
//!
//! Why: translation memories move between tools (Trados, OmegaT, Okapi, memoQ) as TMX. Reading
//! maps each translation unit (`<tu>`) to one entry per target variant (`<tuv>`) against the
//! source variant (the header's `srclang`, or the first variant when it is `*all*`); writing
//! gives one `<tu>` per entry.
//!
//! Inline codes: `<bpt>`/`<ept>` (paired, matched by `i`) and `<hi>` become paired codes;
//! `<ph>`, `<it>` and `<ut>` standalone codes; their native content (`<sub>` included) is not
//! kept, since a memory entry holds no markup (the document's skeleton does). Code ids come from
//! the TMX attributes (`x`, else `i`) when they are positive and unique in the source variant,
//! else from order of appearance; a target variant's codes are matched to the source's by `x`,
//! else by order. A unit whose target does not carry exactly the source's codes is skipped, and
//! counted with its reason in [`TmxRead::skipped`].
//!
//! Safety: a DOCTYPE is accepted only without an internal subset (no entity can be defined),
//! and the input size, the units and each segment are bounded ([`TmxLimits`]).

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use tradia_core::{CodeId, Content, LanguageTag, Piece};

/// Bounds on what [`read_tmx`] accepts.
#[derive(Debug, Clone, Copy)]
pub struct TmxLimits {
    /// Most bytes of input.
    pub max_bytes: usize,
    /// Most entries read.
    pub max_entries: usize,
    /// Most bytes of one segment's text.
    pub max_segment_bytes: usize,
}

impl Default for TmxLimits {
    fn default() -> Self {
        TmxLimits { max_bytes: 256 << 20, max_entries: 2_000_000, max_segment_bytes: 64 * 1024 }
    }
}

/// One translation: a source and a target variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmxEntry {
    /// Source language.
    pub source_lang: LanguageTag,
    /// Target language.
    pub target_lang: LanguageTag,
    /// Source segment.
    pub source: Content,
    /// Target segment.
    pub target: Content,
    /// `creationdate` of the unit (`YYYYMMDDThhmmssZ`), if given.
    pub creation_date: Option<String>,
}

/// What [`read_tmx`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TmxRead {
    /// The entries, in document order.
    pub entries: Vec<TmxEntry>,
    /// Units (or variants) left out, with the reason (at most 100 reasons kept; `skipped_count`
    /// counts all).
    pub skipped: Vec<String>,
    /// How many were left out.
    pub skipped_count: usize,
}

/// Why a TMX document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TmxError {
    /// Not well-formed XML (the message says where).
    #[error("the TMX is not well-formed XML: {0}")]
    Xml(String),
    /// Not a TMX document, or a structure TMX does not allow.
    #[error("not a TMX document: {0}")]
    NotTmx(String),
    /// Over a limit of [`TmxLimits`].
    #[error("the TMX is too large: {0}")]
    TooLarge(String),
}

/// A piece of a variant as read, before ids are given.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Text(String),
    /// `<bpt>` or `<hi>`: (matching key within the variant, `x`).
    Open(String, Option<u32>),
    /// `<ept>` or `</hi>`: the key of its opening.
    Close(String),
    /// `<ph>`, `<it>`, `<ut>`: `x`.
    Standalone(Option<u32>),
}

struct Variant {
    lang: String,
    pieces: Vec<Raw>,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, TmxError> {
    for a in e.attributes() {
        let a = a.map_err(|err| TmxError::Xml(err.to_string()))?;
        if a.key.as_ref() == name {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| TmxError::Xml(err.to_string()))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn number(v: Option<String>) -> Option<u32> {
    v.and_then(|s| s.trim().parse().ok()).filter(|n| *n > 0)
}

/// Reads a TMX document (1.4b; 1.1 to 1.3 variants' `lang` attribute too).
pub fn read_tmx(bytes: &[u8], limits: TmxLimits) -> Result<TmxRead, TmxError> {
    if bytes.len() > limits.max_bytes {
        return Err(TmxError::TooLarge(format!("more than {} bytes", limits.max_bytes)));
    }
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut out = TmxRead::default();
    let mut seen_root = false;
    let mut srclang: Option<String> = None;
    // Inside a <tu>: its variants so far and its creation date.
    let mut tu: Option<(Vec<Variant>, Option<String>)> = None;
    // Inside a <tuv>: its language; inside its <seg>: the pieces; depth of native code content
    // (inside bpt/ept/ph/it/ut, whose text is markup, not segment text).
    let mut tuv_lang: Option<String> = None;
    let mut seg: Option<Vec<Raw>> = None;
    let mut native_depth = 0usize;
    let mut hi_stack: Vec<String> = Vec::new();
    let mut hi_count = 0usize;
    let mut seg_bytes = 0usize;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| TmxError::Xml(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::DocType(d) if d.as_ref().contains('[') => {
                return Err(TmxError::NotTmx(
                    "a DOCTYPE with an internal subset is refused".into(),
                ));
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if !seen_root {
                    if name != "tmx" {
                        return Err(TmxError::NotTmx("the root element is not <tmx>".into()));
                    }
                    seen_root = true;
                    continue;
                }
                if native_depth > 0 {
                    native_depth += 1;
                    continue;
                }
                match name.as_str() {
                    "header" => srclang = attr(&e, "srclang")?,
                    "tu" => tu = Some((Vec::new(), attr(&e, "creationdate")?)),
                    "tuv" => {
                        tuv_lang = match attr(&e, "xml:lang")? {
                            Some(l) => Some(l),
                            None => attr(&e, "lang")?,
                        }
                    }
                    "seg" if tuv_lang.is_some() => {
                        seg = Some(Vec::new());
                        hi_stack.clear();
                        seg_bytes = 0;
                    }
                    "bpt" | "ept" | "ph" | "it" | "ut" if seg.is_some() => {
                        let x = number(attr(&e, "x")?);
                        let piece = match name.as_str() {
                            "bpt" => {
                                Raw::Open(format!("i{}", attr(&e, "i")?.unwrap_or_default()), x)
                            }
                            "ept" => Raw::Close(format!("i{}", attr(&e, "i")?.unwrap_or_default())),
                            _ => Raw::Standalone(x),
                        };
                        if let Some(s) = seg.as_mut() {
                            s.push(piece);
                        }
                        native_depth = 1;
                    }
                    "hi" if seg.is_some() => {
                        hi_count += 1;
                        let key = format!("hi{hi_count}");
                        hi_stack.push(key.clone());
                        if let Some(s) = seg.as_mut() {
                            s.push(Raw::Open(key, number(attr(&e, "x")?)));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                if native_depth > 0 {
                    native_depth -= 1;
                    continue;
                }
                match e.name().as_ref() {
                    "hi" => {
                        if let (Some(s), Some(key)) = (seg.as_mut(), hi_stack.pop()) {
                            s.push(Raw::Close(key));
                        }
                    }
                    "seg" => {
                        if let (Some(pieces), Some(lang), Some((variants, _))) =
                            (seg.take(), tuv_lang.clone(), tu.as_mut())
                        {
                            variants.push(Variant { lang, pieces });
                        }
                    }
                    "tuv" => tuv_lang = None,
                    "tu" => {
                        if let Some((variants, date)) = tu.take() {
                            unit_entries(variants, date, srclang.as_deref(), &mut out);
                            if out.entries.len() > limits.max_entries {
                                return Err(TmxError::TooLarge(format!(
                                    "more than {} entries",
                                    limits.max_entries
                                )));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if native_depth == 0 => {
                if let Some(s) = seg.as_mut() {
                    let text = t.xml10_content();
                    seg_bytes += text.len();
                    if seg_bytes > limits.max_segment_bytes {
                        return Err(TmxError::TooLarge(format!(
                            "a segment longer than {} bytes",
                            limits.max_segment_bytes
                        )));
                    }
                    s.push(Raw::Text(text.into_owned()));
                }
            }
            Event::GeneralRef(r) if native_depth == 0 => {
                if let Some(s) = seg.as_mut() {
                    let ch = r
                        .resolve_char_ref()
                        .map_err(|e| TmxError::Xml(e.to_string()))?
                        .or_else(|| {
                            quick_xml::escape::resolve_predefined_entity(r.as_ref())
                                .and_then(|s| s.chars().next())
                        })
                        .ok_or_else(|| TmxError::Xml(format!("unknown entity &{};", r.as_ref())))?;
                    s.push(Raw::Text(ch.to_string()));
                }
            }
            Event::CData(c) if native_depth == 0 => {
                if let Some(s) = seg.as_mut() {
                    s.push(Raw::Text(c.as_ref().to_string()));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(TmxError::NotTmx("no <tmx> element".into()));
    }
    Ok(out)
}

fn skip(out: &mut TmxRead, why: String) {
    out.skipped_count += 1;
    if out.skipped.len() < 100 {
        out.skipped.push(why);
    }
}

/// The entries of one unit: each target variant against the source variant.
fn unit_entries(
    variants: Vec<Variant>,
    date: Option<String>,
    srclang: Option<&str>,
    out: &mut TmxRead,
) {
    let unit = out.entries.len() + out.skipped_count + 1;
    let source_at = match srclang.filter(|s| !s.eq_ignore_ascii_case("*all*")) {
        Some(src) => variants.iter().position(|v| v.lang.eq_ignore_ascii_case(src)),
        None => (!variants.is_empty()).then_some(0),
    };
    let Some(source_at) = source_at else {
        return skip(out, format!("unit {unit}: no variant in the source language"));
    };
    let source = &variants[source_at];
    let Ok(source_lang) = LanguageTag::parse(&source.lang) else {
        return skip(out, format!("unit {unit}: unknown language {:?}", source.lang));
    };
    let Some((source_content, ids)) = source_content(&source.pieces) else {
        return skip(out, format!("unit {unit}: its source's inline codes are not well nested"));
    };
    for (k, target) in variants.iter().enumerate() {
        if k == source_at {
            continue;
        }
        let Ok(target_lang) = LanguageTag::parse(&target.lang) else {
            skip(out, format!("unit {unit}: unknown language {:?}", target.lang));
            continue;
        };
        let content = target_content(&target.pieces, &ids)
            .filter(|c| c.check_codes_against(&source_content).is_ok());
        let Some(target_content) = content else {
            skip(
                out,
                format!("unit {unit} ({}): its inline codes differ from the source's", target.lang),
            );
            continue;
        };
        if source_content.is_empty() || target_content.is_empty() {
            skip(out, format!("unit {unit} ({}): an empty segment", target.lang));
            continue;
        }
        out.entries.push(TmxEntry {
            source_lang: source_lang.clone(),
            target_lang,
            source: source_content.clone(),
            target: target_content,
            creation_date: date.clone(),
        });
    }
}

/// How the source's codes were numbered, for matching a target's.
struct SourceIds {
    by_x: HashMap<u32, CodeId>,
    /// Paired and standalone ids in order of appearance.
    paired: Vec<CodeId>,
    standalone: Vec<CodeId>,
}

fn source_content(pieces: &[Raw]) -> Option<(Content, SourceIds)> {
    // Ids from `x` when every code has a distinct positive one, else in order of appearance.
    let xs: Vec<Option<u32>> = pieces
        .iter()
        .filter_map(|p| match p {
            Raw::Open(_, x) | Raw::Standalone(x) => Some(*x),
            _ => None,
        })
        .collect();
    let mut distinct: Vec<u32> = xs.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let use_x = xs.iter().all(Option::is_some) && distinct.len() == xs.len();
    let mut ids = SourceIds { by_x: HashMap::new(), paired: Vec::new(), standalone: Vec::new() };
    let mut next: CodeId = 1;
    let mut open: HashMap<&str, CodeId> = HashMap::new();
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Raw::Text(t) => out.push(Piece::Text(t.clone())),
            Raw::Open(key, x) => {
                let id = if use_x { x.unwrap_or(next) } else { next };
                next += 1;
                if let Some(x) = x {
                    ids.by_x.insert(*x, id);
                }
                ids.paired.push(id);
                open.insert(key, id);
                out.push(Piece::Open(id));
            }
            Raw::Close(key) => out.push(Piece::Close(open.remove(key.as_str())?)),
            Raw::Standalone(x) => {
                let id = if use_x { x.unwrap_or(next) } else { next };
                next += 1;
                if let Some(x) = x {
                    ids.by_x.insert(*x, id);
                }
                ids.standalone.push(id);
                out.push(Piece::Standalone(id));
            }
        }
    }
    Content::from_pieces(out).ok().map(|c| (c, ids))
}

fn target_content(pieces: &[Raw], ids: &SourceIds) -> Option<Content> {
    let (mut nth_paired, mut nth_standalone) = (0usize, 0usize);
    let mut open: HashMap<&str, CodeId> = HashMap::new();
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Raw::Text(t) => out.push(Piece::Text(t.clone())),
            Raw::Open(key, x) => {
                let id = match x.and_then(|x| ids.by_x.get(&x)) {
                    Some(id) => *id,
                    None => *ids.paired.get(nth_paired)?,
                };
                nth_paired += 1;
                open.insert(key, id);
                out.push(Piece::Open(id));
            }
            Raw::Close(key) => out.push(Piece::Close(open.remove(key.as_str())?)),
            Raw::Standalone(x) => {
                let id = match x.and_then(|x| ids.by_x.get(&x)) {
                    Some(id) => *id,
                    None => *ids.standalone.get(nth_standalone)?,
                };
                nth_standalone += 1;
                out.push(Piece::Standalone(id));
            }
        }
    }
    Content::from_pieces(out).ok()
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn write_seg(content: &Content, out: &mut String) {
    out.push_str("<seg>");
    for p in content.pieces() {
        match p {
            Piece::Text(t) => out.push_str(&escape(t)),
            Piece::Open(id) => out.push_str(&format!("<bpt i=\"{id}\" x=\"{id}\"/>")),
            Piece::Close(id) => out.push_str(&format!("<ept i=\"{id}\"/>")),
            Piece::Standalone(id) => out.push_str(&format!("<ph x=\"{id}\"/>")),
        }
    }
    out.push_str("</seg>");
}

/// Writes entries as a TMX 1.4b document (UTF-8). `srclang` in the header is the entries'
/// source language when they share one, `*all*` otherwise.
pub fn write_tmx(entries: &[TmxEntry], tool_version: &str) -> Vec<u8> {
    let first = entries.first().map(|e| e.source_lang.as_str().to_string());
    let srclang = match first {
        Some(l) if entries.iter().all(|e| e.source_lang.as_str() == l) => l,
        _ => "*all*".to_string(),
    };
    let mut out = String::with_capacity(entries.len() * 200 + 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\">\n");
    out.push_str(&format!(
        "<header creationtool=\"Tradia\" creationtoolversion=\"{}\" segtype=\"sentence\" \
         o-tmf=\"tradia\" adminlang=\"en\" srclang=\"{}\" datatype=\"plaintext\"/>\n<body>\n",
        escape(tool_version),
        escape(&srclang)
    ));
    for e in entries {
        match &e.creation_date {
            Some(d) => out.push_str(&format!("<tu creationdate=\"{}\">", escape(d))),
            None => out.push_str("<tu>"),
        }
        for (lang, content) in [(&e.source_lang, &e.source), (&e.target_lang, &e.target)] {
            out.push_str(&format!("<tuv xml:lang=\"{}\">", escape(lang.as_str())));
            write_seg(content, &mut out);
            out.push_str("</tuv>");
        }
        out.push_str("</tu>\n");
    }
    out.push_str("</body>\n</tmx>\n");
    out.into_bytes()
}

#[cfg(test)]
#[path = "tmx_tests.rs"]
mod tests;
