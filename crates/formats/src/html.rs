//! HTML and XHTML pages: visible text and user-facing attributes, spliced into the original bytes.
//!
//! Block elements bound segments; inline elements (`a`, `b`, `em`, `span`, `br`, `img`…) become
//! inline codes whose markup is copied from the original bytes, so a bold word can move with its
//! translation and a link in the middle of a sentence keeps its target. Only the elements HTML
//! defines as blocks (and the document's structure: `html`, `head`, `body`, tables, lists…) end
//! a sentence: any other element, a custom one (`<x-term>`) or one this filter does not know,
//! is an inline code, so that it never cuts a sentence in two. Text outside any block (a
//! fragment such as `Click <b>here</b>`) is a segment like any other. `script`, `style`, `pre`,
//! `textarea`, `svg`, `math`, and anything marked `translate="no"` or `class="notranslate"` are kept
//! untouched; `code`, `kbd` and `samp` inside a sentence become one standalone code each. The
//! attributes people read are extracted too: `alt`, `title`, `placeholder`, `aria-label`, button
//! `value`s and the meta description. When anything was translated, `lang` (and `xml:lang`) on the
//! root element is set to the target, and `dir="rtl"` is set for right-to-left targets.
//!
//! There is no DOM: [`crate::markup`] gives byte spans and [`crate::splice`] replaces only the text.

use tradia_core::{Content, LanguageTag, Piece};

use crate::encoding::{self, Decoded, Unmappable};
use crate::markup::{self, CharData, StartTag, Token};
use crate::splice::{self, Collected, Edit, Markup, Slot, SlotBuilder};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};

const INLINE_PAIRED: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "data", "del", "dfn", "em", "font",
    "i", "ins", "label", "mark", "nobr", "q", "rb", "rp", "rt", "rtc", "ruby", "s", "small",
    "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var",
];
const INLINE_VOID: &[&str] = &["br", "img", "wbr", "input", "embed"];
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements that end a sentence: HTML's blocks and the document's structure (the elements
/// handled as opaque or protected have their own lists). Any element not listed here or there
/// is inline.
const BLOCK: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "blockquote",
    "body",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "datalist",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "isindex",
    "keygen",
    "legend",
    "li",
    "link",
    "listing",
    "main",
    "map",
    "marquee",
    "menu",
    "menuitem",
    "meta",
    "meter",
    "nav",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "progress",
    "search",
    "section",
    "source",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
];
/// Kept as one standalone code when inside a sentence (and starting one).
const PROTECTED_INLINE: &[&str] = &["code", "kbd", "samp"];
/// Kept as a standalone code inside a sentence, skipped elsewhere.
const OPAQUE: &[&str] =
    &["script", "style", "noscript", "svg", "math", "iframe", "object", "video", "audio", "canvas"];
/// Kept untouched, ending any sentence.
const PROTECTED_BLOCK: &[&str] =
    &["pre", "textarea", "template", "select", "xmp", "plaintext", "noembed", "noframes"];

/// Which kind of slot a segment has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotKind {
    Text,
    Attr(Option<char>),
}

/// What the HTML scan found: segments with slots, and the root element.
#[derive(Debug, Default)]
pub(crate) struct HtmlParts {
    /// Segments and slots.
    pub collected: Collected,
    kinds: Vec<SlotKind>,
    root: Option<StartTag>,
    xhtml: bool,
}

/// Recognises HTML by content: a doctype or an `html`/`head`/`body` element near the start.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    // XML whose root is not an HTML element (a DITA topic has a `<body>`, a DocBook one a
    // `<title>`) is another vocabulary, whatever elements it holds.
    let root = crate::xml::root_name(&String::from_utf8_lossy(head))
        .map(|r| r.to_ascii_lowercase())
        .filter(|r| !r.starts_with("!doctype"));
    if let Some(root) = root
        && !HTML_ROOTS.contains(&root.as_str())
    {
        return None;
    }
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    let text = String::from_utf8_lossy(&lower);
    let starts_with_markup = text.trim_start_matches('\u{feff}').trim_start().starts_with('<');
    if starts_with_markup
        && (has(b"<!doctype html") || has(b"<html") || has(b"<head>") || has(b"<body"))
    {
        return Some(Format::Html);
    }
    let lname = name.to_ascii_lowercase();
    if (lname.ends_with(".html") || lname.ends_with(".htm") || lname.ends_with(".xhtml"))
        && lower.contains(&b'<')
    {
        return Some(Format::Html);
    }
    None
}

