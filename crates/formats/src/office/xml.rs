//! A read-only element tree over one XML part, with the byte range of every node.
//!
//! The office filters never re-serialise XML: they read a part into this tree to *decide* what
//! to translate, then splice new bytes into the original at the recorded ranges. The tree is
//! built from quick-xml events (with end-name checking done here on untrimmed names, so that
//! `</w:p >` stays as it was) and resolves namespace prefixes, because OOXML and ODF
//! vocabularies are told apart by namespace URI, not by prefix.

use std::collections::HashMap;
use std::ops::Range;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::FormatError;

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
        "http://www.w3.org/XML/1998/namespace" => Ns::Xml,
        _ => Ns::Other,
    }
}

/// Index of a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

/// One attribute of an element.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// Namespace of the attribute (unprefixed attributes have none).
    pub ns: Ns,
    /// Local name.
    pub local: String,
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
    /// Qualified name as written.
    pub qname: String,
    /// Resolved namespace.
    pub ns: Ns,
    /// Local name.
    pub local: String,
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

struct OpenElem {
    id: NodeId,
    qname: String,
    pushed_ns: Vec<String>,
}

/// Parses `text` (one part, already known to be UTF-8) into a tree. `part` names it in errors.
pub(crate) fn parse(part: &str, text: &str) -> Result<Tree, FormatError> {
    let mut reader = Reader::from_str(text);
    {
        let config = reader.config_mut();
        config.trim_markup_names_in_closing_tags = false;
        config.check_end_names = false;
        config.expand_empty_elements = false;
        config.trim_text(false);
    }
    let malformed = |offset: usize, message: String| FormatError::Malformed {
        part: part.to_string(),
        offset: offset as u64,
        message,
    };
    let mut nodes: Vec<Node> = Vec::new();
    let mut top: Vec<NodeId> = Vec::new();
    let mut stack: Vec<OpenElem> = Vec::new();
    // prefix -> stack of URIs; "" is the default namespace.
    let mut scopes: HashMap<String, Vec<String>> = HashMap::new();
    let mut text_node: Option<NodeId> = None;
    let mut seen_root = false;

    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            malformed(at, e.to_string())
        })?;
        let end = reader.buffer_position() as usize;
        let range = start..end;
        // Character data: merge into the current text node.
        let char_data: Option<String> = match &event {
            Event::Text(t) => Some(t.xml10_content().into_owned()),
            Event::CData(c) => Some(c.xml10_content().into_owned()),
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch,
                        _ => return Err(malformed(start, "invalid character reference".into())),
                    }
                } else {
                    match &*r.xml10_content() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(malformed(start, format!("undeclared entity `&{other};`")));
                        }
                    }
                };
                Some(resolved.to_string())
            }
            _ => None,
        };
        if let Some(data) = char_data {
            if stack.is_empty() && !data.trim().is_empty() {
                return Err(malformed(start, "text outside the root element".into()));
            }
            match text_node {
                Some(id) => {
                    let node = &mut nodes[id];
                    node.range.end = end;
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
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                if stack.is_empty() {
                    if seen_root {
                        return Err(malformed(start, "more than one root element".into()));
                    }
                    seen_root = true;
                }
                let qname = e.name().into_inner().to_string();
                // Namespace declarations first, then resolve names.
                let mut pushed = Vec::new();
                let mut raw_attrs = Vec::new();
                // Offset of the attribute area inside the tag.
                let attrs_offset = start + 1 + qname.len();
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|err| malformed(start, err.to_string()))?;
                    let key = attr.key.into_inner().to_string();
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| malformed(start, err.to_string()))?
                        .into_owned();
                    if key == "xmlns" {
                        push_scope(&mut scopes, "", &value);
                        pushed.push(String::new());
                    } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                        push_scope(&mut scopes, prefix, &value);
                        pushed.push(prefix.to_string());
                    } else {
                        raw_attrs.push((key, value));
                    }
                }
                let (ns, local) = resolve(&scopes, &qname, true);
                let mut attrs = Vec::with_capacity(raw_attrs.len());
                let tag = &text[start..end];
                let mut search_from = attrs_offset - start;
                for (key, value) in raw_attrs {
                    let (ans, alocal) = resolve(&scopes, &key, false);
                    let (value_range, quote) = locate_attr_value(tag, &key, search_from)
                        .ok_or_else(|| {
                            malformed(start, format!("cannot locate attribute `{key}`"))
                        })?;
                    search_from = value_range.end + 1;
                    attrs.push(Attr {
                        ns: ans,
                        local: alocal,
                        value,
                        value_range: start + value_range.start..start + value_range.end,
                        quote,
                    });
                }
                let id = nodes.len();
                nodes.push(Node {
                    kind: NodeKind::Elem(Elem {
                        qname: qname.clone(),
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
                if is_empty {
                    pop_scopes(&mut scopes, pushed);
                } else {
                    stack.push(OpenElem { id, qname, pushed_ns: pushed });
                }
            }
            Event::End(ref e) => {
                let name = e.name().into_inner().trim_end().to_string();
                let open = stack
                    .pop()
                    .ok_or_else(|| malformed(start, format!("unexpected end tag `</{name}>`")))?;
                if open.qname != name {
                    return Err(malformed(
                        start,
                        format!("end tag `</{name}>` does not match `<{}>`", open.qname),
                    ));
                }
                let node = &mut nodes[open.id];
                node.range.end = end;
                if let NodeKind::Elem(el) = &mut node.kind {
                    el.end_tag = Some(range);
                }
                pop_scopes(&mut scopes, open.pushed_ns);
            }
            Event::DocType(_) => {
                return Err(FormatError::Doctype { part: part.to_string() });
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {
                let id = nodes.len();
                nodes.push(Node { kind: NodeKind::Other, range });
                attach(&mut nodes, &mut top, &stack, id);
            }
            Event::Eof => break,
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(malformed(text.len(), format!("element `<{}>` is not closed", open.qname)));
    }
    if !seen_root {
        return Err(malformed(0, "no root element".into()));
    }
    Ok(Tree { nodes, top })
}

fn attach(nodes: &mut [Node], top: &mut Vec<NodeId>, stack: &[OpenElem], id: NodeId) {
    match stack.last() {
        Some(parent) => {
            if let NodeKind::Elem(e) = &mut nodes[parent.id].kind {
                e.children.push(id);
            }
        }
        None => top.push(id),
    }
}

fn push_scope(scopes: &mut HashMap<String, Vec<String>>, prefix: &str, uri: &str) {
    scopes.entry(prefix.to_string()).or_default().push(uri.to_string());
}

fn pop_scopes(scopes: &mut HashMap<String, Vec<String>>, pushed: Vec<String>) {
    for prefix in pushed {
        if let Some(list) = scopes.get_mut(&prefix) {
            list.pop();
        }
    }
}

fn resolve(scopes: &HashMap<String, Vec<String>>, qname: &str, element: bool) -> (Ns, String) {
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", qname),
    };
    if prefix == "xml" {
        return (Ns::Xml, local.to_string());
    }
    if prefix.is_empty() && !element {
        return (Ns::None, local.to_string());
    }
    let ns = match scopes.get(prefix).and_then(|l| l.last()) {
        Some(uri) if !uri.is_empty() => ns_of_uri(uri),
        _ if prefix.is_empty() => Ns::None,
        _ => Ns::Other,
    };
    (ns, local.to_string())
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

/// True for characters XML 1.0 allows in content.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
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
