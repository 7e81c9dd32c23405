//! Android `<plurals>`: the quantities the target language needs.
//!
//! Android picks a `<plurals>` item by the CLDR plural category of the count (`zero`, `one`,
//! `two`, `few`, `many`, `other`). A catalogue written for English has `one` and `other`; its
//! Arabic translation needs all six, or Android falls back to `other` for 2 or 5 and the text is
//! wrong. When a translation is written, each `<plurals>` gets the categories of the target that
//! it lacks, as items holding the translation of its `other` item (the form a translator then
//! adjusts); items the target does not use are kept, since Android ignores them. Categories are
//! CLDR's cardinal plural rules (the Unicode CLDR `plurals.xml` that Android itself follows),
//! by primary language; a language not listed is taken to use `one` and `other`.
//!
//! A comment just before a `<string>`, `<plurals>` or `<string-array>` (only whitespace between)
//! is the note for translators of its segments, as Android Studio's translations editor shows it.

use std::ops::Range;

use tradia_core::LanguageTag;

use super::tree::{Child, Tree};

/// One `<plurals>` element: its items (quantity, element index) and where new items go.
#[derive(Debug, Clone)]
pub(super) struct Plurals {
    pub items: Vec<(String, usize)>,
    /// Just after the last item.
    pub insert_at: usize,
    /// Line break and indentation before the last item.
    pub lead: String,
    /// The `other` item's content range (its text is copied when it has no segment).
    pub other: Option<(usize, Range<usize>)>,
}

/// Every `<plurals>` of an Android resource file.
pub(super) fn plurals(tree: &Tree, text: &str) -> Vec<Plurals> {
    let mut out = Vec::new();
    for element in tree.elements.iter().filter(|e| e.local() == "plurals" && e.ns.is_none()) {
        let mut items = Vec::new();
        let mut other = None;
        let mut last: Option<usize> = None;
        for child in &element.children {
            let Child::Element(i) = child else { continue };
            let item = &tree.elements[*i];
            if item.local() != "item" {
                continue;
            }
            let Some(quantity) = item.attr(None, "quantity").map(|a| a.value.clone()) else {
                continue;
            };
            if quantity == "other"
                && let Some(end) = &item.end_tag
            {
                other = Some((*i, item.start_tag.end..end.start));
            }
            items.push((quantity, *i));
            last = Some(*i);
        }
        let Some(last) = last else { continue };
        let last = &tree.elements[last];
        let line_start = text[..last.start_tag.start].rfind('\n');
        let lead = match line_start {
            Some(p) if text[p + 1..last.start_tag.start].trim().is_empty() => {
                let eol = if text[..p].ends_with('\r') { "\r\n" } else { "\n" };
                format!("{eol}{}", &text[p + 1..last.start_tag.start])
            }
            _ => String::new(),
        };
        out.push(Plurals { items, insert_at: last.range().end, lead, other });
    }
    out
}

/// The CLDR cardinal plural categories of `target`.
pub(super) fn categories(target: &LanguageTag) -> &'static [&'static str] {
    match target.primary() {
        "ar" | "cy" => &["zero", "one", "two", "few", "many", "other"],
        "ga" => &["one", "two", "few", "many", "other"],
        "ru" | "uk" | "pl" | "cs" | "sk" | "lt" | "be" => &["one", "few", "many", "other"],
        "sl" => &["one", "two", "few", "other"],
        "he" => &["one", "two", "other"],
        "ro" | "hr" | "sr" | "bs" => &["one", "few", "other"],
        "lv" => &["zero", "one", "other"],
        "fr" | "es" | "it" | "pt" | "ca" => &["one", "many", "other"],
        "ja" | "zh" | "ko" | "vi" | "th" | "id" | "ms" | "lo" | "my" => &["other"],
        _ => &["one", "other"],
    }
}

/// The comment just before the resource (`string`, `plurals`, `string-array`) that element
/// `element` belongs to, as a note for translators; `None` without one.
pub(super) fn comment_before(tree: &Tree, src: &str, element: usize) -> Option<String> {
    let mut el = element;
    while !matches!(tree.elements[el].local(), "string" | "plurals" | "string-array") {
        el = tree.elements[el].parent?;
    }
    let parent = &tree.elements[tree.elements[el].parent?];
    let at = parent.children.iter().position(|c| matches!(c, Child::Element(e) if *e == el))?;
    for child in parent.children[..at].iter().rev() {
        match child {
            Child::Text { text, cdata: false, .. } if text.trim().is_empty() => continue,
            Child::Other(range) => {
                let raw = src.get(range.clone())?;
                let body = raw.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
                return (!body.is_empty()).then(|| body.to_string());
            }
            _ => return None,
        }
    }
    None
}
