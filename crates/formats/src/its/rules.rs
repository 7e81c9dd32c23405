//! ITS 2.0 data categories used by the generic XML filter, global and local.
//!
//! Global rules (`its:rules`, in the document or built in for a vocabulary) are applied in order,
//! the last rule selecting a node winning; local markup (`its:translate`, `its:withinText`,
//! `its:locNote`, `xml:space`) overrides them; then inheritance fills in the rest as ITS 2.0
//! defines it: `translate` and `xml:space` are inherited by descendant elements (not by
//! attributes, which are not translatable unless a rule says so), `withinText` is not inherited,
//! and a localization note covers the element's content. Supported rules: `translateRule`,
//! `withinTextRule`, `locNoteRule` (`its:locNote` text or `locNotePointer`, a relative path of
//! `..`, child names and a final `@attribute`) and `preserveSpaceRule`. Other data categories
//! are ignored (and reported); external rules (`xlink:href`) are never fetched.

use std::rc::Rc;

use super::selector::Selector;
use super::tree::{Child, Tree};

/// The ITS namespace.
pub(crate) const ITS_NS: &str = "http://www.w3.org/2005/11/its";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// How an element relates to the text flow around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Within {
    /// A separate flow (a paragraph).
    No,
    /// Part of its parent's text (emphasis, a link).
    Yes,
    /// Inline where it stands, but its content is a flow of its own (a footnote).
    Nested,
}

#[derive(Debug, Clone)]
enum NoteSource {
    Text(String),
    Pointer(String),
}

#[derive(Debug, Clone)]
enum Property {
    Translate(bool),
    Within(Within),
    Note(NoteSource),
    Preserve(bool),
}

/// One global rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    selector: Selector,
    property: Property,
}

/// Rules read from a document, with remarks for the report.
#[derive(Debug, Default)]
pub(crate) struct RuleSet {
    pub rules: Vec<Rule>,
    pub warnings: Vec<String>,
}

impl RuleSet {
    /// Reads every `its:rules` element of `tree`. `default_ns` is the namespace of unprefixed
    /// names in selectors (`None` for document rules, as in XPath 1.0).
    pub fn read(tree: &Tree, default_ns: Option<&str>) -> RuleSet {
        let mut set = RuleSet::default();
        let mut ignored: Vec<String> = Vec::new();
        for element in &tree.elements {
            if element.ns.as_deref() != Some(ITS_NS) || element.local() != "rules" {
                continue;
            }
            if element.attrs.iter().any(|a| a.local() == "href") {
                set.warnings.push(
                    "external ITS rules (xlink:href) are not fetched; only the rules written in the document apply".into(),
                );
            }
            for child in &element.children {
                let Child::Element(rule_index) = child else { continue };
                let rule = &tree.elements[*rule_index];
                if rule.ns.as_deref() != Some(ITS_NS) {
                    continue;
                }
                let attr = |name: &str| rule.attr(None, name).map(|a| a.value.clone());
                let property = match rule.local() {
                    "translateRule" => attr("translate").map(|v| Property::Translate(v == "yes")),
                    "withinTextRule" => attr("withinText").map(|v| {
                        Property::Within(match v.as_str() {
                            "yes" => Within::Yes,
                            "nested" => Within::Nested,
                            _ => Within::No,
                        })
                    }),
                    "preserveSpaceRule" => {
                        attr("space").map(|v| Property::Preserve(v == "preserve"))
                    }
                    "locNoteRule" => attr("locNotePointer")
                        .map(NoteSource::Pointer)
                        .or_else(|| {
                            rule.children.iter().find_map(|c| match c {
                                Child::Element(i) if tree.elements[*i].local() == "locNote" => {
                                    Some(NoteSource::Text(text_of(tree, *i).trim().to_string()))
                                }
                                _ => None,
                            })
                        })
                        .map(Property::Note),
                    other => {
                        if !ignored.iter().any(|i| i == other) {
                            ignored.push(other.to_string());
                        }
                        continue;
                    }
                };
                let Some(property) = property else {
                    set.warnings.push(format!(
                        "ITS rule <{}> lacks its value attribute; ignored",
                        rule.qname
                    ));
                    continue;
                };
                let Some(selector_text) = attr("selector") else {
                    set.warnings
                        .push(format!("ITS rule <{}> has no selector; ignored", rule.qname));
                    continue;
                };
                let resolve = |prefix: &str| -> Result<Option<String>, String> {
                    if prefix.is_empty() {
                        return Ok(default_ns.map(str::to_string));
                    }
                    if prefix == "xml" {
                        return Ok(Some(XML_NS.to_string()));
                    }
                    tree.namespace_in_scope(*rule_index, prefix)
                        .map(|ns| Some(ns.to_string()))
                        .ok_or_else(|| format!("selector prefix `{prefix}` is not declared"))
                };
                match Selector::parse(&selector_text, &resolve) {
                    Ok(selector) => set.rules.push(Rule { selector, property }),
                    Err(why) => set.warnings.push(format!("ITS rule ignored: {why}")),
                }
            }
        }
        if !ignored.is_empty() {
            set.warnings.push(format!(
                "ITS data categories not used by this filter, ignored: {}",
                ignored.join(", ")
            ));
        }
        set
    }
}

/// Most characters of a note (and elements visited to read one): a note is a hint for the
/// model, and pointers on every element of a large document must stay cheap.
const NOTE_LIMIT: usize = 2000;