/// Elements an HTML page or fragment may start with.
pub(crate) const HTML_ROOTS: [&str; 40] = [
    "html", "head", "body", "meta", "link", "title", "script", "style", "base", "noscript",
    "template", "div", "p", "span", "table", "header", "footer", "nav", "main", "section",
    "article", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "form", "a", "b",
    "i", "em", "strong", "br", "img", "figure",
];

/// Extracts an HTML page.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, encoding::html_declared(bytes).as_deref())?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let xhtml = decoded.text.trim_start().starts_with("<?xml");
    let parts = scan(name, &decoded.text, xhtml, &mut report);
    let segments = parts.collected.segments.clone();
    let declared = encoding::html_declared(decoded.text.as_bytes());
    let title = crate::title::from_field(&segments, "title");
    Ok(Document::new(format, segments, report, Box::new(HtmlSkeleton { decoded, declared, parts }))
        .with_title(title, None))
}

struct HtmlSkeleton {
    decoded: Decoded,
    /// The charset the source declares (see [`encoding::html_declared`]).
    declared: Option<String>,
    parts: HtmlParts,
}

impl Skeleton for HtmlSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let text = rebuild(&self.decoded.text, &self.parts, translations, &options.target)?;
        Ok(self.decoded.encode_as_declared(
            &text,
            self.declared.as_deref(),
            encoding::html_declared(text.as_bytes()).as_deref(),
            Unmappable::CharRef,
        ))
    }
}

struct Current {
    builder: SlotBuilder,
    start: usize,
    end: usize,
    stack: Vec<String>,
    field: String,
}

struct Scanner<'a> {
    part: &'a str,
    src: &'a str,
    line_starts: Vec<usize>,
    parts: HtmlParts,
    cur: Option<Current>,
    pending: Vec<(Content, Slot, String, String, SlotKind)>,
    block: String,
}

/// Scans decoded HTML (or XHTML) text `src` of file or entry `part`.
pub(crate) fn scan(part: &str, src: &str, xhtml: bool, report: &mut Report) -> HtmlParts {
    let tokens = markup::tokenize(src, false);
    let line_starts =
        std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let mut s = Scanner {
        part,
        src,
        line_starts,
        parts: HtmlParts { xhtml, ..HtmlParts::default() },
        cur: None,
        pending: Vec::new(),
        block: "body".to_string(),
    };
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Text(r) => s.text(r.clone()),
            Token::RawText(r) => {
                if s.block == "title" {
                    s.flush();
                    s.text(r.clone());
                    s.flush();
                }
            }
            Token::Comment(r) => {
                if let Some(cur) = s.cur.as_mut() {
                    cur.builder.standalone(Markup::Source(r.clone()));
                    cur.end = r.end;
                }
            }
            Token::Cdata(_) | Token::Declaration(_) | Token::Pi(_) => s.flush(),
            Token::Start(tag) => {
                let name = tag.name.to_ascii_lowercase();
                let no_translate =
                    tag.value(src, "translate").is_some_and(|v| v.eq_ignore_ascii_case("no"))
                        || tag.value(src, "class").is_some_and(|c| {
                            c.split_ascii_whitespace().any(|c| c == "notranslate")
                        });
                let inline = INLINE_VOID.contains(&name.as_str()) || is_paired_inline(&name);
                let protected_inline =
                    PROTECTED_INLINE.contains(&name.as_str()) || (no_translate && inline);
                let opaque = OPAQUE.contains(&name.as_str());
                if protected_inline
                    || opaque
                    || no_translate
                    || PROTECTED_BLOCK.contains(&name.as_str())
                {
                    let end_idx = element_end(&tokens, i, &name, tag.self_closing);
                    let end = tokens[end_idx].range().end;
                    if protected_inline || (opaque && s.cur.is_some()) {
                        let cur = s.current(tag.range.start);
                        cur.builder.standalone(Markup::Source(tag.range.start..end));
                        cur.end = end;
                    } else {
                        s.flush();
                        if !opaque {
                            report.kept.push(KeptField {
                                location: s.location(tag.range.start),
                                field: name.clone(),
                                reason: if no_translate {
                                    "translate=no".into()
                                } else {
                                    "code or preformatted".into()
                                },
                            });
                        }
                    }
                    i = end_idx + 1;
                    continue;
                }
                s.attributes(tag, &name);
                if name == "html" && s.parts.root.is_none() {
                    s.parts.root = Some(tag.clone());
                }
                if is_paired_inline(&name) && !tag.self_closing {
                    let cur = s.current(tag.range.start);
                    cur.builder.open(Markup::Source(tag.range.clone()));
                    cur.stack.push(name);
                    cur.end = tag.range.end;
                } else if inline {
                    let cur = s.current(tag.range.start);
                    cur.builder.standalone(Markup::Source(tag.range.clone()));
                    cur.end = tag.range.end;
                } else {
                    s.flush();
                    if !VOID.contains(&name.as_str()) {
                        s.block = name;
                    }
                }
            }
            Token::End(r, name) => {
                let name = name.to_ascii_lowercase();
                let in_stack = s.cur.as_ref().is_some_and(|c| c.stack.contains(&name));
                if in_stack {
                    let cur = s.cur.as_mut().map(|c| (c.stack.last() == Some(&name), c));
                    match cur {
                        Some((true, cur)) => {
                            cur.stack.pop();
                            cur.builder.close(Markup::Source(r.clone()));
                            cur.end = r.end;
                        }
                        _ => s.flush(),
                    }
                } else if is_paired_inline(&name) || INLINE_VOID.contains(&name.as_str()) {
                    if let Some(cur) = s.cur.as_mut() {
                        cur.builder.standalone(Markup::Source(r.clone()));
                        cur.end = r.end;
                    }
                } else {
                    s.flush();
                    if name == "title" {
                        s.block = "body".into();
                    }
                }
            }
        }
        i += 1;
    }
    s.flush();
    s.parts
}

