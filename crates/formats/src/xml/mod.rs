//! Strict, offset-keeping XML tokenizing shared by the XML-based filters.
//!
//! Why not use quick-xml directly: filters splice translations into the original bytes, so they
//! need every token's exact byte range, and quick-xml is deliberately lenient. [`StrictReader`]
//! wraps it configured for fidelity (closing-tag names are not trimmed, so `</a >` keeps its
//! space) and adds the checks a hostile upload needs:
//!
//! * a DOCTYPE is refused outright ([`FormatError::Doctype`]): no external entities (XXE), no
//!   entity expansion (billion laughs); only the five predefined entities and character
//!   references are accepted, anything else is an undefined entity;
//! * end tags must match their start tags (checked here, on the raw names);
//! * exactly one root element, no text outside it, every element closed;
//! * attributes are checked (duplicates, quoting, `<` in values, entity references);
//! * namespace prefixes are resolved per element scope, declarations on inner elements included.
//!   A prefix declared nowhere in the document (a tool's private element written without its
//!   declaration) is read as part of a namespace-less name, which is unambiguous, and listed in
//!   [`StrictReader::unbound_prefixes`] for the report; an undeclared prefix on the root (the
//!   vocabulary cannot be told) or one declared elsewhere in the document (used outside its
//!   declaration's scope: which namespace was meant?) is refused, naming the prefix.
//!
//! Every error names the part (file or archive entry) and a byte offset, never a line number:
//! Scenari items are often one very long line.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::FormatError;

/// Namespace of the XML prefix, bound by definition.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Deepest element nesting accepted (real documents stay far below; this bounds recursion in
/// filters and checkers).
pub(crate) const MAX_DEPTH: usize = 512;

/// One token with its byte range in the original input.
#[derive(Debug)]
pub(crate) struct Token<'a> {
    /// The event.
    pub event: Event<'a>,
    /// Offset of its first byte.
    pub start: usize,
    /// Offset just past its last byte.
    pub end: usize,
    /// The raw qualified name of a start, empty or end tag (trailing spaces of an end tag
    /// excluded); empty for other tokens.
    pub name: &'a str,
}

/// A resolved namespace: the predefined `xml` one or a binding in scope.
#[derive(Clone, Copy)]
enum NsRef {
    Xml,
    Binding(usize),
}

/// A checking tokenizer over a UTF-8 document; see the module documentation.
pub(crate) struct StrictReader<'a> {
    reader: Reader<&'a [u8]>,
    text: &'a str,
    part: &'a str,
    base: usize,
    /// Raw names of the open elements.
    open: Vec<&'a str>,
    /// Namespace bindings in scope: (prefix, uri); "" is the default namespace.
    bindings: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// For each open element, the length of `bindings` before its own declarations.
    scope_marks: Vec<usize>,
    /// Attributes of the last start or empty tag: raw name and raw value (reused buffer).
    attrs: Vec<(&'a str, &'a str)>,
    /// Namespace of the last start or empty tag.
    element_ns: Option<NsRef>,
    /// Scope to drop at the next call (after an empty element).
    pending_pop: bool,
    seen_root: bool,
    done: bool,
    /// Prefixes used without any declaration in the document, read as namespace-less names.
    unbound: Vec<String>,
}

impl<'a> StrictReader<'a> {
    /// Tokenizes `text`; offsets in tokens and errors are shifted by `base` (the length of a
    /// byte-order mark stripped by the caller) and errors name `part`.
    pub fn new(text: &'a str, part: &'a str, base: usize) -> Self {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.trim_markup_names_in_closing_tags = false;
        config.check_end_names = false;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
        config.allow_dangling_amp = false;
        StrictReader {
            reader,
            text,
            part,
            base,
            open: Vec::new(),
            bindings: Vec::new(),
            scope_marks: Vec::new(),
            attrs: Vec::new(),
            element_ns: None,
            pending_pop: false,
            seen_root: false,
            done: false,
            unbound: Vec::new(),
        }
    }

    /// A well-formedness error at byte `offset` (relative to the text given to [`new`]).
    ///
    /// [`new`]: StrictReader::new
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> FormatError {
        FormatError::Malformed {
            part: self.part.to_string(),
            offset: (offset + self.base) as u64,
            message: message.into(),
        }
    }

