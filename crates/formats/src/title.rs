//! A document's own title and domain, as its format records them.
//!
//! Why: a model translates a segment better when it knows what the document is ("Les bases de
//! la météorologie", a course; "Budget 2027", finance). The service and the command line give
//! [`crate::Document::brief`] to the engine as the job's brief when the user wrote none (the
//! user's brief wins). Each filter that has a title fills it: OOXML `docProps/core.xml` and ODF
//! `meta.xml` (`dc:title`; `dc:subject`, else the keywords, as the domain), HTML and EPUB
//! `<title>`/`dc:title`, a Scenari item's metadata `sp:title`, a Markdown front matter's
//! `title` or else the first level-one heading, the XLIFF `<file original>` name is not a
//! title and is not used.
//!
//! Titles are read, never written: they come from the same bytes the segments do, and a title
//! that is also translated (most are) stays a segment like any other. A title is whitespace
//! collapsed, at most [`MAX_TITLE_CHARS`] characters, and absent when it has no letter or digit
//! (Scenari templates hold `$$title$$`, which says nothing).

use quick_xml::Reader;
use quick_xml::events::Event;
use tradia_core::Segment;

/// The most characters of a title or a domain.
pub const MAX_TITLE_CHARS: usize = 200;

/// The most XML events read looking for a title (metadata comes first in every format here).
const MAX_EVENTS: usize = 20_000;

/// `raw` as a title: whitespace runs collapsed, trimmed, cut to [`MAX_TITLE_CHARS`]; `None` when
/// it holds no letter or digit or is a template placeholder.
pub(crate) fn clean(raw: &str) -> Option<String> {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if !text.chars().any(char::is_alphanumeric) || (text.starts_with("$$") && text.ends_with("$$"))
    {
        return None;
    }
    Some(text.chars().take(MAX_TITLE_CHARS).collect())
}

/// The plain text of the first segment whose field is `field`, as a title.
pub(crate) fn from_field(segments: &[Segment], field: &str) -> Option<String> {
    segments.iter().filter(|s| s.field == field).find_map(|s| clean(&s.content.plain_text()))
}

/// Dublin Core-style properties (`docProps/core.xml`, ODF `meta.xml`): the first `title`
/// element's text, and the first `subject`, else `keywords`/`keyword`, as the domain. Elements
/// are matched by local name, whatever their prefix.
pub(crate) fn dc_properties(xml: &str) -> (Option<String>, Option<String>) {
    let found = element_texts(xml, &["title", "subject", "keywords", "keyword"], |_, _| true);
    let mut found = found.into_iter();
    let (title, subject, keywords, keyword) = (
        found.next().flatten(),
        found.next().flatten(),
        found.next().flatten(),
        found.next().flatten(),
    );
    (title, subject.or(keywords).or(keyword))
}

/// A Scenari item's title: the `sp:title` (or `sp:sTitle`) of the metadata element that opens
/// its model element (`<sc:item><op:ue><op:ueM><sp:title>…`), rich titles read as plain text.
pub(crate) fn scenari_item(xml: &str) -> Option<String> {
    let found = element_texts(xml, &["title", "sTitle"], |depth, parent_local| {
        depth == 4 && parent_local.ends_with('M')
    });
    found.into_iter().flatten().next()
}

/// For each of `locals`, the text (descendants' text, cleaned) of the first element with that
/// local name for which `wanted(depth, parent's local name)` holds (the root is at depth 1).
/// Stops at the first XML error, after [`MAX_EVENTS`] events or once every name was found.
fn element_texts(
    xml: &str,
    locals: &[&str],
    wanted: impl Fn(usize, &str) -> bool,
) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = vec![None; locals.len()];
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    // The slot being read, the depth of its element, and its text so far.
    let mut reading: Option<(usize, usize, String)> = None;
    for _ in 0..MAX_EVENTS {
        let Ok(event) = reader.read_event() else { break };
        match event {
            Event::Start(e) => {
                let local = e.local_name().as_ref().to_string();
                if reading.is_none()
                    && let Some(slot) = locals.iter().position(|l| *l == local)
                    && out[slot].is_none()
                    && wanted(stack.len() + 1, stack.last().map_or("", String::as_str))
                {
                    reading = Some((slot, stack.len() + 1, String::new()));
                }
                stack.push(local);
            }
            Event::End(_) => {
                if let Some((slot, depth, text)) = &reading
                    && *depth == stack.len()
                {
                    out[*slot] = clean(text).or(Some(String::new()));
                    reading = None;
                }
                stack.pop();
                if out.iter().all(Option::is_some) {
                    break;
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = reading.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some((_, _, text)) = reading.as_mut() {
                    text.push_str(c.as_ref());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, text)) = reading.as_mut() {
                    let ch = r.resolve_char_ref().ok().flatten().or_else(|| {
                        quick_xml::escape::resolve_predefined_entity(r.as_ref())
                            .and_then(|s| s.chars().next())
                    });
                    text.extend(ch);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // An element found empty (or with nothing but spaces) is no title.
    out.into_iter().map(|t| t.filter(|t| !t.is_empty())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_collapsed_bounded_and_meaningful() {
        assert_eq!(clean("  Les  bases\n de la météo "), Some("Les bases de la météo".into()));
        assert_eq!(clean("$$title$$"), None);
        assert_eq!(clean(" — "), None);
        assert_eq!(clean(&"a".repeat(300)).map(|t| t.chars().count()), Some(MAX_TITLE_CHARS));
    }

    #[test]
    fn dublin_core_title_and_domain_are_read_by_local_name() {
        let core = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>Budget &amp; plan</dc:title><cp:keywords>finance, 2027</cp:keywords></cp:coreProperties>"#;
        assert_eq!(
            dc_properties(core),
            (Some("Budget & plan".into()), Some("finance, 2027".into()))
        );
        let meta = r#"<office:document-meta xmlns:office="o" xmlns:dc="d"><office:meta><dc:subject>Météo</dc:subject><dc:title> </dc:title></office:meta></office:document-meta>"#;
        assert_eq!(dc_properties(meta), (None, Some("Météo".into())));
    }

    #[test]
    fn a_scenari_title_is_the_metadata_title_not_a_link_tooltip() {
        let item = r#"<sc:item xmlns:sc="c" xmlns:sp="p" xmlns:op="o"><op:ue><op:ueM><sp:title><op:title><sc:para>Le <sc:inlineStyle>vent</sc:inlineStyle></sc:para></op:title></sp:title></op:ueM></op:ue></sc:item>"#;
        assert_eq!(scenari_item(item), Some("Le vent".into()));
        let no_meta = r#"<sc:item xmlns:sc="c" xmlns:sp="p" xmlns:op="o"><op:ue><op:txt><op:urlM><sp:title>Tip</sp:title></op:urlM></op:txt></op:ue></sc:item>"#;
        assert_eq!(scenari_item(no_meta), None);
    }
}
