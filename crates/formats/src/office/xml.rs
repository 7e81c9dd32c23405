//! A read-only element tree over one XML part, with the byte range of every node.
//!
//! The office filters never re-serialise XML: they read a part into this tree to *decide* what
//! to translate, then splice new bytes into the original at the recorded ranges. The tree is
//! built from the shared strict tokenizer ([`crate::xml::StrictReader`]) and resolves namespace
//! prefixes, because OOXML and ODF vocabularies are told apart by namespace URI, not by prefix.

use std::ops::Range;

use quick_xml::events::Event;

use crate::FormatError;
use crate::xml::{StrictReader, check_attribute_value, is_xml_char, resolve_entity};

/// The namespaces the office filters care about; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ns {
    /// No namespace.
    None,
    /// WordprocessingML main.
    W,
    /// DrawingML main.
    A,
    /// PresentationML main.
    P,
    /// SpreadsheetML main.
    S,
    /// Markup compatibility.
    Mc,
    /// Dublin Core elements.
    Dc,
    /// Excel threaded comments.
    Tc,
    /// ODF text.
    Text,
    /// ODF office.
    Office,
    /// ODF drawing.
    Draw,
    /// ODF table.
    Table,
    /// ODF SVG-compatible.
    Svg,
    /// ODF presentation.
    Presentation,
    /// ODF style.
    Style,
    /// ODF XSL-FO compatible attributes (`fo:language`, `fo:country`).
    Fo,
    /// The `xml:` prefix.
    Xml,
    /// Any other namespace.
    Other,
}

fn ns_of_uri(uri: &str) -> Ns {
    match uri {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        | "http://purl.oclc.org/ooxml/wordprocessingml/main" => Ns::W,
        "http://schemas.openxmlformats.org/drawingml/2006/main"
        | "http://purl.oclc.org/ooxml/drawingml/main" => Ns::A,
        "http://schemas.openxmlformats.org/presentationml/2006/main"
        | "http://purl.oclc.org/ooxml/presentationml/main" => Ns::P,
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        | "http://purl.oclc.org/ooxml/spreadsheetml/main" => Ns::S,
        "http://schemas.openxmlformats.org/markup-compatibility/2006" => Ns::Mc,
        "http://purl.org/dc/elements/1.1/" => Ns::Dc,
        "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments" => Ns::Tc,
        "urn:oasis:names:tc:opendocument:xmlns:text:1.0" => Ns::Text,
        "urn:oasis:names:tc:opendocument:xmlns:office:1.0" => Ns::Office,
        "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" => Ns::Draw,
        "urn:oasis:names:tc:opendocument:xmlns:table:1.0" => Ns::Table,
        "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" => Ns::Svg,
        "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" => Ns::Presentation,
        "urn:oasis:names:tc:opendocument:xmlns:style:1.0" => Ns::Style,
        "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" => Ns::Fo,
        "http://www.w3.org/XML/1998/namespace" => Ns::Xml,
        _ => Ns::Other,
    }
}

/// An element or attribute name, stored once per part however many nodes carry it: a part of
/// millions of `w:p`/`w:r`/`w:t` elements holds three names, not millions of strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Name(std::rc::Rc<str>);

impl Name {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The names of one part, each stored once.
#[derive(Default)]
struct Names(std::collections::HashSet<std::rc::Rc<str>>);

impl Names {
    fn get(&mut self, name: &str) -> Name {
        if let Some(known) = self.0.get(name) {
            return Name(known.clone());
        }
        let new: std::rc::Rc<str> = name.into();
        self.0.insert(new.clone());
        Name(new)
    }
}

/// Index of a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

/// One attribute of an element.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// Namespace of the attribute (unprefixed attributes have none).
    pub ns: Ns,
    /// Local name (shared by every attribute of that name in the part).
    pub local: Name,
    /// Decoded value.
    pub value: String,
    /// Byte range of the raw value, between the quotes.
    pub value_range: Range<usize>,
    /// The quote character used.
    pub quote: u8,
}

/// An element.
#[derive(Debug, Clone)]
pub(crate) struct Elem {
    /// Qualified name as written (shared by every element of that name in the part).
    pub qname: Name,
    /// Resolved namespace.
    pub ns: Ns,
    /// Local name (shared likewise).
    pub local: Name,
    /// Byte range of the start tag (or of the whole empty-element tag).
    pub start_tag: Range<usize>,
    /// Byte range of the end tag (`None` for `<empty/>`).
    pub end_tag: Option<Range<usize>>,
    /// Children in order.
    pub children: Vec<NodeId>,
    /// Attributes in order (namespace declarations excluded).
    pub attrs: Vec<Attr>,
}

impl Elem {
    /// True for namespace `ns` and local name `local`.
    pub fn is(&self, ns: Ns, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// The value of attribute `ns:local`.
    pub fn attr(&self, ns: Ns, local: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.ns == ns && a.local == local)
    }

