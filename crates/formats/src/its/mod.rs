//! Generic XML driven by W3C ITS 2.0: any well-formed XML that no more specific filter claims.
//!
//! What is translatable is decided by ITS data categories ([`rules`]): the rules the document
//! carries (`its:rules`), local markup (`its:translate`…), and a built-in rule set for the
//! vocabulary its root names ([`builtin`]: SVG, Android strings, .NET `.resx`, Qt Linguist `.ts`,
//! DocBook, DITA). Without any rule, ITS defaults apply: every element's text is translatable,
//! no attribute is, and every element is its own flow.
//!
//! Segments are cut from the element index ([`tree`]): a flow element's character data, with
//! its inline (`withinText="yes"`) children as paired codes, is one segment per run between
//! block children; a `nested` child (a footnote) is a standalone code in its parent's segment and
//! a flow of its own; an untranslatable inline child is one standalone code covering it. Outside
//! `preserve` space, runs of whitespace read as one space and the run's edges stay in the
//! skeleton. Translatable attributes are segments of their own. Message-catalogue vocabularies
//! turn `%1$s`, `%d`, `{0}` and Qt's `%1` into codes; Android's backslash escapes are read and
//! written back, and its `<plurals>` get the target language's quantities ([`android`]); Qt's `source` is translated into its `translation`. As in every filter, the
//! output is the input with text spliced in: markup only ever comes from the source bytes.

mod android;
mod builtin;
mod rules;
mod selector;
mod text;
mod tree;

use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::splice::{self, Collected, Edit, InlinePart, Markup, SlotBuilder};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};
use builtin::Vocabulary;
use rules::{Properties, RuleSet, Within};
use text::{android_escape, android_unescape, collapse, message_parts};
use tree::{Child, Tree};

/// Recognises well-formed XML (any vocabulary; the specific XML filters come first).
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    crate::xml::root_name(&head)?;
    let decoded = encoding::decode(name, bytes, encoding::xml_declared(bytes).as_deref()).ok()?;
    crate::xml::check_well_formed(name, &decoded.text).ok().map(|()| Format::Xml)
}

/// Extracts a generic XML document.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, encoding::xml_declared(bytes).as_deref())?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let tree = Tree::parse(name, &decoded.text)?;
    for prefix in &tree.unbound {
        report.warnings.push(format!(
            "{name}: namespace prefix `{prefix}` is declared nowhere; its elements were read as names without a namespace"
        ));
    }
    let vocabulary = Vocabulary::of(&tree);
    let root_ns = tree.elements.first().and_then(|r| r.ns.clone());
    let mut rules = vocabulary.rules(root_ns.as_deref());
    let document_rules = RuleSet::read(&tree, None);
    rules.rules.extend(document_rules.rules);
    rules.warnings.extend(document_rules.warnings);
    report.warnings.extend(rules.warnings.iter().map(|w| format!("{name}: {w}")));
    let props = rules::evaluate(&tree, &rules.rules);
    let mut walker = Walker {
        tree: &tree,
        props: &props,
        vocabulary,
        part: name,
        collected: Collected::default(),
        items: Vec::new(),
        kept: Vec::new(),
    };
    if !tree.elements.is_empty() {
        walker.flow(0, 0);
    }
    let Walker { collected, items, kept, .. } = walker;
    report.kept.extend(kept);
    let mut items = if vocabulary == Vocabulary::QtTs { qt_targets(&tree, items) } else { items };
    if vocabulary == Vocabulary::Android {
        for item in items.iter_mut().filter(|i| i.note.is_none()) {
            item.note = android::comment_before(&tree, &decoded.text, item.owner);
        }
    }
    for (segment, item) in collected.segments.iter().zip(&items) {
        if let Some(note) = &item.note {
            report.notes.insert(segment.id, note.clone());
        }
    }
    let segments = collected.segments.clone();
    let plurals = if vocabulary == Vocabulary::Android {
        android::plurals(&tree, &decoded.text)
    } else {
        Vec::new()
    };
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(ItsSkeleton {
            decoded,
            collected,
            items,
            android: vocabulary == Vocabulary::Android,
            plurals,
        }),
    ))
}