/// True for an element that is a paired inline code: a known inline element, or any element
/// that is neither a block nor handled apart (custom and unknown elements).
fn is_paired_inline(name: &str) -> bool {
    INLINE_PAIRED.contains(&name)
        || !(BLOCK.contains(&name)
            || VOID.contains(&name)
            || INLINE_VOID.contains(&name)
            || PROTECTED_INLINE.contains(&name)
            || OPAQUE.contains(&name)
            || PROTECTED_BLOCK.contains(&name))
}

/// Index of the token ending the element started at `start` (the start itself for void or
/// self-closing elements; the last token when unclosed).
fn element_end(tokens: &[Token], start: usize, name: &str, self_closing: bool) -> usize {
    if self_closing || VOID.contains(&name) {
        return start;
    }
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(start) {
        match token {
            Token::Start(t) if t.name.eq_ignore_ascii_case(name) && !t.self_closing => depth += 1,
            Token::End(_, n) if n.eq_ignore_ascii_case(name) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    tokens.len() - 1
}

impl Scanner<'_> {
    fn location(&self, offset: usize) -> String {
        let line = self.line_starts.partition_point(|s| *s <= offset);
        format!("{}:{line}", self.part)
    }

    fn current(&mut self, start: usize) -> &mut Current {
        let field = self.block.clone();
        self.cur.get_or_insert_with(|| Current {
            builder: SlotBuilder::new(),
            start,
            end: start,
            stack: Vec::new(),
            field,
        })
    }

    fn text(&mut self, range: std::ops::Range<usize>) {
        if self.cur.is_none() && self.src[range.clone()].trim().is_empty() {
            return;
        }
        let parts = markup::decode_refs(self.src, range.clone(), false);
        let cur = self.current(range.start);
        for part in parts {
            match part {
                CharData::Text(t) => cur.builder.text(&t),
                CharData::Unknown(r) => {
                    cur.builder.standalone(Markup::Source(r));
                }
            }
        }
        cur.end = range.end;
    }

    fn flush(&mut self) {
        if let Some(cur) = self.cur.take() {
            let (content, slot) = cur.builder.finish(cur.start..cur.end);
            let content = collapse_whitespace(&content);
            let location = self.location(cur.start);
            if self.parts.collected.push(content, slot, location, &cur.field) {
                self.parts.kinds.push(SlotKind::Text);
            }
        }
        for (content, slot, location, field, kind) in std::mem::take(&mut self.pending) {
            if self.parts.collected.push(content, slot, location, &field) {
                self.parts.kinds.push(kind);
            }
        }
    }

    fn attributes(&mut self, tag: &StartTag, name: &str) {
        let src = self.src;
        let input_type = tag.value(src, "type").map(str::to_ascii_lowercase);
        let meta_name = tag
            .value(src, "name")
            .or_else(|| tag.value(src, "property"))
            .map(str::to_ascii_lowercase);
        for attr in &tag.attrs {
            let Some((range, quote)) = attr.value.clone() else { continue };
            let a = attr.name.to_ascii_lowercase();
            let wanted = match a.as_str() {
                "alt" => {
                    matches!(name, "img" | "area")
                        || (name == "input" && input_type.as_deref() == Some("image"))
                }
                "title" | "aria-label" => true,
                "placeholder" => matches!(name, "input" | "textarea"),
                "value" => {
                    name == "input"
                        && matches!(input_type.as_deref(), Some("submit" | "button" | "reset"))
                }
                "content" => {
                    name == "meta"
                        && matches!(
                            meta_name.as_deref(),
                            Some(
                                "description"
                                    | "og:description"
                                    | "og:title"
                                    | "twitter:title"
                                    | "twitter:description"
                            )
                        )
                }
                _ => false,
            };
            if !wanted {
                continue;
            }
            let mut b = SlotBuilder::new();
            for part in markup::decode_refs(src, range.clone(), false) {
                match part {
                    CharData::Text(t) => b.text(&t),
                    CharData::Unknown(r) => {
                        b.standalone(Markup::Source(r));
                    }
                }
            }
            let (content, slot) = b.finish(range.clone());
            let entry = (
                content,
                slot,
                self.location(range.start),
                format!("{name}@{a}"),
                SlotKind::Attr(quote),
            );
            if self.cur.is_some() {
                self.pending.push(entry);
            } else if self.parts.collected.push(entry.0, entry.1, entry.2, &entry.3) {
                self.parts.kinds.push(entry.4);
            }
        }
    }
}

/// Collapses interior runs of ASCII whitespace to one space (HTML renders them so); the
/// leading and trailing whitespace of the whole content is kept as it is.
fn collapse_whitespace(content: &Content) -> Content {
    let pieces = content.pieces();
    let n = pieces.len();
    let mapped = pieces.iter().enumerate().map(|(i, p)| match p {
        Piece::Text(t) => {
            let lead_len =
                if i == 0 { t.len() - t.trim_start_matches(is_html_space).len() } else { 0 };
            let trail_len =
                if i + 1 == n { t.len() - t.trim_end_matches(is_html_space).len() } else { 0 };
            if lead_len + trail_len >= t.len() {
                return Piece::Text(if i == 0 || i + 1 == n { t.clone() } else { collapse(t) });
            }
            let mid = &t[lead_len..t.len() - trail_len];
            Piece::Text(format!("{}{}{}", &t[..lead_len], collapse(mid), &t[t.len() - trail_len..]))
        }
        other => other.clone(),
    });
    Content::from_pieces(mapped.collect::<Vec<_>>()).unwrap_or_else(|_| content.clone())
}

fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}')
}