    /// The namespace URI of `qname` (an element name when `element`, else an attribute name)
    /// in the current scope. Unprefixed attributes have no namespace.
    pub fn resolve(&self, qname: &str, element: bool) -> Option<&str> {
        self.lookup(qname, element).map(|ns| self.uri(ns))
    }

    /// The namespace URI of the last start or empty tag returned (as [`resolve`] gives it,
    /// computed once when the tag was read).
    ///
    /// [`resolve`]: StrictReader::resolve
    pub fn element_namespace(&self) -> Option<&str> {
        self.element_ns.map(|ns| self.uri(ns))
    }

    fn uri(&self, ns: NsRef) -> &str {
        match ns {
            NsRef::Xml => XML_NS,
            NsRef::Binding(i) => self.bindings[i].1.as_ref(),
        }
    }

    fn lookup(&self, qname: &str, element: bool) -> Option<NsRef> {
        let prefix = match memchr::memchr(b':', qname.as_bytes()) {
            Some(colon) => &qname[..colon],
            None if element => "",
            None => return None,
        };
        if prefix == "xml" {
            return Some(NsRef::Xml);
        }
        let i = self.bindings.iter().rposition(|(p, _)| p == prefix)?;
        (!self.bindings[i].1.is_empty()).then_some(NsRef::Binding(i))
    }