/// Where a segment's translation goes.
#[derive(Debug, Clone)]
enum Place {
    /// Element content, in place.
    Text,
    /// An attribute value with this quote.
    Attr(char),
    /// Qt: the content of the `translation` element (`Full`), an empty `<translation/>` tag to
    /// open (`Empty`), or after `</source>` when there is none (`Insert`).
    Full(Range<usize>),
    Empty(Range<usize>),
    Insert(usize),
}

/// What the skeleton needs per segment besides its slot.
#[derive(Debug, Clone)]
struct Item {
    place: Place,
    /// Nesting in other segments' code markup (rendered innermost first).
    level: usize,
    note: Option<String>,
    /// The element the segment belongs to.
    owner: usize,
}

/// One piece of a text run.
#[derive(Debug, Clone)]
enum RunItem {
    Text { range: Range<usize>, text: String, raw: bool },
    Open(Range<usize>),
    Close(Range<usize>),
    Standalone(Range<usize>),
}

impl RunItem {
    fn range(&self) -> Range<usize> {
        match self {
            RunItem::Text { range, .. }
            | RunItem::Open(range)
            | RunItem::Close(range)
            | RunItem::Standalone(range) => range.clone(),
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, RunItem::Text { text, .. } if crate::xml::is_blank(text))
    }
}

struct Walker<'a> {
    tree: &'a Tree,
    props: &'a Properties,
    vocabulary: Vocabulary,
    part: &'a str,
    collected: Collected,
    items: Vec<Item>,
    kept: Vec<KeptField>,
}

