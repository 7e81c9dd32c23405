//! An index of an XML document's elements by byte range, built from the strict token stream.
//!
//! ITS rules select nodes with XPath expressions (ancestors, attributes, siblings), which a
//! single forward pass cannot always answer (a `.resx` comment comes after the value it notes).
//! This index records, for every element, its names, attributes and children as byte ranges of
//! the original text: enough to evaluate the rules and to cut segments, never a tree that is
//! serialised again.

use std::ops::Range;

use quick_xml::events::Event;

use crate::FormatError;
use crate::xml::{self, StrictReader};

/// An attribute of an element.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// Raw qualified name.
    pub qname: String,
    /// Namespace URI (`None` for unprefixed attributes).
    pub ns: Option<String>,
    /// Decoded value.
    pub value: String,
    /// Byte range of the raw value (inside the quotes).
    pub range: Range<usize>,
    /// The quote character.
    pub quote: char,
}

impl Attr {
    /// The local part of the name.
    pub fn local(&self) -> &str {
        xml::local_name(&self.qname)
    }
}

/// A child of an element, in document order.
#[derive(Debug, Clone)]
pub(crate) enum Child {
    /// An element (index into [`Tree::elements`]).
    Element(usize),
    /// Character data: raw text or CDATA (`range` is the token; `text` the characters it stands
    /// for; `cdata` when the token is a CDATA section).
    Text { range: Range<usize>, text: String, cdata: bool },
    /// A predefined entity or character reference.
    Ref { range: Range<usize>, ch: char },
    /// A comment or processing instruction.
    Other(Range<usize>),
}

/// One element.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// Raw qualified name.
    pub qname: String,
    /// Namespace URI.
    pub ns: Option<String>,
    /// Attributes in order.
    pub attrs: Vec<Attr>,
    /// The start tag (the whole tag for an empty element).
    pub start_tag: Range<usize>,
    /// The end tag; `None` for an empty element.
    pub end_tag: Option<Range<usize>>,
    /// Parent element.
    pub parent: Option<usize>,
    /// Children in order.
    pub children: Vec<Child>,
}

impl Element {
    /// The local part of the name.
    pub fn local(&self) -> &str {
        xml::local_name(&self.qname)
    }

    /// The whole element, from its start tag to the end of its end tag.
    pub fn range(&self) -> Range<usize> {
        let end = self.end_tag.as_ref().map_or(self.start_tag.end, |t| t.end);
        self.start_tag.start..end
    }

    /// The attribute with local name `local` in namespace `ns`.
    pub fn attr(&self, ns: Option<&str>, local: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.ns.as_deref() == ns && a.local() == local)
    }

    /// The namespace declarations on this element: (prefix, uri), "" for the default one.
    pub fn declarations(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attrs.iter().filter_map(|a| {
            if a.qname == "xmlns" {
                Some(("", a.value.as_str()))
            } else {
                a.qname.strip_prefix("xmlns:").map(|p| (p, a.value.as_str()))
            }
        })
    }
}

/// The index of a whole document.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// Every element, in document order (index 0 is the root).
    pub elements: Vec<Element>,
    /// Prefixes used without a declaration (read as namespace-less names).
    pub unbound: Vec<String>,
}

impl Tree {
    /// Reads `text` (file `part`) strictly.
    pub fn parse(part: &str, text: &str) -> Result<Tree, FormatError> {
        let mut reader = StrictReader::new(text, part, 0);
        let mut tree = Tree::default();
        let mut open: Vec<usize> = Vec::new();
        while let Some(token) = reader.next_token()? {
            let range = token.start..token.end;
            let parent = open.last().copied();
            match &token.event {
                Event::Start(_) | Event::Empty(_) => {
                    let mut attrs = Vec::new();
                    for &(key, raw) in reader.raw_attributes() {
                        let Some(start) = reader.offset_in_input(raw) else { continue };
                        let quote = text[..start].chars().next_back().unwrap_or('"');
                        let value = xml::check_attribute_value(raw).unwrap_or_default();
                        attrs.push(Attr {
                            qname: key.to_string(),
                            ns: reader.resolve(key, false).map(str::to_string),
                            value: value.into_owned(),
                            range: start..start + raw.len(),
                            quote,
                        });
                    }
                    let index = tree.elements.len();
                    tree.elements.push(Element {
                        qname: token.name.to_string(),
                        ns: reader.element_namespace().map(str::to_string),
                        attrs,
                        start_tag: range,
                        end_tag: None,
                        parent,
                        children: Vec::new(),
                    });
                    if let Some(p) = parent {
                        tree.elements[p].children.push(Child::Element(index));
                    }
                    if matches!(token.event, Event::Start(_)) {
                        open.push(index);
                    }
                }
                Event::End(_) => {
                    if let Some(index) = open.pop() {
                        tree.elements[index].end_tag = Some(range);
                    }
                }
                Event::Text(_) | Event::CData(_) => {
                    let Some(p) = parent else { continue };
                    let cdata = matches!(token.event, Event::CData(_));
                    let chars = if cdata {
                        text.get(range.start + 9..range.end.saturating_sub(3)).unwrap_or_default()
                    } else {
                        &text[range.clone()]
                    };
                    tree.elements[p].children.push(Child::Text {
                        range,
                        text: chars.to_string(),
                        cdata,
                    });
                }
                Event::GeneralRef(r) => {
                    if let (Some(p), Some(ch)) = (parent, xml::resolve_entity(r)) {
                        tree.elements[p].children.push(Child::Ref { range, ch });
                    }
                }
                Event::Comment(_) | Event::PI(_) => {
                    if let Some(p) = parent {
                        tree.elements[p].children.push(Child::Other(range));
                    }
                }
                _ => {}
            }
        }
        tree.unbound = reader.unbound_prefixes().to_vec();
        Ok(tree)
    }

    /// The namespace bound to `prefix` ("" for the default namespace) in the scope of element
    /// `index`.
    pub fn namespace_in_scope(&self, index: usize, prefix: &str) -> Option<&str> {
        let mut at = Some(index);
        while let Some(i) = at {
            let element = &self.elements[i];
            if let Some((_, uri)) = element.declarations().find(|(p, _)| *p == prefix) {
                return (!uri.is_empty()).then_some(uri);
            }
            at = element.parent;
        }
        None
    }
}