    /// The next token, or `None` at the end of a well-formed document.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>, FormatError> {
        if self.done {
            return Ok(None);
        }
        if self.pending_pop {
            self.pending_pop = false;
            self.pop_scope();
        }
        let start = self.reader.buffer_position() as usize;
        let event = match self.reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let offset = self.reader.error_position() as usize;
                return Err(self.error_at(offset, error.to_string()));
            }
        };
        let end = self.reader.buffer_position() as usize;
        let mut token_name: &'a str = "";
        match &event {
            Event::DocType(_) => {
                return Err(FormatError::Doctype { part: self.part.to_string() });
            }
            Event::Start(e) | Event::Empty(e) => {
                if self.open.is_empty() {
                    if self.seen_root {
                        return Err(self.error_at(start, "a second root element"));
                    }
                    self.seen_root = true;
                }
                let len = e.name().into_inner().len();
                let name: &'a str = self.text.get(start + 1..start + 1 + len).unwrap_or("");
                token_name = name;
                self.check_name(name, start)?;
                self.push_scope(e, start)?;
                self.element_ns = self.lookup(name, true);
                if self.element_ns.is_none() && name.contains(':') {
                    self.accept_unbound(name, start, self.open.is_empty())?;
                }
                if matches!(event, Event::Start(_)) {
                    if self.open.len() >= MAX_DEPTH {
                        return Err(self.error_at(
                            start,
                            format!("elements nested deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    self.open.push(name);
                } else {
                    self.pending_pop = true;
                }
            }
            Event::End(e) => {
                let len = e.name().into_inner().len();
                let raw: &'a str = self.text.get(start + 2..start + 2 + len).unwrap_or("");
                let kept = raw
                    .as_bytes()
                    .iter()
                    .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    .map_or(0, |i| i + 1);
                let name = &raw[..kept];
                token_name = name;
                match self.open.pop() {
                    Some(open) if open == name => self.pop_scope(),
                    Some(open) => {
                        return Err(
                            self.error_at(start, format!("expected </{open}>, found </{name}>"))
                        );
                    }
                    None => {
                        return Err(self.error_at(start, format!("unexpected </{name}>")));
                    }
                }
            }
            Event::Text(t) => {
                if self.open.is_empty() && !is_blank(t) {
                    return Err(self.error_at(start, "text outside the root element"));
                }
            }
            Event::CData(_) => {
                if self.open.is_empty() {
                    return Err(self.error_at(start, "CDATA outside the root element"));
                }
            }
            Event::GeneralRef(r) => {
                if self.open.is_empty() {
                    return Err(self.error_at(start, "entity reference outside the root element"));
                }
                if resolve_entity(r).is_none() {
                    return Err(self.error_at(
                        start,
                        format!("undefined or invalid entity `&{};`", r.as_ref() as &str),
                    ));
                }
            }
            Event::Decl(_) => {
                if start != 0 {
                    return Err(self.error_at(start, "XML declaration not at the start"));
                }
            }
            Event::Eof => {
                self.done = true;
                if let Some(open) = self.open.last() {
                    return Err(self.error_at(end, format!("element <{open}> is not closed")));
                }
                if !self.seen_root {
                    return Err(self.error_at(end, "no root element"));
                }
                return Ok(None);
            }
            Event::Comment(_) | Event::PI(_) => {}
        }
        Ok(Some(Token { event, start, end, name: token_name }))
    }

    fn check_name(&self, name: &str, at: usize) -> Result<(), FormatError> {
        // Bytes, not chars: this runs on every element (a non-ASCII first byte starts a
        // non-ASCII character, accepted as a name start like any letter).
        let bytes = name.as_bytes();
        let ok = bytes.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
            && bytes.iter().all(|&b| !matches!(b, b'"' | b'\'' | b'=' | b'<' | b'>' | b'&' | b'/'))
            && bytes.last() != Some(&b':');
        if ok { Ok(()) } else { Err(self.error_at(at, format!("invalid element name `{name}`"))) }
    }

    fn push_scope(&mut self, e: &BytesStart<'a>, at: usize) -> Result<(), FormatError> {
        self.scope_marks.push(self.bindings.len());
        self.attrs.clear();
        if e.attributes_raw().trim_ascii_start().is_empty() {
            return Ok(());
        }
        // Duplicates are checked here on the kept list (quick-xml's own check allocates a list
        // per element); quick-xml still checks the syntax (quoting, `=`).
        let mut attributes = e.attributes();
        attributes.with_checks(false);
        let mut has_prefixed = false;
        for attribute in attributes {
            let attribute = match attribute {
                Ok(a) => a,
                Err(error) => return Err(self.error_at(at, format!("bad attribute: {error}"))),
            };
            let key = self.input_slice(attribute.key.into_inner());
            let raw = self.input_slice(attribute.value.as_ref());
            let (Some(key), Some(raw)) = (key, raw) else {
                return Err(self.error_at(at, "bad attribute"));
            };
            if self.attrs.iter().any(|(k, _)| *k == key) {
                return Err(
                    self.error_at(at, format!("bad attribute: duplicated attribute `{key}`"))
                );
            }
            let value = match check_attribute_value(raw) {
                Ok(v) => v,
                Err(message) => {
                    return Err(self.error_at(at, format!("attribute `{key}`: {message}")));
                }
            };
            if key == "xmlns" {
                self.bindings.push((Cow::Borrowed(""), value));
            } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(self.error_at(at, format!("empty namespace for prefix `{prefix}`")));
                }
                self.bindings.push((Cow::Borrowed(prefix), value));
            } else if key.contains(':') {
                has_prefixed = true;
            }
            self.attrs.push((key, raw));
        }
        // Attribute prefixes must be bound too (checked after this element's declarations).
        if has_prefixed {
            for i in 0..self.attrs.len() {
                let key = self.attrs[i].0;
                if key.contains(':')
                    && !key.starts_with("xmlns:")
                    && self.resolve(key, false).is_none()
                {
                    self.accept_unbound(key, at, false)?;
                }
            }
        }
        Ok(())
    }

    /// Accepts the undeclared prefix of `qname` as part of a namespace-less name when that is
    /// unambiguous (see the module documentation), else refuses it.
    fn accept_unbound(&mut self, qname: &str, at: usize, root: bool) -> Result<(), FormatError> {
        let prefix = qname.split(':').next().unwrap_or(qname);
        if root {
            return Err(self.error_at(
                at,
                format!(
                    "unbound namespace prefix in <{qname}>: the root element's prefix `{prefix}` is declared nowhere, so its vocabulary cannot be told"
                ),
            ));
        }
        let declaration = format!("xmlns:{prefix}");
        let declared_elsewhere =
            memchr::memmem::find_iter(self.text.as_bytes(), &declaration).any(|i| {
                let rest = self.text[i + declaration.len()..].trim_start();
                rest.starts_with('=')
            });
        if declared_elsewhere {
            return Err(self.error_at(
                at,
                format!(
                    "unbound namespace prefix in `{qname}`: `{prefix}` is declared elsewhere in the document but not on this element or an ancestor, so which namespace is meant is ambiguous"
                ),
            ));
        }
        if !self.unbound.iter().any(|p| p == prefix) {
            self.unbound.push(prefix.to_string());
        }
        Ok(())
    }

    /// Prefixes used without a declaration anywhere in the document, read as part of
    /// namespace-less names (in order of first use).
    pub fn unbound_prefixes(&self) -> &[String] {
        &self.unbound
    }

    /// Raw name and raw value (sub-slices of the input) of each attribute of the last start or
    /// empty tag returned, in order.
    pub fn raw_attributes(&self) -> &[(&'a str, &'a str)] {
        &self.attrs
    }

    /// The byte offset of `part`, a sub-slice of the input text, in that text.
    pub fn offset_in_input(&self, part: &str) -> Option<usize> {
        (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)
    }

    /// `part` as a sub-slice of the input text (events of a reader over a string borrow it).
    fn input_slice(&self, part: &str) -> Option<&'a str> {
        let start = (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        self.text.get(start..start.checked_add(part.len())?)
    }

    /// The decoded value of attribute `name` (raw qualified name) of the last start or empty
    /// tag returned.
    pub fn attribute(&self, name: &str) -> Option<Cow<'a, str>> {
        let &(_, raw) = self.attrs.iter().find(|(k, _)| *k == name)?;
        check_attribute_value(raw).ok()
    }

    fn pop_scope(&mut self) {
        if let Some(mark) = self.scope_marks.pop() {
            self.bindings.truncate(mark);
        }
    }
}