impl Walker<'_> {
    /// Element `index` as a flow: its runs of text and inline children are segments, its block
    /// children flows of their own.
    fn flow(&mut self, index: usize, level: usize) {
        self.attributes(index, level);
        let mut run = Vec::new();
        self.children(index, level, &mut run, 0, index);
        self.flush(index, &mut run, level);
    }

    fn attributes(&mut self, index: usize, level: usize) {
        let element = &self.tree.elements[index];
        for (k, attr) in element.attrs.iter().enumerate() {
            if !self.props.attr_translate[index][k] {
                continue;
            }
            let mut b = SlotBuilder::new();
            self.text_parts(&mut b, attr.range.clone(), &attr.value, false, true, &mut false);
            let (content, slot) = b.finish(attr.range.clone());
            let location = format!("{}: <{}> @{}", self.part, element.qname, attr.qname);
            let field = format!("{}/@{}", element.qname, attr.qname);
            if self.collected.push(content, slot, location, &field) {
                self.items.push(Item {
                    place: Place::Attr(attr.quote),
                    level,
                    note: None,
                    owner: index,
                });
            }
        }
    }

    /// Adds the children of `index` to `run`; `inline` counts the inline elements opened
    /// around them in the run (block children there become nested flows).
    fn children(
        &mut self,
        index: usize,
        level: usize,
        run: &mut Vec<RunItem>,
        inline: usize,
        owner: usize,
    ) {
        let tree = self.tree;
        let translatable = self.props.translate[index];
        for child in &tree.elements[index].children {
            match child {
                Child::Text { range, text, cdata } if translatable => run.push(RunItem::Text {
                    range: range.clone(),
                    text: text.clone(),
                    raw: !cdata,
                }),
                Child::Ref { range, ch } if translatable => run.push(RunItem::Text {
                    range: range.clone(),
                    text: ch.to_string(),
                    raw: false,
                }),
                Child::Other(range) if translatable && !run.is_empty() => {
                    run.push(RunItem::Standalone(range.clone()))
                }
                Child::Text { .. } | Child::Ref { .. } | Child::Other(_) => {}
                Child::Element(c) => {
                    let c = *c;
                    let element = &tree.elements[c];
                    let within = self.props.within[c];
                    if !translatable {
                        self.flush(owner, run, level);
                        self.flow(c, level);
                        continue;
                    }
                    match within {
                        Within::Yes if self.props.translate[c] => {
                            self.attributes(c, level + 1);
                            match &element.end_tag {
                                None => run.push(RunItem::Standalone(element.start_tag.clone())),
                                Some(end) => {
                                    run.push(RunItem::Open(element.start_tag.clone()));
                                    self.children(c, level, run, inline + 1, owner);
                                    run.push(RunItem::Close(end.clone()));
                                }
                            }
                        }
                        Within::Yes | Within::Nested => {
                            run.push(RunItem::Standalone(element.range()));
                            self.flow(c, level + 1);
                        }
                        Within::No if inline > 0 => {
                            run.push(RunItem::Standalone(element.range()));
                            self.flow(c, level + 1);
                        }
                        Within::No => {
                            self.flush(owner, run, level);
                            self.flow(c, level);
                        }
                    }
                }
            }
        }
    }

    /// Turns `run` into a segment of `owner` (if it holds letters) and empties it.
    fn flush(&mut self, owner: usize, run: &mut Vec<RunItem>, level: usize) {
        let mut items = std::mem::take(run);
        while items.first().is_some_and(RunItem::is_blank) {
            items.remove(0);
        }
        while items.last().is_some_and(RunItem::is_blank) {
            items.pop();
        }
        let preserve = self.props.preserve[owner];
        // Trim the edges of raw text at the run's ends (the bytes stay in the skeleton).
        if let Some(RunItem::Text { range, text, raw: true }) = items.first_mut() {
            let kept = text.trim_start_matches([' ', '\t', '\r', '\n']);
            range.start += text.len() - kept.len();
            *text = kept.to_string();
        }
        if let Some(RunItem::Text { range, text, raw: true }) = items.last_mut() {
            let kept = text.trim_end_matches([' ', '\t', '\r', '\n']);
            range.end -= text.len() - kept.len();
            *text = kept.to_string();
        }
        let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
        let range = first.range().start..last.range().end;
        let element = &self.tree.elements[owner];
        let location = format!("{}: <{}>", self.part, element.qname);
        if self.vocabulary == Vocabulary::Android
            && let [RunItem::Text { text, raw: true, .. }] = items.as_slice()
            && text.starts_with(['@', '?'])
        {
            // `@string/name`, `?attr/name`: a reference to another resource, not text.
            self.kept.push(KeptField {
                location,
                field: element.qname.clone(),
                reason: "resource reference".into(),
            });
            return;
        }
        let mut b = SlotBuilder::new();
        // Whether the text added last ends with a collapsed space (runs of whitespace split
        // across pieces, as in `a <!--c--> b` or around a reference, still read as one space).
        let mut space = false;
        for item in &items {
            if !matches!(item, RunItem::Text { .. }) {
                space = false;
            }
            match item {
                RunItem::Text { range, text, raw } => {
                    self.text_parts(&mut b, range.clone(), text, preserve, *raw, &mut space);
                }
                RunItem::Open(r) => {
                    b.open(Markup::Source(r.clone()));
                }
                RunItem::Close(r) => {
                    b.close(Markup::Source(r.clone()));
                }
                RunItem::Standalone(r) => {
                    b.standalone(Markup::Source(r.clone()));
                }
            }
        }
        let (content, slot) = b.finish(range);
        if self.collected.push(content, slot, location, &element.qname) {
            self.items.push(Item {
                place: Place::Text,
                level,
                note: self.props.note[owner].as_deref().map(str::to_string),
                owner,
            });
        }
    }

    /// Adds text `text` (at `range` of the source when `raw`) with placeholders as codes for
    /// message vocabularies, whitespace collapsed unless `preserve`, Android escapes read.
    fn text_parts(
        &self,
        b: &mut SlotBuilder,
        range: Range<usize>,
        text: &str,
        preserve: bool,
        raw: bool,
        space: &mut bool,
    ) {
        let android = self.vocabulary == Vocabulary::Android;
        let add = |b: &mut SlotBuilder, s: &str, space: &mut bool| {
            let s = if android { android_unescape(s) } else { s.to_string() };
            if preserve { b.text(&s) } else { b.text(&collapse(&s, space)) }
        };
        if !(raw && self.vocabulary.placeholders()) {
            add(b, text, space);
            return;
        }
        let mut offset = range.start;
        let mut pending = String::new();
        for part in message_parts(text, self.vocabulary == Vocabulary::QtTs) {
            match part {
                InlinePart::Text(t) => {
                    offset += t.len();
                    pending.push_str(&t);
                }
                InlinePart::Standalone(Markup::Literal(l))
                | InlinePart::Open(_, Markup::Literal(l))
                | InlinePart::Close(_, Markup::Literal(l)) => {
                    if !pending.is_empty() {
                        add(b, &std::mem::take(&mut pending), space);
                    }
                    b.standalone(Markup::Source(offset..offset + l.len()));
                    *space = false;
                    offset += l.len();
                }
                InlinePart::Standalone(_) | InlinePart::Open(..) | InlinePart::Close(..) => {}
            }
        }
        if !pending.is_empty() {
            add(b, &pending, space);
        }
    }
}