fn collapse(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_space = false;
    for c in t.chars() {
        if is_html_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Rebuilds the text with translations; sets `lang`/`dir` on the root when anything changed.
pub(crate) fn rebuild(
    src: &str,
    parts: &HtmlParts,
    translations: &[Content],
    target: &LanguageTag,
) -> Result<String, FormatError> {
    let segments = &parts.collected.segments;
    splice::check_count(segments, translations)?;
    let mut extra: Vec<Edit> = Vec::new();
    let mut text_edits: Vec<Edit> = Vec::new();
    for (i, translation) in translations.iter().enumerate() {
        let SlotKind::Attr(quote) = parts.kinds[i] else { continue };
        if *translation == segments[i].content {
            continue;
        }
        let slot = &parts.collected.slots[i];
        let text = match quote {
            Some('\'') => splice::render(src, slot, translation, &splice::escape_attr_sq, &[]),
            Some(_) => splice::render(src, slot, translation, &splice::escape_attr_dq, &[]),
            None => format!(
                "\"{}\"",
                splice::render(src, slot, translation, &splice::escape_attr_dq, &[])
            ),
        };
        extra.push(Edit { range: slot.range.clone(), text });
    }
    if splice::any_changed(segments, translations)
        && let Some(root) = &parts.root
    {
        extra.extend(root_edits(root, target, parts.xhtml));
    }
    for (i, translation) in translations.iter().enumerate() {
        if parts.kinds[i] != SlotKind::Text || *translation == segments[i].content {
            continue;
        }
        let slot = &parts.collected.slots[i];
        let text = splice::render(src, slot, translation, &splice::escape_markup_text, &extra);
        text_edits.push(Edit { range: slot.range.clone(), text });
    }
    text_edits.extend(extra);
    Ok(splice::apply(src, text_edits))
}

/// Edits setting `lang` (and `xml:lang`) and `dir` on the root start tag.
fn root_edits(root: &StartTag, target: &LanguageTag, xhtml: bool) -> Vec<Edit> {
    let lang = target.as_str();
    let mut edits = Vec::new();
    let mut insert = String::new();
    let has_lang = root.attr("lang").is_some();
    let has_xml_lang = root.attr("xml:lang").is_some();
    for name in ["lang", "xml:lang"] {
        if root.attr(name).is_some() {
            let (range, text) = markup::set_attr_edit(root, name, lang);
            edits.push(Edit { range, text });
        }
    }
    if !has_lang && !has_xml_lang {
        insert.push_str(&format!(" lang=\"{lang}\""));
        if xhtml {
            insert.push_str(&format!(" xml:lang=\"{lang}\""));
        }
    }
    let want_dir = if target.is_rtl() { "rtl" } else { "ltr" };
    match root.attr("dir") {
        Some(_) => {
            let (range, text) = markup::set_attr_edit(root, "dir", want_dir);
            edits.push(Edit { range, text });
        }
        None if target.is_rtl() => insert.push_str(" dir=\"rtl\""),
        None => {}
    }
    if !insert.is_empty() {
        edits.push(Edit { range: root.attrs_end..root.attrs_end, text: insert });
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::pseudo::pseudo_content;

    fn doc(src: &str) -> Document {
        extract(Format::Html, "t.html", src.as_bytes(), &ExtractOptions::default()).unwrap()
    }

    fn opts(lang: &str) -> MergeOptions {
        MergeOptions { target: LanguageTag::parse(lang).unwrap() }
    }

    #[test]
    fn inline_codes_and_attributes() {
        let src = "<html><head><title>A &amp; B</title><meta name=description content='Site about cats'></head>\
                   <body><p>Open the <b>file</b> menu <img src=x.png alt=\"An icon\"> and\n   read <code>x()</code>.</p>\
                   <pre>keep <b>me</b></pre><script>var p = '<p>no</p>';</script></body></html>";
        let d = doc(src);
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            texts,
            vec![
                "A &amp; B",
                "Site about cats",
                "Open the <g1>file</g1> menu <x2/> and read <x3/>.",
                "An icon",
            ]
        );
        assert_eq!(d.merge_identity(&opts("fr")).unwrap(), src.as_bytes());
    }

    #[test]
    fn bold_word_moves_with_translation_and_link_keeps_target() {
        let src = "<p>Click <a href=\"/help?a=1&amp;b=2\">the help page</a> for a <strong>quick</strong> tour.</p>";
        let d = doc(src);
        assert_eq!(
            d.segments[0].content.render(),
            "Click <g1>the help page</g1> for a <g2>quick</g2> tour."
        );
        let t =
            Content::parse("Pour une visite <g2>rapide</g2>, cliquez sur <g1>la page d’aide</g1>.")
                .unwrap();
        let out = d.merge(&[t], &opts("fr")).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<p>Pour une visite <strong>rapide</strong>, cliquez sur <a href=\"/help?a=1&amp;b=2\">la page d’aide</a>.</p>"
        );
    }

    #[test]
    fn rtl_target_sets_lang_and_dir_on_root() {
        let src = "<!DOCTYPE html>\n<html lang=\"en\">\n<body><p>Hello <i>world</i></p><img alt='A cat'></body></html>";
        let d = doc(src);
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &opts("ar")).unwrap()).unwrap();
        assert_eq!(
            out,
            "<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\">\n<body><p>⟦Hélló⟧ <i>⟦wórld⟧</i></p><img alt='⟦Á çát⟧'></body></html>"
        );
        let src2 = "<html dir=rtl><p>Hi there</p></html>";
        let d = doc(src2);
        let out = d.merge(&[Content::text("Bonjour")], &opts("fr")).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html dir=\"ltr\" lang=\"fr\"><p>Bonjour</p></html>"
        );
    }

    #[test]
    fn attribute_inside_changed_paragraph_is_applied_once() {
        let src = "<p>See <img alt=\"a dog\" src=d.png> here</p>";
        let d = doc(src);
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &opts("fr")).unwrap()).unwrap();
        assert_eq!(out, "<p>⟦Séé⟧ <img alt=\"⟦á dóg⟧\" src=d.png> ⟦héré⟧</p>");
    }

    #[test]
    fn translate_no_and_escaping() {
        let src = "<div translate=\"no\"><p>Brand</p></div><p>Use &lt;tags&gt; &unknown; <span class=notranslate>ACME</span> now</p>";
        let d = doc(src);
        assert_eq!(d.segments.len(), 1);
        assert_eq!(d.segments[0].content.render(), "Use &lt;tags&gt; <x1/> <x2/> now");
        let t = Content::parse("Utilisez &lt;balises&gt; <x1/> <x2/> &amp; co").unwrap();
        let out = String::from_utf8(d.merge(&[t], &opts("fr")).unwrap()).unwrap();
        assert!(out.ends_with("<p>Utilisez &lt;balises&gt; &unknown; <span class=notranslate>ACME</span> &amp; co</p>"), "{out}");
    }

    #[test]
    fn a_bare_inline_run_at_the_top_level_is_translated() {
        for src in [
            "Click <b>here</b> to start.",
            "<b>Warning:</b> the file is <em>large</em>",
            "Hello world",
            "Before <p>inside</p> after <i>it</i>",
            "<body>Top text <a href=x>link</a><div>Block</div>tail text</body>",
        ] {
            let d = doc(src);
            assert!(!d.segments.is_empty(), "{src}");
            assert_eq!(d.merge_identity(&opts("fr")).unwrap(), src.as_bytes(), "{src}");
            let pseudo: Vec<Content> =
                d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
            let out = String::from_utf8(d.merge(&pseudo, &opts("fr")).unwrap()).unwrap();
            let again = doc(&out);
            assert_eq!(again.segments.len(), d.segments.len(), "{src} → {out}");
            for (s, t) in d.segments.iter().zip(&again.segments) {
                assert_eq!(t.content, pseudo_content(&s.content), "{src} → {out}");
            }
        }
        let d = doc("Click <b>here</b> to start.");
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, ["Click <g1>here</g1> to start."]);
    }

    #[test]
    fn an_unknown_or_custom_inline_element_does_not_split_the_sentence() {
        let src = "<p>Press <x-key data-k=\"s\">Ctrl S</x-key> to save <o:p></o:p>the <term>draft</term> now.</p>\
                   <p>Next <my-icon/> line</p><x-card><p>Inside</p></x-card>";
        let d = doc(src);
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            texts,
            [
                "Press <g1>Ctrl S</g1> to save <g2></g2>the <g3>draft</g3> now.",
                "Next <x1/> line",
                "Inside"
            ]
        );
        assert_eq!(d.merge_identity(&opts("fr")).unwrap(), src.as_bytes());
        let t = Content::parse(
            "Appuyez sur <g1>Ctrl S</g1> pour enregistrer <g2></g2>le <g3>brouillon</g3>.",
        )
        .unwrap();
        let out = d
            .merge(&[t, d.segments[1].content.clone(), d.segments[2].content.clone()], &opts("fr"))
            .unwrap();
        assert!(
            String::from_utf8(out).unwrap().starts_with(
                "<p>Appuyez sur <x-key data-k=\"s\">Ctrl S</x-key> pour enregistrer <o:p></o:p>le <term>brouillon</term>.</p>"
            )
        );
    }

    #[test]
    fn charset_quoted_in_translated_title_does_not_change_how_output_reads() {
        // The first charset declaration is text of the title (a browser's prescan still sees
        // it); the translation replaces it, so the page's own `<meta charset="utf-8">` becomes
        // the first declaration and the output must be UTF-8 to read back.
        let src = "<html><head><title>Use <meta charset=\"windows-1252\"> here</title>\
                   <meta charset=\"utf-8\"></head><body><p>Caf\u{e9} cr\u{e8}me</p></body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(src);
        let d = extract(Format::Html, "t.html", &bytes, &ExtractOptions::default()).unwrap();
        assert_eq!(d.segments.len(), 2);
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = d.merge(&pseudo, &opts("fr")).unwrap();
        assert_eq!(encoding::html_declared(&out).as_deref(), Some("utf-8"));
        let text = std::str::from_utf8(&out).expect("written in the encoding it now declares");
        assert!(text.contains("<meta charset=\"utf-8\">"), "{text}");
        let again = extract(Format::Html, "t.html", &out, &ExtractOptions::default()).unwrap();
        assert_eq!(again.segments.len(), 2);
        // Unchanged segments still give back the original bytes.
        assert_eq!(d.merge_identity(&opts("fr")).unwrap(), bytes.into_owned());
    }
}
