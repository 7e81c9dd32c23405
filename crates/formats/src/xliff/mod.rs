//! XLIFF 1.x (1.1, 1.2) and 2.x bilingual files: each `<source>` is translated into its
//! `<target>`.
//!
//! The file is read with the shared strict XML tokenizer ([`crate::xml::StrictReader`]: no
//! DOCTYPE, matched tags, byte offsets) and written by splicing: an existing target's content is
//! replaced, a missing one is inserted right after its source with the source's indentation.
//! Inline codes map to the segment model: `g`, `mrk` (1.x) and `pc`, `mrk` (2.x) become paired
//! codes; `x`, `bx`, `ex` and whole `ph`, `bpt`, `ept`, `it` elements (1.x), and `ph`, `sc`, `ec`,
//! `sm`, `em`, `cp` (2.x) become standalone codes; the target receives the source's own code
//! markup, so ids always match. A 1.2 unit segmented by its tool (`<seg-source>` with
//! `<mrk mtype="seg">` markers) is translated marker by marker, and its target mirrors the
//! seg-source: the same markers, each holding its translation. Machine-translated targets are marked for review: 1.x
//! `state="needs-review-translation"` with `state-qualifier="mt-suggestion"` on the target, 2.x
//! `state="translated"` with `subState="tradia:mt"` on the segment; `target-language` (1.x) or
//! `trgLang` (2.x) is set to the target language. Units with `translate="no"` are kept. A unit's
//! `<note>`s (1.x, children of `trans-unit`; 2.x, in `<notes>`) are its segments' note for
//! translators ([`Report::notes`]), which the engine gives the model.

use std::ops::Range;

use quick_xml::events::Event;
use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::markup::{self, Token as MToken};
use crate::splice::{self, Collected, Edit, Markup, SlotBuilder};
use crate::xml::{self, StrictReader};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

/// Recognises XLIFF by its root element, prefixed (`<xlf:xliff xmlns:xlf=…>`) or not.
pub(crate) fn sniff(_name: &str, bytes: &[u8]) -> Option<Format> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let root = xml::root_name(&head)?;
    (xml::local_name(root) == "xliff").then_some(Format::Xliff)
}

/// Where a unit's target is, if it has one.
#[derive(Debug, Clone)]
enum Target {
    /// `<target …>content</target>`: start tag range and content range.
    Full { start_tag: Range<usize>, content: Range<usize> },
    /// `<target …/>`.
    Empty { tag: Range<usize> },
}

#[derive(Debug, Clone)]
struct Unit {
    /// Segment index.
    segment: usize,
    /// Qualified name of the source element (for a new target's name).
    source_name: String,
    /// Where a new target goes (after `</source>` or `</seg-source>`).
    insert_at: usize,
    /// Whitespace before the source start tag on its line.
    indent: String,
    target: Option<Target>,
    /// 2.x: the `<segment>` start tag (for `state`).
    segment_tag: Option<Range<usize>>,
    /// 1.2 `seg-source` segmentation: the content of `<seg-source>`, and each
    /// `<mrk mtype="seg">` with its segment index and content range. The target is the
    /// seg-source content with each marker's content translated.
    segmented: Option<(Range<usize>, Vec<SegMarker>)>,
}

/// A `<mrk mtype="seg">` of a seg-source: its segment index and content range.
type SegMarker = (usize, Range<usize>);

/// Extracts an XLIFF file.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, encoding::xml_declared(bytes).as_deref())?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let scan = scan(name, &decoded.text, &mut report)?;
    let segments = scan.collected.segments.clone();
    Ok(Document::new(format, segments, report, Box::new(XliffSkeleton { decoded, scan })))
}