/// The concatenated character data of element `index` and its descendants, bounded by
/// [`NOTE_LIMIT`].
pub(crate) fn text_of(tree: &Tree, index: usize) -> String {
    let mut out = String::new();
    let mut stack = vec![(index, 0usize)];
    let mut visited = 0;
    while let Some((i, child)) = stack.pop() {
        visited += 1;
        if out.len() >= NOTE_LIMIT || visited > NOTE_LIMIT {
            break;
        }
        let children = &tree.elements[i].children;
        let Some(c) = children.get(child) else { continue };
        stack.push((i, child + 1));
        match c {
            Child::Text { text, .. } => out.push_str(text),
            Child::Ref { ch, .. } => out.push(*ch),
            Child::Element(e) => stack.push((*e, 0)),
            Child::Other(_) => {}
        }
    }
    if out.len() > NOTE_LIMIT {
        let cut = out.floor_char_boundary(NOTE_LIMIT);
        out.truncate(cut);
    }
    out
}

/// Per element and attribute, what the rules say.
#[derive(Debug)]
pub(crate) struct Properties {
    pub translate: Vec<bool>,
    pub within: Vec<Within>,
    pub preserve: Vec<bool>,
    /// Shared with descendants (a note covers the element's content).
    pub note: Vec<Option<Rc<str>>>,
    /// Per element, per attribute (same order as [`super::tree::Element::attrs`]).
    pub attr_translate: Vec<Vec<bool>>,
}

/// Applies `rules` (in order), then local markup, then inheritance.
pub(crate) fn evaluate(tree: &Tree, rules: &[Rule]) -> Properties {
    let n = tree.elements.len();
    let mut translate: Vec<Option<bool>> = vec![None; n];
    let mut within = vec![Within::No; n];
    let mut preserve: Vec<Option<bool>> = vec![None; n];
    let mut note: Vec<Option<NoteSource>> = vec![None; n];
    let mut attr_translate: Vec<Vec<bool>> =
        tree.elements.iter().map(|e| vec![false; e.attrs.len()]).collect();
    for rule in rules {
        let selected = rule.selector.select_elements(tree);
        for (i, _) in selected.iter().enumerate().filter(|(_, s)| **s) {
            match &rule.property {
                Property::Translate(t) => translate[i] = Some(*t),
                Property::Within(w) => within[i] = *w,
                Property::Preserve(p) => preserve[i] = Some(*p),
                Property::Note(n) => note[i] = Some(n.clone()),
            }
        }
        if rule.selector.has_attribute_paths()
            && let Property::Translate(t) = &rule.property
        {
            let attrs = rule.selector.select_attributes(tree);
            for (i, element_attrs) in attrs.iter().enumerate() {
                for (k, selected) in element_attrs.iter().enumerate() {
                    if *selected {
                        attr_translate[i][k] = *t;
                    }
                }
            }
        }
    }
    let mut out = Properties {
        translate: vec![true; n],
        within,
        preserve: vec![false; n],
        note: vec![None; n],
        attr_translate,
    };
    for (i, element) in tree.elements.iter().enumerate() {
        let its = |name: &str| element.attr(Some(ITS_NS), name).map(|a| a.value.as_str());
        if let Some(t) = its("translate") {
            translate[i] = Some(t == "yes");
        }
        if element.ns.as_deref() == Some(ITS_NS) {
            // Rules and notes are not content.
            translate[i] = Some(false);
        }
        match its("withinText") {
            Some("yes") => out.within[i] = Within::Yes,
            Some("nested") => out.within[i] = Within::Nested,
            Some("no") => out.within[i] = Within::No,
            _ => {}
        }
        if let Some(space) = element.attr(Some(XML_NS), "space") {
            preserve[i] = Some(space.value == "preserve");
        }
        if let Some(text) = its("locNote") {
            note[i] = Some(NoteSource::Text(text.to_string()));
        }
        let parent = element.parent;
        out.translate[i] = translate[i].unwrap_or_else(|| parent.is_none_or(|p| out.translate[p]));
        out.preserve[i] = preserve[i].unwrap_or_else(|| parent.is_some_and(|p| out.preserve[p]));
        out.note[i] = match &note[i] {
            Some(NoteSource::Text(t)) => Some(Rc::from(t.as_str())),
            Some(NoteSource::Pointer(path)) => follow_pointer(tree, i, path).map(Rc::from),
            None => parent.and_then(|p| out.note[p].clone()),
        };
    }
    out
}

/// The text a relative `locNotePointer` (`../comment`, `@note`, `note`) points to from `index`.
fn follow_pointer(tree: &Tree, index: usize, path: &str) -> Option<String> {
    let mut at = index;
    for step in path.trim().split('/') {
        let step = step.trim();
        match step {
            "." | "" => {}
            ".." => at = tree.elements[at].parent?,
            _ if step.starts_with('@') => {
                let name = &step[1..];
                return tree.elements[at]
                    .attrs
                    .iter()
                    .find(|a| a.qname == name)
                    .map(|a| a.value.clone());
            }
            _ => {
                at = tree.elements[at].children.iter().find_map(|c| match c {
                    Child::Element(i) if tree.elements[*i].qname == step => Some(*i),
                    _ => None,
                })?;
            }
        }
    }
    let text = text_of(tree, at).trim().to_string();
    (!text.is_empty()).then_some(text)
}
