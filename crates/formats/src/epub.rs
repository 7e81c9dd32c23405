//! EPUB 2 and 3 books: the XHTML content documents go through the HTML filter, the package
//! document's `dc:title` and `dc:description` are translated and its `dc:language` set to the
//! target, and the EPUB 2 table of contents (NCX: the book title and every `navLabel`, which
//! EPUB 2 readers show as the contents) is translated too; every other entry (images, CSS, fonts,
//! `mimetype`) is copied untouched. (EPUB 3's navigation document is XHTML, handled as content.)
//!
//! The archive is read and rewritten by [`crate::archive::SafeZip`], which enforces the limits
//! (entry count, expanded sizes) and keeps entry order, names, methods and the raw bytes of
//! untouched entries, so an identity round trip returns the input bytes exactly.

use std::collections::BTreeMap;
use std::ops::Range;

use tradia_core::{Content, LanguageTag, Segment};

use crate::archive::{SafeZip, looks_like_zip};
use crate::encoding::{self, Decoded, Unmappable};
use crate::html::{self, HtmlParts};
use crate::markup::{self, CharData, Token};
use crate::splice::{self, Edit, Markup, Slot, SlotBuilder};
use crate::{Document, ExtractOptions, Format, FormatError, MergeOptions, Report, Skeleton};

const MIMETYPE: &[u8] = b"application/epub+zip";

/// Recognises EPUB by its leading `mimetype` entry (or a `.epub` zip).
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    if !looks_like_zip(bytes) {
        return None;
    }
    let head = &bytes[..bytes.len().min(128)];
    let has_mimetype = head.windows(MIMETYPE.len()).any(|w| w == MIMETYPE);
    (has_mimetype || name.to_ascii_lowercase().ends_with(".epub")).then_some(Format::Epub)
}

/// One XHTML content document.
struct ContentDoc {
    entry: usize,
    decoded: Decoded,
    parts: HtmlParts,
    /// Global ids of its segments.
    segments: Range<usize>,
}

/// An XML entry with plain-text fields spliced in place: the NCX table of contents.
struct TextFields {
    entry: usize,
    decoded: Decoded,
    slots: Vec<Slot>,
    segments: Range<usize>,
}

/// The package document and its metadata segments.
struct Package {
    entry: usize,
    decoded: Decoded,
    slots: Vec<Slot>,
    segments: Range<usize>,
    /// Content range of `dc:language` elements.
    languages: Vec<Range<usize>>,
}

/// Extracts an EPUB.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let mut zip = SafeZip::open(bytes, &options.limits)?;
    let opf_path = package_path(&mut zip)?;
    let opf_index = zip.index_of(&opf_path).ok_or_else(|| {
        FormatError::Invalid(format!("{name}: package document `{opf_path}` is missing"))
    })?;
    let opf_bytes = zip.read(opf_index)?;
    let opf_part = format!("{name}/{opf_path}");
    let opf =
        encoding::decode(&opf_part, &opf_bytes, encoding::xml_declared(&opf_bytes).as_deref())?;
    let content_docs =
        manifest_items(&opf.text, &opf_path, &["application/xhtml+xml", "text/html"]);
    let ncx_path =
        manifest_items(&opf.text, &opf_path, &["application/x-dtbncx+xml"]).into_iter().next();
    let mut report = Report::default();
    let mut segments: Vec<Segment> = Vec::new();
    let mut docs = Vec::new();
    // Package metadata first: the book's title is what a reader sees first.
    let (meta_segments, slots, languages) = metadata(&opf_part, &opf.text);
    let package_range = 0..meta_segments.len();
    segments.extend(meta_segments);
    let package =
        Package { entry: opf_index, decoded: opf, slots, segments: package_range, languages };
    let entries: Vec<(usize, String)> =
        zip.entries().iter().map(|e| (e.index, e.name.clone())).collect();
    for (index, entry_name) in entries {
        if !content_docs.contains(&entry_name) {
            continue;
        }
        let data = zip.read(index)?;
        let part = format!("{name}/{entry_name}");
        let decoded = encoding::decode(&part, &data, encoding::html_declared(&data).as_deref())?;
        report.warnings.extend(decoded.warnings.iter().cloned());
        let parts = html::scan(&part, &decoded.text, true, &mut report);
        let first = segments.len();
        for segment in &parts.collected.segments {
            let mut s = segment.clone();
            s.id = segments.len() as u32;
            segments.push(s);
        }
        options.limits.check_segments(segments.len())?;
        docs.push(ContentDoc { entry: index, decoded, parts, segments: first..segments.len() });
    }
    let mut ncx = None;
    if let Some(index) = ncx_path.and_then(|path| zip.index_of(&path)) {
        let data = zip.read(index)?;
        let part = format!("{name}/{}", zip.entries()[index].name);
        let decoded = encoding::decode(&part, &data, encoding::xml_declared(&data).as_deref())?;
        let (found, slots) = ncx_labels(&part, &decoded.text);
        let first = segments.len();
        for mut segment in found {
            segment.id = segments.len() as u32;
            segments.push(segment);
        }
        ncx = Some(TextFields { entry: index, decoded, slots, segments: first..segments.len() });
    }
    let skeleton = EpubSkeleton {
        bytes: bytes.to_vec(),
        limits: options.limits,
        docs,
        package,
        ncx,
        sources: segments.clone(),
    };
    let title = crate::title::from_field(&segments, "dc:title");
    Ok(Document::new(format, segments, report, Box::new(skeleton)).with_title(title, None))
}