#[derive(Debug, Default)]
struct Scan {
    collected: Collected,
    units: Vec<Unit>,
    /// Start tags that carry the target language (`file` in 1.x, `xliff` in 2.x).
    lang_tags: Vec<Range<usize>>,
    version2: bool,
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// A unit being read.
#[derive(Debug, Default)]
struct Pending {
    id: String,
    translate: bool,
    source: Option<(Content, splice::Slot, String, usize, String)>,
    insert_at: usize,
    target: Option<Target>,
    target_start: Option<Range<usize>>,
    segment_tag: Option<Range<usize>>,
    /// `<seg-source>` content start, then its range once closed.
    seg_source_start: Option<usize>,
    seg_source: Option<Range<usize>>,
    /// Collected `<mrk mtype="seg">`: content, slot, mid, content range.
    segs: Vec<(Content, splice::Slot, String, Range<usize>)>,
}

fn scan(part: &str, text: &str, report: &mut Report) -> Result<Scan, FormatError> {
    let mut reader = StrictReader::new(text, part, 0);
    let mut out = Scan::default();
    let mut stack: Vec<String> = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut unit_translate = true;
    // `translate` inherited from file, group and unit (None: not one of those elements).
    let mut translate_stack: Vec<Option<bool>> = Vec::new();
    let mut unit_id = String::new();
    // Inside a source being collected: the builder, content start, and the depth of opaque codes.
    let mut source: Option<(SlotBuilder, usize)> = None;
    // Inside a `<mrk mtype="seg">` of a seg-source: builder, content start, depth, mid.
    let mut seg: Option<(SlotBuilder, usize, usize, String)> = None;
    let mut opaque: Option<(usize, usize)> = None; // (start offset, depth)
    // The current unit's notes, the first segment it may have, and an open note's content start.
    let mut unit_notes: Vec<String> = Vec::new();
    let mut unit_first = 0;
    let mut note_start: Option<usize> = None;
    while let Some(token) = reader.next_token()? {
        let (start, end) = (token.start, token.end);
        let lname = local(token.name).to_string();
        let parent = stack.last().map(String::as_str).unwrap_or("");
        if let Some((from, depth)) = opaque.as_mut() {
            match &token.event {
                Event::Start(_) => *depth += 1,
                Event::End(_) => {
                    *depth -= 1;
                    if *depth == 0 {
                        let from = *from;
                        opaque = None;
                        if let Some((b, _)) = source.as_mut() {
                            b.standalone(Markup::Source(from..end));
                        } else if let Some((b, ..)) = seg.as_mut() {
                            b.standalone(Markup::Source(from..end));
                        }
                    }
                }
                _ => {}
            }
            if matches!(token.event, Event::End(_)) {
                stack.pop();
            } else if matches!(token.event, Event::Start(_)) {
                stack.push(lname);
            }
            continue;
        }
        if let Some((b, content_start, depth, _)) = seg.as_mut() {
            match &token.event {
                Event::End(_) if stack.len() == *depth => {
                    let content_start = *content_start;
                    if let Some((b, _, _, mid)) = seg.take() {
                        let (content, slot) = b.finish(content_start..start);
                        if let Some(p) = pending.as_mut() {
                            p.segs.push((content, slot, mid, content_start..start));
                        }
                    }
                    stack.pop();
                    translate_stack.pop();
                }
                Event::Text(_) => b.text(&text[start..end]),
                Event::GeneralRef(r) => {
                    if let Some(c) = xml::resolve_entity(r) {
                        b.text(&c.to_string());
                    }
                }
                Event::CData(_) => {
                    b.text(text.get(start + 9..end.saturating_sub(3)).unwrap_or_default())
                }
                Event::Start(_) => {
                    stack.push(lname.clone());
                    match lname.as_str() {
                        "g" | "mrk" => {
                            b.open(Markup::Source(start..end));
                        }
                        _ => opaque = Some((start, 1)),
                    }
                }
                Event::End(_) => {
                    stack.pop();
                    b.close(Markup::Source(start..end));
                }
                _ => {
                    b.standalone(Markup::Source(start..end));
                }
            }
            continue;
        }
        if let Some((b, content_start)) = source.as_mut() {
            match &token.event {
                Event::End(_) if lname == "source" && stack.len() >= 2 => {
                    let content_start = *content_start;
                    let (b, _) = source.take().unwrap_or_default();
                    let (content, slot) = b.finish(content_start..start);
                    let line_start = text[..content_start].rfind('\n').map_or(0, |p| p + 1);
                    if let Some(p) = pending.as_mut() {
                        let src_start = text[..content_start].rfind('<').unwrap_or(line_start);
                        let indent: String = text[line_start..src_start]
                            .chars()
                            .take_while(|c| c.is_whitespace())
                            .collect();
                        p.source = Some((content, slot, indent, 0, token.name.to_string()));
                        p.insert_at = end;
                    }
                    stack.pop();
                    translate_stack.pop();
                }
                Event::Text(_) => b.text(&text[start..end]),
                Event::GeneralRef(r) => {
                    if let Some(c) = xml::resolve_entity(r) {
                        b.text(&c.to_string());
                    }
                }
                Event::CData(_) => {
                    b.text(text.get(start + 9..end.saturating_sub(3)).unwrap_or_default())
                }
                Event::Start(_) => {
                    stack.push(lname.clone());
                    match lname.as_str() {
                        "g" | "mrk" | "pc" => {
                            b.open(Markup::Source(start..end));
                        }
                        _ => opaque = Some((start, 1)),
                    }
                }
                Event::End(_) => {
                    stack.pop();
                    b.close(Markup::Source(start..end));
                }
                Event::Empty(_) => {
                    b.standalone(Markup::Source(start..end));
                }
                _ => {
                    b.standalone(Markup::Source(start..end));
                }
            }
            continue;
        }
        match &token.event {
            Event::Start(e) | Event::Empty(e) => {
                let is_empty = matches!(token.event, Event::Empty(_));
                let inherited =
                    translate_stack.iter().rev().flatten().next().copied().unwrap_or(true);
                let scoped = matches!(lname.as_str(), "file" | "group" | "unit" | "trans-unit");
                let own = xml::attribute(e, "translate").map(|v| v != "no");
                if !is_empty {
                    translate_stack.push(if scoped {
                        Some(own.unwrap_or(inherited))
                    } else {
                        None
                    });
                }
                match lname.as_str() {
                    "xliff" => {
                        let version = xml::attribute(e, "version").unwrap_or_default().to_string();
                        out.version2 = version.starts_with('2');
                        if out.version2 {
                            out.lang_tags.push(start..end);
                        }
                    }
                    "file" if !out.version2 => out.lang_tags.push(start..end),
                    "note" if matches!(parent, "trans-unit" | "notes") && !is_empty => {
                        note_start = Some(end);
                    }
                    "trans-unit" | "unit" => {
                        unit_notes.clear();
                        unit_first = out.collected.segments.len();
                        unit_translate = own.unwrap_or(inherited);
                        unit_id = xml::attribute(e, "id").unwrap_or_default().to_string();
                        if lname == "trans-unit" {
                            pending = Some(Pending {
                                id: unit_id.clone(),
                                translate: unit_translate,
                                ..Pending::default()
                            });
                        }
                    }
                    "segment" if out.version2 && parent == "unit" => {
                        pending = Some(Pending {
                            id: unit_id.clone(),
                            translate: unit_translate,
                            segment_tag: Some(start..end),
                            ..Pending::default()
                        });
                    }
                    "source" if matches!(parent, "trans-unit" | "segment") && !is_empty => {
                        source = Some((SlotBuilder::new(), end));
                    }
                    "seg-source" if !is_empty && parent == "trans-unit" => {
                        if let Some(p) = pending.as_mut() {
                            p.seg_source_start = Some(end);
                        }
                    }
                    "mrk"
                        if parent == "seg-source"
                            && xml::attribute(e, "mtype").as_deref() == Some("seg")
                            && !is_empty =>
                    {
                        let mid = xml::attribute(e, "mid").unwrap_or_default().to_string();
                        // Pushed below like any element: the depth after that is this marker's.
                        seg = Some((SlotBuilder::new(), end, stack.len() + 1, mid));
                    }
                    "target" if matches!(parent, "trans-unit" | "segment") => {
                        if let Some(p) = pending.as_mut() {
                            if is_empty {
                                p.target = Some(Target::Empty { tag: start..end });
                            } else {
                                p.target_start = Some(start..end);
                            }
                        }
                    }
                    _ => {}
                }
                if !is_empty {
                    stack.push(lname.clone());
                }
            }
            Event::End(_) => {
                stack.pop();
                translate_stack.pop();
                match lname.as_str() {
                    "target"
                        if matches!(
                            stack.last().map(String::as_str),
                            Some("trans-unit" | "segment")
                        ) =>
                    {
                        if let Some(p) = pending.as_mut()
                            && let Some(tag) = p.target_start.take()
                        {
                            p.target =
                                Some(Target::Full { content: tag.end..start, start_tag: tag });
                        }
                    }
                    "seg-source" => {
                        if let Some(p) = pending.as_mut() {
                            p.insert_at = end;
                            if let Some(from) = p.seg_source_start.take() {
                                p.seg_source = Some(from..start);
                            }
                        }
                    }
                    "trans-unit" | "segment" if pending.is_some() => {
                        if let Some(p) = pending.take() {
                            finish_unit(part, p, &mut out);
                        }
                    }
                    "note" => {
                        if let Some(from) = note_start.take() {
                            let raw = &text[from..start];
                            let note = quick_xml::escape::unescape(raw)
                                .map_or_else(|_| raw.to_string(), |c| c.into_owned());
                            let note = note.trim();
                            if !note.is_empty() {
                                unit_notes.push(note.to_string());
                            }
                        }
                    }
                    _ => {}
                }
                if matches!(lname.as_str(), "trans-unit" | "unit") && !unit_notes.is_empty() {
                    let note = unit_notes.join("\n");
                    for segment in out.collected.segments.get(unit_first..).unwrap_or_default() {
                        report.notes.insert(segment.id, note.clone());
                    }
                    unit_notes.clear();
                }
            }
            _ => {}
        }
    }
    for prefix in reader.unbound_prefixes() {
        report.warnings.push(format!(
            "{part}: namespace prefix `{prefix}` is declared nowhere; its elements were read as names without a namespace"
        ));
    }
    Ok(out)
}

fn finish_unit(part: &str, p: Pending, out: &mut Scan) {
    let Some((content, slot, indent, _, source_name)) = p.source else { return };
    if !p.translate {
        return;
    }
    let field = if out.version2 { "segment" } else { "trans-unit" };
    if let Some(seg_source) = p.seg_source.filter(|_| !p.segs.is_empty()) {
        // Segmented by the tool that wrote the file: one segment per marker, mirrored into the
        // target; the whole source is not a segment of its own.
        let mut segs = Vec::new();
        for (content, slot, mid, range) in p.segs {
            let segment = out.collected.segments.len();
            let location = format!("{part}: unit {} segment {mid}", p.id);
            if out.collected.push(content, slot, location, "mrk") {
                segs.push((segment, range));
            }
        }
        if let Some(&(first, _)) = segs.first() {
            out.units.push(Unit {
                segment: first,
                source_name,
                insert_at: p.insert_at,
                indent,
                target: p.target,
                segment_tag: p.segment_tag,
                segmented: Some((seg_source, segs)),
            });
        }
        return;
    }
    let segment = out.collected.segments.len();
    if out.collected.push(content, slot, format!("{part}: unit {}", p.id), field) {
        out.units.push(Unit {
            segment,
            source_name,
            insert_at: p.insert_at,
            indent,
            target: p.target,
            segment_tag: p.segment_tag,
            segmented: None,
        });
    }
}

struct XliffSkeleton {
    decoded: Decoded,
    scan: Scan,
}

/// The text of start tag `range` with attributes set (added when missing).
fn set_attrs(
    src: &str,
    range: Range<usize>,
    attrs: &[(&str, &str)],
    empty_to_open: bool,
) -> String {
    let tag_text = &src[range.clone()];
    let tokens = markup::tokenize(tag_text, true);
    let Some(MToken::Start(tag)) = tokens.into_iter().next() else { return tag_text.to_string() };
    let mut edits: Vec<Edit> = attrs
        .iter()
        .map(|(name, value)| {
            let (range, text) = markup::set_attr_edit(&tag, name, value);
            Edit { range, text }
        })
        .collect();
    // Insertions at the same place keep their order.
    edits.sort_by_key(|e| e.range.start);
    let mut merged: Vec<Edit> = Vec::new();
    for e in edits {
        match merged.last_mut() {
            Some(last)
                if last.range.is_empty()
                    && e.range.is_empty()
                    && last.range.start == e.range.start =>
            {
                last.text.push_str(&e.text)
            }
            _ => merged.push(e),
        }
    }
    let mut out = splice::apply(tag_text, merged);
    if empty_to_open && out.ends_with("/>") {
        out.truncate(out.len() - 2);
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('>');
    }
    out
}

impl Skeleton for XliffSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let src = &self.decoded.text;
        let segments = &self.scan.collected.segments;
        splice::check_count(segments, translations)?;
        let v2 = self.scan.version2;
        let state_attrs: Vec<(&str, &str)> = if v2 {
            vec![("state", "translated"), ("subState", "tradia:mt")]
        } else {
            vec![("state", "needs-review-translation"), ("state-qualifier", "mt-suggestion")]
        };
        let mut edits = Vec::new();
        for unit in &self.scan.units {
            let body = match &unit.segmented {
                Some((seg_source, segs)) => {
                    if segs.iter().all(|(i, _)| translations[*i] == segments[*i].content) {
                        continue;
                    }
                    let seg_edits: Vec<Edit> = segs
                        .iter()
                        .map(|(i, range)| Edit {
                            range: range.clone(),
                            text: splice::render(
                                src,
                                &self.scan.collected.slots[*i],
                                &translations[*i],
                                &splice::escape_markup_text,
                                &[],
                            ),
                        })
                        .collect();
                    splice::apply_within(src, seg_source.clone(), &seg_edits)
                }
                None => {
                    let translation = &translations[unit.segment];
                    if *translation == segments[unit.segment].content {
                        continue;
                    }
                    let slot = &self.scan.collected.slots[unit.segment];
                    splice::render(src, slot, translation, &splice::escape_markup_text, &[])
                }
            };
            let target_attrs: &[(&str, &str)] = if v2 { &[] } else { &state_attrs };
            let target_name = unit.source_name.replace("source", "target");
            match &unit.target {
                Some(Target::Full { start_tag, content }) => {
                    edits.push(Edit { range: content.clone(), text: body });
                    if !v2 {
                        edits.push(Edit {
                            range: start_tag.clone(),
                            text: set_attrs(src, start_tag.clone(), target_attrs, false),
                        });
                    }
                }
                Some(Target::Empty { tag }) => {
                    let open = set_attrs(src, tag.clone(), target_attrs, true);
                    edits.push(Edit {
                        range: tag.clone(),
                        text: format!("{open}{body}</{target_name}>"),
                    });
                }
                None => {
                    let attrs: String =
                        target_attrs.iter().map(|(k, v)| format!(" {k}=\"{v}\"")).collect();
                    let eol = if src.contains("\r\n") { "\r\n" } else { "\n" };
                    let lead = if unit.indent.is_empty() {
                        String::new()
                    } else {
                        format!("{eol}{}", unit.indent)
                    };
                    edits.push(Edit {
                        range: unit.insert_at..unit.insert_at,
                        text: format!("{lead}<{target_name}{attrs}>{body}</{target_name}>"),
                    });
                }
            }
            if v2 && let Some(tag) = &unit.segment_tag {
                edits.push(Edit {
                    range: tag.clone(),
                    text: set_attrs(src, tag.clone(), &state_attrs, false),
                });
            }
        }
        if !edits.is_empty() {
            let name = if v2 { "trgLang" } else { "target-language" };
            for tag in &self.scan.lang_tags {
                edits.push(Edit {
                    range: tag.clone(),
                    text: set_attrs(src, tag.clone(), &[(name, options.target.as_str())], false),
                });
            }
        }
        let text = splice::apply(src, edits);
        Ok(self.decoded.encode(&text, Unmappable::CharRef))
    }
}

#[cfg(test)]
mod tests;
