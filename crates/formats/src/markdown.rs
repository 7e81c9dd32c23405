//! Markdown (CommonMark with tables, strikethrough, footnotes and task lists).
//!
//! `pulldown-cmark` parses with byte offsets; each paragraph, heading, table cell or tight list
//! item becomes a segment whose range is spliced in the original text, so everything else (code
//! blocks, HTML blocks, link reference definitions, front matter, list markers, setext underlines)
//! stays byte-identical. Emphasis, strong, strikethrough, links and images become paired codes
//! whose markup (`**`, `[`, `![`, `](url "title")`) is copied from the source, so an image's alt
//! text is translated in its sentence; code spans, autolinks, inline HTML and hard breaks become
//! standalone codes. Re-emitting Markdown from a tree would
//! normalise it (setext to ATX, reference links inlined…), which is why nothing is re-emitted.
//!
//! A translated paragraph is written on one line (soft line breaks become spaces), which keeps it
//! inside any container (block quote, list item) whatever the new line lengths.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use tradia_core::{CodeId, Content, Piece, Segment};

use crate::catalog::{Style, write_scalar, yaml_scalars};
use crate::encoding::{self, Decoded, Unmappable};
use crate::html::{self, HtmlParts};
use crate::splice::{self, Collected, Edit, Markup, Slot, SlotBuilder};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};

/// Recognises Markdown: by extension, or by headings, fences or links in the first lines.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let lname = name.to_ascii_lowercase();
    if [".md", ".markdown", ".mdown", ".mkd"].iter().any(|e| lname.ends_with(e)) {
        return Some(Format::Markdown);
    }
    if lname.ends_with(".txt") {
        return None;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    let markdownish = head.lines().filter(|l| {
        let t = l.trim_start();
        (t.starts_with('#') && t.trim_start_matches('#').starts_with(' '))
            || t.starts_with("```")
            || (t.contains("](") && t.contains('['))
    });
    (markdownish.count() >= 2).then_some(Format::Markdown)
}

/// Extracts a Markdown document.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let (collected, kinds, html_blocks) = scan(name, &decoded.text, &mut report);
    let segments = collected.segments.clone();
    // The front matter's `title`, else the first level-one heading.
    let title = crate::title::from_field(&segments, "title")
        .or_else(|| crate::title::from_field(&segments, "h1"));
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(MarkdownSkeleton { decoded, collected, kinds, html_blocks }),
    )
    .with_title(title, None))
}

/// What kind of block a segment comes from (escaping differs in table cells).
#[derive(Debug, Clone, PartialEq, Eq)]
enum LeafKind {
    Block,
    Cell,
    /// A YAML front-matter value (`title`, `description`…), written in its scalar style.
    Front(Style),
    /// Text of a top-level HTML block (index into the HTML blocks), merged by the HTML filter.
    Html(usize),
}

/// A top-level HTML block, extracted by the HTML filter.
struct HtmlBlock {
    range: std::ops::Range<usize>,
    parts: HtmlParts,
    /// Its segments' ids.
    segments: std::ops::Range<usize>,
}

/// Front-matter keys whose values are read by people.
const FRONT_MATTER_TEXT: &[&str] = &["title", "subtitle", "description", "abstract", "summary"];

struct MarkdownSkeleton {
    decoded: Decoded,
    collected: Collected,
    kinds: Vec<LeafKind>,
    html_blocks: Vec<HtmlBlock>,
}

impl Skeleton for MarkdownSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let src = &self.decoded.text;
        splice::check_count(&self.collected.segments, translations)?;
        let mut edits = Vec::new();
        for (i, translation) in translations.iter().enumerate() {
            if *translation == self.collected.segments[i].content {
                continue;
            }
            let slot = &self.collected.slots[i];
            if let LeafKind::Html(_) = &self.kinds[i] {
                continue;
            }
            if let LeafKind::Front(style) = &self.kinds[i] {
                let value = splice::render(src, slot, translation, &splice::escape_none, &[]);
                edits.push(Edit {
                    range: slot.range.clone(),
                    text: write_scalar(&value, style, &|_| false),
                });
                continue;
            }
            let tidy = tidy_pairs(translation);
            let cell = self.kinds[i] == LeafKind::Cell;
            let escape = move |t: &str, out: &mut String| escape_md(t, out, cell);
            let mut text = splice::render(src, slot, &tidy, &escape, &[]);
            let at_line_start =
                src[..slot.range.start].trim_end_matches([' ', '\t']).ends_with('\n')
                    || src[..slot.range.start].trim().is_empty()
                    || !cell;
            if at_line_start {
                protect_line_start(&mut text);
            }
            edits.push(Edit { range: slot.range.clone(), text });
        }
        for block in &self.html_blocks {
            let ids = block.segments.clone();
            if !splice::any_changed(
                &self.collected.segments[ids.clone()],
                &translations[ids.clone()],
            ) {
                continue;
            }
            let text = html::rebuild(
                &src[block.range.clone()],
                &block.parts,
                &translations[ids],
                &options.target,
            )?;
            edits.push(Edit { range: block.range.clone(), text });
        }
        let text = splice::apply(src, edits);
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