    /// The value of attribute `ns:local` as a string.
    pub fn attr_value(&self, ns: Ns, local: &str) -> Option<&str> {
        self.attr(ns, local).map(|a| a.value.as_str())
    }

    /// Bytes between the start and end tags (empty at the tag's end for `<empty/>`).
    pub fn inner(&self) -> Range<usize> {
        match &self.end_tag {
            Some(end) => self.start_tag.end..end.start,
            None => self.start_tag.end..self.start_tag.end,
        }
    }

    /// The prefix of the qualified name including the colon (`w:`), or empty.
    pub fn prefix(&self) -> &str {
        match self.qname.find(':') {
            Some(i) => &self.qname[..=i],
            None => "",
        }
    }
}

/// What a node is.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// An element.
    Elem(Elem),
    /// Character data (text, references and CDATA merged), decoded.
    Text(String),
    /// Comment, processing instruction or declaration.
    Other,
}

/// A node with its whole byte range.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Kind and details.
    pub kind: NodeKind,
    /// Whole byte range (start tag to end tag for elements).
    pub range: Range<usize>,
}

/// The tree of one part.
#[derive(Debug)]
pub(crate) struct Tree {
    /// All nodes; the document's top-level nodes are in `top`.
    pub nodes: Vec<Node>,
    /// Top-level nodes (prolog items and the root element).
    pub top: Vec<NodeId>,
}

impl Tree {
    /// The element at `id`, if it is one.
    pub fn elem(&self, id: NodeId) -> Option<&Elem> {
        match &self.nodes[id].kind {
            NodeKind::Elem(e) => Some(e),
            _ => None,
        }
    }

    /// The root element.
    pub fn root(&self) -> Option<NodeId> {
        self.top.iter().copied().find(|&id| self.elem(id).is_some())
    }

    /// Element children of `id`.
    pub fn child_elems(&self, id: NodeId) -> impl Iterator<Item = (NodeId, &Elem)> + '_ {
        let children: &[NodeId] = self.elem(id).map_or(&[], |e| e.children.as_slice());
        children.iter().filter_map(move |&c| self.elem(c).map(|e| (c, e)))
    }

    /// First element child with `ns:local`.
    pub fn child(&self, id: NodeId, ns: Ns, local: &str) -> Option<(NodeId, &Elem)> {
        self.child_elems(id).find(|(_, e)| e.is(ns, local))
    }

    /// All descendants of `id` (pre-order, `id` excluded).
    pub fn descendants(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = match self.elem(id) {
            Some(e) => e.children.iter().rev().copied().collect(),
            None => Vec::new(),
        };
        while let Some(n) = stack.pop() {
            out.push(n);
            if let Some(e) = self.elem(n) {
                stack.extend(e.children.iter().rev().copied());
            }
        }
        out
    }

    /// Concatenated text of all descendants.
    pub fn text_of(&self, id: NodeId) -> String {
        let mut out = String::new();
        for n in self.descendants(id) {
            if let NodeKind::Text(t) = &self.nodes[n].kind {
                out.push_str(t);
            }
        }
        out
    }
}