/// Qt: each `source` segment is written into its message's `translation`.
fn qt_targets(tree: &Tree, items: Vec<Item>) -> Vec<Item> {
    items
        .into_iter()
        .map(|mut item| {
            let source = &tree.elements[item.owner];
            if !matches!(item.place, Place::Text) || source.local() != "source" {
                return item;
            }
            let translation = source.parent.and_then(|m| {
                tree.elements[m].children.iter().find_map(|c| match c {
                    Child::Element(i) if tree.elements[*i].local() == "translation" => Some(*i),
                    _ => None,
                })
            });
            item.place = match translation.map(|t| &tree.elements[t]) {
                Some(t) => match &t.end_tag {
                    Some(end) => Place::Full(t.start_tag.end..end.start),
                    None => Place::Empty(t.start_tag.clone()),
                },
                None => Place::Insert(source.range().end),
            };
            item
        })
        .collect()
}

struct ItsSkeleton {
    decoded: Decoded,
    collected: Collected,
    items: Vec<Item>,
    android: bool,
    /// Android `<plurals>`, completed with the target's quantities.
    plurals: Vec<android::Plurals>,
}

impl Skeleton for ItsSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let src = &self.decoded.text;
        let segments = &self.collected.segments;
        splice::check_count(segments, translations)?;
        let android = self.android;
        let text_escape = move |t: &str, out: &mut String| {
            if android {
                let mut escaped = String::new();
                android_escape(t, &mut escaped);
                splice::escape_markup_text(&escaped, out);
            } else {
                splice::escape_markup_text(t, out);
            }
        };
        let mut order: Vec<usize> = (0..segments.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.items[i].level));
        let mut edits: Vec<Edit> = Vec::new();
        for i in order {
            if translations[i] == segments[i].content {
                continue;
            }
            let slot = &self.collected.slots[i];
            let item = &self.items[i];
            let body = match item.place {
                Place::Attr('\'') => {
                    splice::render(src, slot, &translations[i], &splice::escape_attr_sq, &edits)
                }
                Place::Attr(_) => {
                    splice::render(src, slot, &translations[i], &splice::escape_attr_dq, &edits)
                }
                _ => splice::render(src, slot, &translations[i], &text_escape, &edits),
            };
            let edit = match &item.place {
                Place::Text | Place::Attr(_) => Edit { range: slot.range.clone(), text: body },
                Place::Full(range) => Edit { range: range.clone(), text: body },
                Place::Empty(tag) => {
                    let open = src[tag.clone()].trim_end_matches("/>").trim_end();
                    Edit { range: tag.clone(), text: format!("{open}>{body}</translation>") }
                }
                Place::Insert(at) => {
                    Edit { range: *at..*at, text: format!("<translation>{body}</translation>") }
                }
            };
            edits.push(edit);
        }
        if !edits.is_empty() {
            let wanted = android::categories(&options.target);
            let mut added = Vec::new();
            for group in &self.plurals {
                let Some((_, other)) = &group.other else { continue };
                // The item's content, translated (an edit may cover exactly all of it).
                let body = match edits.iter().find(|e| e.range == *other) {
                    Some(whole) => whole.text.clone(),
                    None => splice::apply_within(src, other.clone(), &edits),
                };
                let text: String = wanted
                    .iter()
                    .filter(|q| !group.items.iter().any(|(have, _)| have == *q))
                    .map(|q| format!("{}<item quantity=\"{q}\">{body}</item>", group.lead))
                    .collect();
                if !text.is_empty() {
                    added.push(Edit { range: group.insert_at..group.insert_at, text });
                }
            }
            edits.extend(added);
        }
        let text = splice::apply(src, edits);
        Ok(self.decoded.encode(&text, Unmappable::CharRef))
    }
}