/// The package document's path, from `META-INF/container.xml` (or the first `.opf` entry).
fn package_path(zip: &mut SafeZip<'_>) -> Result<String, FormatError> {
    if let Some(index) = zip.index_of("META-INF/container.xml") {
        let data = zip.read(index)?;
        let text = String::from_utf8_lossy(&data);
        for token in markup::tokenize(&text, true) {
            if let Token::Start(tag) = token
                && local(&tag.name) == "rootfile"
                && let Some(path) = tag.value(&text, "full-path")
            {
                return Ok(path.to_string());
            }
        }
    }
    zip.entries()
        .iter()
        .find(|e| e.name.ends_with(".opf"))
        .map(|e| e.name.clone())
        .ok_or_else(|| FormatError::Invalid("EPUB without a package document (.opf)".into()))
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Entry names of the manifest items whose media type is one of `media_types`.
fn manifest_items(opf: &str, opf_path: &str, media_types: &[&str]) -> Vec<String> {
    let dir = opf_path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut out = Vec::new();
    for token in markup::tokenize(opf, true) {
        if let Token::Start(tag) = token
            && local(&tag.name) == "item"
            && tag.value(opf, "media-type").is_some_and(|m| media_types.contains(&m))
            && let Some(href) = tag.value(opf, "href")
        {
            let href = percent_decode(href.split('#').next().unwrap_or_default());
            out.push(join_path(dir, &href));
        }
    }
    out
}

fn join_path(dir: &str, href: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() { Vec::new() } else { dir.split('/').collect() };
    for piece in href.split('/') {
        match piece {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Segments for `dc:title` and `dc:description`, and the `dc:language` content ranges.
fn metadata(part: &str, opf: &str) -> (Vec<Segment>, Vec<Slot>, Vec<Range<usize>>) {
    let tokens = markup::tokenize(opf, true);
    let mut segments = Vec::new();
    let mut slots = Vec::new();
    let mut languages = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Token::Start(tag) = token else { continue };
        let field = tag.name.as_str();
        if tag.self_closing || !matches!(field, "dc:title" | "dc:description" | "dc:language") {
            continue;
        }
        let Some(range) = text_content(&tokens, i) else { continue };
        if field == "dc:language" {
            languages.push(range);
            continue;
        }
        text_field(part, opf, field, range, &mut segments, &mut slots);
    }
    (segments, slots, languages)
}

/// The NCX's book title and entry labels: each `<text>` whose parent is `docTitle` or
/// `navLabel` (`docAuthor` names a person and is kept).
fn ncx_labels(part: &str, ncx: &str) -> (Vec<Segment>, Vec<Slot>) {
    let tokens = markup::tokenize(ncx, true);
    let mut segments = Vec::new();
    let mut slots = Vec::new();
    let mut parent: Option<&str> = None;
    for (i, token) in tokens.iter().enumerate() {
        let Token::Start(tag) = token else { continue };
        let name = local(&tag.name);
        let labelled = matches!(parent, Some("docTitle" | "navLabel"));
        parent = (!tag.self_closing).then_some(name);
        if name != "text" || tag.self_closing || !labelled {
            continue;
        }
        let Some(range) = text_content(&tokens, i) else { continue };
        text_field(part, ncx, &tag.name, range, &mut segments, &mut slots);
    }
    (segments, slots)
}

/// The content range of the element started by `tokens[start]` when it holds only text (no
/// child element, comment or instruction).
fn text_content(tokens: &[Token], start: usize) -> Option<Range<usize>> {
    let Token::Start(tag) = &tokens[start] else { return None };
    match tokens[start + 1..].iter().find(|t| !matches!(t, Token::Text(_) | Token::Cdata(_))) {
        Some(Token::End(end, _)) => Some(tag.range.end..end.start),
        _ => None,
    }
}

/// Adds a segment for the plain text content `range` of element `field`, if it has letters.
fn text_field(
    part: &str,
    src: &str,
    field: &str,
    range: Range<usize>,
    segments: &mut Vec<Segment>,
    slots: &mut Vec<Slot>,
) {
    let mut b = SlotBuilder::new();
    for piece in markup::decode_refs(src, range.clone(), true) {
        match piece {
            CharData::Text(t) => b.text(&t),
            CharData::Unknown(r) => {
                b.standalone(Markup::Source(r));
            }
        }
    }
    let (content, slot) = b.finish(range);
    if content.has_letters() {
        segments.push(Segment {
            id: segments.len() as u32,
            content,
            location: part.to_string(),
            field: field.to_string(),
        });
        slots.push(slot);
    }
}

struct EpubSkeleton {
    bytes: Vec<u8>,
    limits: crate::Limits,
    docs: Vec<ContentDoc>,
    package: Package,
    ncx: Option<TextFields>,
    sources: Vec<Segment>,
}

impl EpubSkeleton {
    /// The edits writing the changed translations of `segments` into their `slots` of `src`.
    fn edits(
        &self,
        src: &str,
        slots: &[Slot],
        segments: &Range<usize>,
        translations: &[Content],
    ) -> Vec<Edit> {
        let mut edits = Vec::new();
        for (k, slot) in slots.iter().enumerate() {
            let id = segments.start + k;
            if translations[id] != self.sources[id].content {
                edits.push(Edit {
                    range: slot.range.clone(),
                    text: splice::render(
                        src,
                        slot,
                        &translations[id],
                        &splice::escape_markup_text,
                        &[],
                    ),
                });
            }
        }
        edits
    }

    fn ncx_bytes(&self, translations: &[Content]) -> Option<(usize, Vec<u8>)> {
        let ncx = self.ncx.as_ref()?;
        let src = &ncx.decoded.text;
        let edits = self.edits(src, &ncx.slots, &ncx.segments, translations);
        if edits.is_empty() {
            return None;
        }
        let text = splice::apply(src, edits);
        Some((ncx.entry, ncx.decoded.encode(&text, Unmappable::CharRef)))
    }

    fn package_bytes(&self, translations: &[Content], target: &LanguageTag) -> Option<Vec<u8>> {
        let p = &self.package;
        let src = &p.decoded.text;
        let mut edits = self.edits(src, &p.slots, &p.segments, translations);
        let any = splice::any_changed(&self.sources, translations);
        if !any {
            return None;
        }
        for range in &p.languages {
            edits.push(Edit { range: range.clone(), text: target.as_str().to_string() });
        }
        let text = splice::apply(src, edits);
        (text != *src).then(|| p.decoded.encode(&text, Unmappable::CharRef))
    }
}

impl Skeleton for EpubSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        splice::check_count(&self.sources, translations)?;
        let mut replacements = BTreeMap::new();
        for doc in &self.docs {
            let slice = &translations[doc.segments.clone()];
            if !splice::any_changed(&self.sources[doc.segments.clone()], slice) {
                continue;
            }
            let text = html::rebuild(&doc.decoded.text, &doc.parts, slice, &options.target)?;
            replacements.insert(doc.entry, doc.decoded.encode(&text, Unmappable::CharRef));
        }
        if let Some(bytes) = self.package_bytes(translations, &options.target) {
            replacements.insert(self.package.entry, bytes);
        }
        if let Some((entry, bytes)) = self.ncx_bytes(translations) {
            replacements.insert(entry, bytes);
        }
        let zip = SafeZip::open(&self.bytes, &self.limits)?;
        zip.rewrite(&replacements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn epub() -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("mimetype", stored).unwrap();
        w.write_all(MIMETYPE).unwrap();
        w.start_file("META-INF/container.xml", deflated).unwrap();
        w.write_all(b"<?xml version=\"1.0\"?><container xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" version=\"1.0\"><rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles></container>").unwrap();
        w.start_file("OEBPS/content.opf", deflated).unwrap();
        w.write_all(b"<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>The Book</dc:title><dc:language>en</dc:language></metadata><manifest><item id=\"c1\" href=\"text/ch%201.xhtml\" media-type=\"application/xhtml+xml\"/><item id=\"css\" href=\"style.css\" media-type=\"text/css\"/><item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/></manifest></package>").unwrap();
        w.start_file("OEBPS/toc.ncx", deflated).unwrap();
        w.write_all(b"<?xml version=\"1.0\"?><ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\"><docTitle><text>The Book</text></docTitle><docAuthor><text>Ann Smith</text></docAuthor><navMap><navPoint id=\"p1\" playOrder=\"1\"><navLabel>\n  <text>Chapter &amp; verse</text>\n</navLabel><content src=\"text/ch%201.xhtml\"/></navPoint></navMap></ncx>").unwrap();
        w.start_file("OEBPS/text/ch 1.xhtml", deflated).unwrap();
        w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\"><head><title>One</title></head><body><p>Hello <em>dear</em> reader.</p></body></html>").unwrap();
        w.start_file("OEBPS/style.css", deflated).unwrap();
        w.write_all(b"p { margin: 0 }").unwrap();
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn epub_round_trips_and_translates_content_and_title() {
        let bytes = epub();
        assert_eq!(sniff("b.bin", &bytes), Some(Format::Epub));
        let d = extract(Format::Epub, "b.epub", &bytes, &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            rendered,
            vec![
                "The Book",
                "One",
                "Hello <g1>dear</g1> reader.",
                "The Book",
                "Chapter &amp; verse"
            ]
        );
        assert_eq!(d.title.as_deref(), Some("The Book"), "the package's dc:title, not a chapter's");
        let opts = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
        assert_eq!(d.merge_identity(&opts).unwrap(), bytes);
        let t: Vec<Content> =
            d.segments.iter().map(|s| tradia_core::pseudo::pseudo_content(&s.content)).collect();
        let out = d.merge(&t, &opts).unwrap();
        let mut zip = SafeZip::open(&out, &crate::Limits::default()).unwrap();
        let names: Vec<String> = zip.entries().iter().map(|e| e.name.clone()).collect();
        assert_eq!(names[0], "mimetype");
        let opf = String::from_utf8(zip.read_by_name("OEBPS/content.opf").unwrap()).unwrap();
        assert!(
            opf.contains("<dc:title>⟦Thé Bóók⟧</dc:title><dc:language>ar</dc:language>"),
            "{opf}"
        );
        let ch = String::from_utf8(zip.read_by_name("OEBPS/text/ch 1.xhtml").unwrap()).unwrap();
        assert!(ch.contains("xml:lang=\"ar\" dir=\"rtl\""), "{ch}");
        assert!(ch.contains("<p>⟦Hélló⟧ <em>⟦déár⟧</em> ⟦réádér.⟧</p>"), "{ch}");
        roxmltree::Document::parse(&ch).unwrap();
        assert_eq!(zip.read_by_name("OEBPS/style.css").unwrap(), b"p { margin: 0 }");
        let ncx = String::from_utf8(zip.read_by_name("OEBPS/toc.ncx").unwrap()).unwrap();
        assert!(ncx.contains("<docTitle><text>⟦Thé Bóók⟧</text></docTitle>"), "{ncx}");
        assert!(ncx.contains("<docAuthor><text>Ann Smith</text></docAuthor>"), "{ncx}");
        assert!(
            ncx.contains("<navLabel>\n  <text>⟦Çháptér &amp; vérsé⟧</text>\n</navLabel>"),
            "{ncx}"
        );
        roxmltree::Document::parse(&ncx).unwrap();
    }
}