struct Leaf {
    builder: SlotBuilder,
    start: Option<usize>,
    end: usize,
    field: String,
    kind: LeafKind,
    /// Paired codes whose opening markup ends where the next event starts.
    open_pending: Vec<(CodeId, usize)>,
    /// A hard break whose markup runs to the next event (taking the next line's prefix).
    break_pending: Option<usize>,
}

impl Leaf {
    fn new(field: &str, kind: LeafKind) -> Self {
        Leaf {
            builder: SlotBuilder::new(),
            start: None,
            end: 0,
            field: field.to_string(),
            kind,
            open_pending: Vec::new(),
            break_pending: None,
        }
    }

    /// Called before adding an event starting at `at`.
    fn before(&mut self, at: usize) {
        if self.start.is_none() {
            self.start = Some(at);
        }
        for (id, from) in self.open_pending.drain(..) {
            self.builder.set_open(id, Markup::Source(from..at));
        }
        if let Some(from) = self.break_pending.take() {
            self.builder.standalone(Markup::Source(from..at));
        }
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
}

fn scan(part: &str, src: &str, report: &mut Report) -> (Collected, Vec<LeafKind>, Vec<HtmlBlock>) {
    let mut html_blocks: Vec<HtmlBlock> = Vec::new();
    // Open containers (block quotes, lists, footnotes): HTML blocks inside them carry the
    // containers' line prefixes, so only top-level HTML blocks are handed to the HTML filter.
    let mut containers = 0usize;
    let mut collected = Collected::default();
    let mut kinds = Vec::new();
    let mut leaf: Option<Leaf> = None;
    let mut field = "p".to_string();
    let mut skip_depth = 0usize;
    let mut skip_until: Option<TagEnd> = None;
    let mut link_types: Vec<LinkType> = Vec::new();
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let location =
        |offset: usize| format!("{part}:{}", line_starts.partition_point(|s| *s <= offset));
    let flush = |leaf: &mut Option<Leaf>, collected: &mut Collected, kinds: &mut Vec<LeafKind>| {
        if let Some(mut l) = leaf.take() {
            let end = l.end;
            if let Some(from) = l.break_pending.take() {
                l.builder.standalone(Markup::Source(from..end));
            }
            let Some(start) = l.start else { return };
            let (content, slot) = l.builder.finish(start..end);
            let text = &src[start..end];
            let fenced_div = text.lines().all(|line| line.trim_start().starts_with(":::"));
            if !fenced_div && collected.push(content, slot, location(start), &l.field) {
                kinds.push(l.kind);
            }
        }
    };
    for (event, range) in Parser::new_ext(src, options()).into_offset_iter() {
        if let Some(end) = &skip_until {
            match &event {
                Event::Start(t) if t.to_end() == *end => skip_depth += 1,
                Event::End(t) if t == end => {
                    skip_depth -= 1;
                    if skip_depth == 0 {
                        skip_until = None;
                    }
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::TableCell
                | Tag::DefinitionListTitle
                | Tag::DefinitionListDefinition => {
                    flush(&mut leaf, &mut collected, &mut kinds);
                    field = match &tag {
                        Tag::Heading { level, .. } => format!("{level}"),
                        Tag::TableCell => "td".into(),
                        _ => "p".into(),
                    };
                    let kind = if matches!(tag, Tag::TableCell) {
                        LeafKind::Cell
                    } else {
                        LeafKind::Block
                    };
                    leaf = Some(Leaf::new(&field, kind));
                }
                Tag::HtmlBlock if containers == 0 => {
                    flush(&mut leaf, &mut collected, &mut kinds);
                    let block_part = format!(
                        "{part}:{} (HTML)",
                        line_starts.partition_point(|s| *s <= range.start)
                    );
                    let parts = html::scan(&block_part, &src[range.clone()], false, report);
                    let first = collected.segments.len();
                    for segment in &parts.collected.segments {
                        collected.segments.push(Segment {
                            id: collected.segments.len() as u32,
                            ..segment.clone()
                        });
                        collected.slots.push(Slot { range: 0..0, codes: Vec::new() });
                        kinds.push(LeafKind::Html(html_blocks.len()));
                    }
                    html_blocks.push(HtmlBlock {
                        range: range.clone(),
                        parts,
                        segments: first..collected.segments.len(),
                    });
                    skip_until = Some(tag.to_end());
                    skip_depth = 1;
                }
                Tag::CodeBlock(_) | Tag::HtmlBlock | Tag::MetadataBlock(_) => {
                    flush(&mut leaf, &mut collected, &mut kinds);
                    if matches!(tag, Tag::MetadataBlock(_)) {
                        front_matter(src, range.clone(), &location, &mut collected, &mut kinds);
                        report.kept.push(KeptField {
                            location: location(range.start),
                            field: "front matter".into(),
                            reason: "metadata".into(),
                        });
                    }
                    skip_until = Some(tag.to_end());
                    skip_depth = 1;
                }
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript => {
                    let l = leaf.get_or_insert_with(|| Leaf::new(&field, LeafKind::Block));
                    l.before(range.start);
                    let id = l.builder.open(Markup::Empty);
                    l.open_pending.push((id, range.start));
                    l.end = range.start;
                }
                // An image's alt text is translated in its sentence, like a link's text: `![`
                // and `](target "title")` are the codes around it.
                Tag::Link { link_type, .. } | Tag::Image { link_type, .. }
                    if !matches!(link_type, LinkType::Autolink | LinkType::Email) =>
                {
                    link_types.push(link_type);
                    let l = leaf.get_or_insert_with(|| Leaf::new(&field, LeafKind::Block));
                    l.before(range.start);
                    let id = l.builder.open(Markup::Empty);
                    l.open_pending.push((id, range.start));
                    l.end = range.start;
                }
                Tag::Link { .. } | Tag::Image { .. } => {
                    let l = leaf.get_or_insert_with(|| Leaf::new(&field, LeafKind::Block));
                    l.before(range.start);
                    l.builder.standalone(Markup::Source(range.clone()));
                    l.end = range.end;
                    skip_until = Some(tag.to_end());
                    skip_depth = 1;
                }
                _ => {
                    flush(&mut leaf, &mut collected, &mut kinds);
                    if matches!(tag, Tag::Item) {
                        field = "li".into();
                    }
                    if matches!(tag, Tag::BlockQuote(_) | Tag::List(_) | Tag::FootnoteDefinition(_))
                    {
                        containers += 1;
                    }
                }
            },
            Event::End(end) => match end {
                TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::FootnoteDefinition => {
                    containers = containers.saturating_sub(1);
                    flush(&mut leaf, &mut collected, &mut kinds);
                }
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image => {
                    let image = end == TagEnd::Image;
                    let link_type =
                        if end == TagEnd::Link || image { link_types.pop() } else { None };
                    // Where the link text starts: after `[`, or `![` for an image.
                    let text_at = range.start + if image { 2 } else { 1 };
                    if let Some(l) = leaf.as_mut() {
                        l.before(l.end);
                        let from = l.end.min(range.end);
                        // `[label]` and `[label][]` name their reference by their text: once the
                        // text is translated the link must name the label explicitly.
                        let label = match link_type {
                            Some(LinkType::Shortcut | LinkType::ShortcutUnknown) => {
                                src.get(text_at..range.end.saturating_sub(1))
                            }
                            Some(LinkType::Collapsed | LinkType::CollapsedUnknown) => {
                                src.get(text_at..range.end.saturating_sub(3))
                            }
                            _ => None,
                        };
                        let markup = match label {
                            Some(label) => Markup::Literal(format!("][{label}]")),
                            None => Markup::Source(from..range.end),
                        };
                        l.builder.close(markup);
                        l.end = range.end;
                    }
                }
                _ => flush(&mut leaf, &mut collected, &mut kinds),
            },
            Event::Text(text) => {
                let l = leaf.get_or_insert_with(|| Leaf::new(&field, LeafKind::Block));
                l.before(range.start);
                l.builder.text(&text);
                l.end = range.end;
            }
            Event::SoftBreak => {
                if let Some(l) = leaf.as_mut() {
                    l.before(range.start);
                    l.builder.text(" ");
                    l.end = range.end;
                }
            }
            Event::HardBreak => {
                if let Some(l) = leaf.as_mut() {
                    l.before(range.start);
                    l.break_pending = Some(range.start);
                    l.end = range.end;
                }
            }
            Event::Code(_)
            | Event::InlineHtml(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::FootnoteReference(_)
            | Event::TaskListMarker(_) => {
                let l = leaf.get_or_insert_with(|| Leaf::new(&field, LeafKind::Block));
                l.before(range.start);
                l.builder.standalone(Markup::Source(range.clone()));
                l.end = range.end;
            }
            Event::Html(_) | Event::Rule => flush(&mut leaf, &mut collected, &mut kinds),
        }
    }
    flush(&mut leaf, &mut collected, &mut kinds);
    (collected, kinds, html_blocks)
}

/// Segments for the human-readable values of a YAML front matter block at `range`.
fn front_matter(
    src: &str,
    range: std::ops::Range<usize>,
    location: &dyn Fn(usize) -> String,
    collected: &mut Collected,
    kinds: &mut Vec<LeafKind>,
) {
    let block = &src[range.clone()];
    if !block.starts_with("---") {
        return;
    }
    let Some(first_nl) = block.find('\n') else { return };
    let start = range.start + first_nl + 1;
    let body = &src[start..range.end];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| body[i..].starts_with("---") || body[i..].starts_with("..."))
        .unwrap_or(body.len());
    let Ok(scalars) = yaml_scalars(&body[..end]) else { return };
    for scalar in scalars {
        if !FRONT_MATTER_TEXT.contains(&scalar.path.as_str()) {
            continue;
        }
        let range = start + scalar.range.start..start + scalar.range.end;
        let (content, slot) = splice::placeholder_slot(&scalar.value, range.clone());
        if collected.push(content, slot, location(range.start), &scalar.path) {
            kinds.push(LeafKind::Front(scalar.style));
        }
    }
}

/// Moves whitespace just inside a paired code to outside it (`** word**` is not bold).
fn tidy_pairs(content: &Content) -> Content {
    let mut pieces: Vec<Piece> = content.pieces().to_vec();
    let mut i = 0;
    while i + 1 < pieces.len() {
        if let (Piece::Open(_), Piece::Text(t)) = (&pieces[i], &pieces[i + 1]) {
            let trimmed = t.trim_start();
            if trimmed.len() != t.len() {
                let ws = t[..t.len() - trimmed.len()].to_string();
                pieces[i + 1] = Piece::Text(trimmed.to_string());
                pieces.insert(i, Piece::Text(ws));
                i += 1;
            }
        }
        if let (Piece::Text(t), Piece::Close(_)) = (&pieces[i], &pieces[i + 1]) {
            let trimmed = t.trim_end();
            if trimmed.len() != t.len() {
                let ws = t[trimmed.len()..].to_string();
                pieces[i] = Piece::Text(trimmed.to_string());
                pieces.insert(i + 2, Piece::Text(ws));
            }
        }
        i += 1;
    }
    Content::from_pieces(pieces).unwrap_or_else(|_| content.clone())
}

/// Escapes Markdown-significant characters in translated text.
fn escape_md(text: &str, out: &mut String, cell: bool) {
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let needs = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' => true,
            '_' => !(prev.is_alphanumeric() && next.is_alphanumeric()),
            '~' => next == '~' || prev == '~',
            '|' => cell,
            '&' => {
                let rest: String = chars[i + 1..].iter().take(32).collect();
                rest.split(';').next().is_some_and(|n| {
                    rest.contains(';')
                        && !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '#')
                })
            }
            '\n' => {
                out.push(' ');
                continue;
            }
            _ => false,
        };
        if needs {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Escapes what would start a block at the start of a line (`#`, `>`, `-`, `+`, `1.`).
fn protect_line_start(text: &mut String) {
    let lead = text.len() - text.trim_start().len();
    let rest = &text[lead..];
    let first = rest.chars().next();
    match first {
        Some('#' | '>' | '-' | '+' | '=') => text.insert(lead, '\\'),
        Some(c) if c.is_ascii_digit() => {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if matches!(rest[digits..].chars().next(), Some('.' | ')')) {
                text.insert(lead + digits, '\\');
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;
    use tradia_core::pseudo::pseudo_content;

    fn doc(src: &str) -> Document {
        extract(Format::Markdown, "t.md", src.as_bytes(), &ExtractOptions::default()).unwrap()
    }

    fn fr() -> MergeOptions {
        MergeOptions { target: LanguageTag::parse("fr").unwrap() }
    }

    #[test]
    fn segments_and_codes() {
        let src = "---\ntitle: Hello\n---\n\nSetext *title*\n=====\n\n> Read the [manual](http://x.org \"T\") and run\n> `cargo build` now.\n\n```\ncode here\n```\n\n| Col A | Col B |\n|---|---|\n| one | **two** |\n\n- item ![img](a.png) one\n- item two\n";
        let d = doc(src);
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            texts,
            vec![
                "Hello",
                "Setext <g1>title</g1>",
                "Read the <g1>manual</g1> and run <x2/> now.",
                "Col A",
                "Col B",
                "one",
                "<g1>two</g1>",
                "item <g1>img</g1> one",
                "item two"
            ]
        );
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &fr()).unwrap()).unwrap();
        assert!(
            out.contains(
                "> ⟦Réád thé⟧ [⟦máñúál⟧](http://x.org \"T\") ⟦áñd rúñ⟧ `cargo build` ⟦ñów.⟧\n"
            ),
            "{out}"
        );
        assert!(out.contains("⟦Sétéxt⟧ *⟦títlé⟧*\n====="), "{out}");
        assert!(out.starts_with("---\ntitle: ⟦Hélló⟧\n---\n"), "{out}");
    }

    #[test]
    fn bold_word_moved_and_link_in_the_middle() {
        let src = "Save the **file** before [closing](https://e.org/close) the window.\n";
        let d = doc(src);
        assert_eq!(
            d.segments[0].content.render(),
            "Save the <g1>file</g1> before <g2>closing</g2> the window."
        );
        let t = Content::parse(
            "Avant de <g2>fermer</g2> la fenêtre, enregistrez le <g1> fichier </g1>.",
        )
        .unwrap();
        let out = String::from_utf8(d.merge(&[t], &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "Avant de [fermer](https://e.org/close) la fenêtre, enregistrez le  **fichier** .\n"
        );
    }

    #[test]
    fn top_level_html_blocks_go_through_the_html_filter() {
        let src =
            "Intro text.\n\n<p align=\"center\">Hello <b>there</b></p>\n\n> <div>quoted</div>\n";
        let d = doc(src);
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, vec!["Intro text.", "Hello <g1>there</g1>"]);
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let t = vec![Content::text("Intro."), Content::parse("Bonjour <g1>toi</g1>").unwrap()];
        let out = String::from_utf8(d.merge(&t, &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "Intro.\n\n<p align=\"center\">Bonjour <b>toi</b></p>\n\n> <div>quoted</div>\n"
        );
    }

    #[test]
    fn escaping_keeps_text_literal() {
        let src = "Hello world\n";
        let d = doc(src);
        let out = d.merge(&[Content::text("# 1. *not* <b> a_b _c_")], &fr()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\\# 1. \\*not\\* \\<b> a_b \\_c\\_\n");
    }

    #[test]
    fn image_alt_text_is_translated_and_targets_kept() {
        let src = "![A red cat](cat.png \"Cat\")\n\nClick ![the save icon][save] to save.\n\n![logo]\n\n[save]: img/save.png\n[logo]: img/logo.png\n";
        let d = doc(src);
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            texts,
            vec!["<g1>A red cat</g1>", "Click <g1>the save icon</g1> to save.", "<g1>logo</g1>"]
        );
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let t = vec![
            Content::parse("<g1>Un chat roux</g1>").unwrap(),
            Content::parse("Cliquez sur <g1>l'icône d'enregistrement</g1>.").unwrap(),
            Content::parse("<g1>logotype</g1>").unwrap(),
        ];
        let out = String::from_utf8(d.merge(&t, &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "![Un chat roux](cat.png \"Cat\")\n\nCliquez sur ![l'icône d'enregistrement][save].\n\n![logotype][logo]\n\n[save]: img/save.png\n[logo]: img/logo.png\n"
        );
    }
}