/// Parses `full` (one part, already known to be UTF-8) into a tree. `part` names it in errors.
///
/// Tokenizing and the well-formedness and security checks (no DOCTYPE, matching end tags,
/// predefined entities only, bound prefixes, bounded depth) are the shared
/// [`crate::xml::StrictReader`]'s; this adds the tree and resolves namespaces to [`Ns`].
pub(crate) fn parse(part: &str, full: &str) -> Result<Tree, FormatError> {
    let (text, base) = match full.strip_prefix('\u{feff}') {
        Some(rest) => (rest, full.len() - rest.len()),
        None => (full, 0),
    };
    let mut reader = StrictReader::new(text, part, base);
    let mut nodes: Vec<Node> = Vec::new();
    let mut top: Vec<NodeId> = Vec::new();
    let mut stack: Vec<NodeId> = Vec::new();
    let mut text_node: Option<NodeId> = None;
    let mut names = Names::default();
    while let Some(token) = reader.next_token()? {
        let range = token.start + base..token.end + base;
        let char_data: Option<String> = match &token.event {
            Event::Text(t) => Some(t.xml10_content().into_owned()),
            Event::CData(c) => Some(c.xml10_content().into_owned()),
            Event::GeneralRef(r) => {
                let name: &str = r;
                let ch = resolve_entity(name).ok_or_else(|| {
                    reader.error_at(token.start, format!("undefined entity `&{name};`"))
                })?;
                Some(ch.to_string())
            }
            _ => None,
        };
        if let Some(data) = char_data {
            match text_node {
                Some(id) => {
                    let node = &mut nodes[id];
                    node.range.end = range.end;
                    if let NodeKind::Text(t) = &mut node.kind {
                        t.push_str(&data);
                    }
                }
                None => {
                    let id = nodes.len();
                    nodes.push(Node { kind: NodeKind::Text(data), range });
                    attach(&mut nodes, &mut top, &stack, id);
                    text_node = Some(id);
                }
            }
            continue;
        }
        text_node = None;
        match &token.event {
            Event::Start(e) | Event::Empty(e) => {
                let qname = names.get(token.name);
                let ns = reader.resolve(&qname, true).map_or(Ns::None, ns_of_uri);
                let local = names.get(local_of(&qname));
                let tag = &full[range.clone()];
                let mut search_from = 1 + qname.len();
                let mut attrs = Vec::new();
                for attr in e.attributes().flatten() {
                    let key: &str = attr.key.into_inner();
                    let (value_range, quote) = locate_attr_value(tag, key, search_from)
                        .ok_or_else(|| {
                            reader.error_at(token.start, format!("cannot locate attribute `{key}`"))
                        })?;
                    search_from = value_range.end + 1;
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let value = check_attribute_value(&attr.value)
                        .map_err(|m| {
                            reader.error_at(token.start, format!("attribute `{key}`: {m}"))
                        })?
                        .into_owned();
                    let ans = if key.contains(':') {
                        reader.resolve(key, false).map_or(Ns::Other, ns_of_uri)
                    } else {
                        Ns::None
                    };
                    attrs.push(Attr {
                        ns: ans,
                        local: names.get(local_of(key)),
                        value,
                        value_range: range.start + value_range.start..range.start + value_range.end,
                        quote,
                    });
                }
                let id = nodes.len();
                nodes.push(Node {
                    kind: NodeKind::Elem(Elem {
                        qname,
                        ns,
                        local,
                        start_tag: range.clone(),
                        end_tag: None,
                        children: Vec::new(),
                        attrs,
                    }),
                    range,
                });
                attach(&mut nodes, &mut top, &stack, id);
                if matches!(token.event, Event::Start(_)) {
                    stack.push(id);
                }
            }
            Event::End(_) => {
                // The reader checked that it matches.
                if let Some(id) = stack.pop() {
                    let node = &mut nodes[id];
                    node.range.end = range.end;
                    if let NodeKind::Elem(el) = &mut node.kind {
                        el.end_tag = Some(range);
                    }
                }
            }
            _ => {
                let id = nodes.len();
                nodes.push(Node { kind: NodeKind::Other, range });
                attach(&mut nodes, &mut top, &stack, id);
            }
        }
    }
    Ok(Tree { nodes, top })
}

fn local_of(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, l)| l)
}

fn attach(nodes: &mut [Node], top: &mut Vec<NodeId>, stack: &[NodeId], id: NodeId) {
    match stack.last() {
        Some(&parent) => {
            if let NodeKind::Elem(e) = &mut nodes[parent].kind {
                e.children.push(id);
            }
        }
        None => top.push(id),
    }
}

/// Finds the value of attribute `key` in tag text `tag`, starting at byte `from`; returns the
/// value's range (inside the quotes) and the quote.
fn locate_attr_value(tag: &str, key: &str, from: usize) -> Option<(Range<usize>, u8)> {
    let bytes = tag.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        // Skip whitespace.
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            if bytes[i] == b'>' || bytes[i] == b'/' {
                return None;
            }
            i += 1;
        }
        let name = &tag[name_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let value_end = value_start + bytes[value_start..].iter().position(|&b| b == quote)?;
        if name == key {
            return Some((value_start..value_end, quote));
        }
        i = value_end + 1;
    }
    None
}

/// Escapes text for element content.
pub(crate) fn escape_text(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// Escapes text for an attribute value delimited by `quote`.
pub(crate) fn escape_attr(text: &str, quote: u8, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quote == b'"' => out.push_str("&quot;"),
            '\'' if quote == b'\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_namespaces() {
        let src = "<?xml version=\"1.0\"?>\n<w:doc xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:p a = 'x&amp;y'>T&amp;<![CDATA[<c>]]></w:p ><e/></w:doc>";
        let tree = parse("t.xml", src).unwrap();
        let root = tree.root().unwrap();
        let (p, pe) = tree.child_elems(root).next().unwrap();
        assert!(pe.is(Ns::W, "p"));
        assert_eq!(
            &src[tree.nodes[p].range.clone()],
            "<w:p a = 'x&amp;y'>T&amp;<![CDATA[<c>]]></w:p >"
        );
        let a = pe.attr(Ns::None, "a").unwrap();
        assert_eq!(a.value, "x&y");
        assert_eq!(&src[a.value_range.clone()], "x&amp;y");
        assert_eq!(tree.text_of(p), "T&<c>");
    }

    #[test]
    fn errors_are_reported() {
        assert!(matches!(parse("x", "<a><b></a>"), Err(FormatError::Malformed { .. })));
        assert!(matches!(
            parse("x", "<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"),
            Err(FormatError::Doctype { .. })
        ));
        assert!(parse("x", "<a>&unknown;</a>").is_err());
        assert!(parse("x", "<a>").is_err());
    }
}