/// Reads the whole of `text` (file or entry `part`), returning the first well-formedness error.
pub(crate) fn check_well_formed(part: &str, text: &str) -> Result<(), FormatError> {
    let mut reader = StrictReader::new(text, part, 0);
    while reader.next_token()?.is_some() {}
    Ok(())
}

/// The qualified name of the root element of an XML text (its start, at least), skipping a
/// byte-order mark, the XML declaration, comments and processing instructions; `None` when the
/// text does not start like XML (a DOCTYPE stops the search: such documents are refused anyway).
pub(crate) fn root_name(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/'))
                .unwrap_or(after.len());
            let name = &after[..end];
            let first = name.chars().next()?;
            return (first.is_alphabetic() || first == '_').then_some(name);
        } else {
            return None;
        }
    }
}

/// The local part of a qualified name.
pub(crate) fn local_name(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// XML whitespace only (NBSP and other Unicode spaces are content).
pub(crate) fn is_blank(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The character a predefined entity or character reference stands for.
pub(crate) fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()?
                }
                Some(_) => return None,
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
                    num.parse().ok()?
                }
                None => return None,
            };
            char::from_u32(code).filter(|c| is_xml_char(*c))
        }
    }
}

/// Characters XML 1.0 allows.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks and decodes a raw attribute value: no `<`, only valid references.
pub(crate) fn check_attribute_value(raw: &str) -> Result<Cow<'_, str>, String> {
    match memchr::memchr2(b'<', b'&', raw.as_bytes()) {
        None => return Ok(Cow::Borrowed(raw)),
        Some(_) if raw.contains('<') => {
            return Err("`<` is not allowed in attribute values".to_string());
        }
        Some(_) => {}
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let end = after.find(';').ok_or_else(|| "unterminated entity reference".to_string())?;
        let name = &after[..end];
        let ch = resolve_entity(name)
            .ok_or_else(|| format!("undefined or invalid entity `&{name};`"))?;
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// Escapes text content: `&`, `<` and `>` (the last so that `]]>` can never appear).
pub(crate) fn escape_text_into(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let mut last = 0;
    for i in memchr::memchr3_iter(b'&', b'<', b'>', bytes) {
        let rep: &[u8] = match bytes[i] {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            _ => b"&gt;",
        };
        out.extend_from_slice(&bytes[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&bytes[last..]);
}

/// The value of attribute `name` (raw qualified name) of a start tag, decoded.
pub(crate) fn attribute<'a>(e: &'a BytesStart<'a>, name: &str) -> Option<Cow<'a, str>> {
    e.attributes().flatten().find(|a| a.key.into_inner() == name).and_then(|a| match a.value {
        Cow::Borrowed(v) => check_attribute_value(v).ok(),
        Cow::Owned(v) => check_attribute_value(&v).ok().map(|c| Cow::Owned(c.into_owned())),
    })
}

#[cfg(test)]
mod tests;
