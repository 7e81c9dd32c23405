//! What is translated, what is kept, what is an inline code: the lists of
//! `docs/scenari-format.md` §3, in one place.
//!
//! Elements are classified by namespace URI and local name, never by prefix (prefixes are
//! conventional and are re-declared on inner elements).

/// Scenari core namespace (`sc:`).
pub(crate) const CORE: &str = "http://www.utc.fr/ics/scenari/v3/core";
/// Scenari primitive namespace (`sp:`): parts and fields.
pub(crate) const PRIMITIVE: &str = "http://www.utc.fr/ics/scenari/v3/primitive";
/// Metadata of a binary resource (`meta.xml`).
pub(crate) const FILEMETA: &str = "http://www.utc.fr/ics/scenari/v3/filemeta";

/// Core elements whose content is one segment of rich text (B1, B3, B4, B5).
pub(crate) fn is_segment_root(ns: Option<&str>, local: &str) -> bool {
    ns == Some(CORE) && matches!(local, "para" | "caption" | "member" | "fullTitle")
}

/// Containers kept byte for byte with everything inside them, and why.
pub(crate) fn keep_container(ns: Option<&str>, local: &str) -> Option<&'static str> {
    match (ns, local) {
        (Some(CORE), "code") => Some("code (sc:code is never translated)"),
        (Some(CORE), "SFSolution") => Some("short-answer solution (kept by default, Q5)"),
        (Some(CORE), "location") => Some("URL"),
        (Some(PRIMITIVE), "settings") => Some("publication settings (option keys)"),
        (Some(PRIMITIVE), "asw") => Some("short-answer solution (kept by default, Q5)"),
        (Some(PRIMITIVE), "frag") => Some("markup fragment"),
        (Some(PRIMITIVE), "lang") => Some("language code or option key"),
        (Some(PRIMITIVE), "url") => Some("URL"),
        (_, "listingTxt") => Some("code listing (listingTxt paragraphs are code, K2)"),
        (_, "mathTex") => Some("LaTeX source"),
        _ => None,
    }
}

/// Primitive fields that are plain-text segments when they hold text and no element (§3.3 T).
pub(crate) fn is_text_field(ns: Option<&str>, local: &str) -> bool {
    ns == Some(PRIMITIVE)
        && matches!(
            local,
            "title"
                | "sTitle"
                | "term"
                | "notion"
                | "syn"
                | "desc"
                | "ref"
                | "altTxt"
                | "keywd"
                | "obj"
                | "longTitle"
                | "rTitle"
        )
}

/// Known fields kept as they are when they hold plain text (§3.3 K), and why.
pub(crate) fn kept_field_reason(ns: Option<&str>, local: &str) -> Option<&'static str> {
    let reason = match (ns, local) {
        (Some(PRIMITIVE), "acr") => "acronym (kept by default)",
        (Some(PRIMITIVE), "id") => "identifier",
        (
            Some(PRIMITIVE),
            "auth" | "author" | "cont" | "publisher" | "copyright" | "coll" | "cpyrgt",
        ) => "person or organisation name",
        (Some(PRIMITIVE), "version" | "date") => "version or date",
        (Some(PRIMITIVE), "code") => "language code",
        (
            Some(PRIMITIVE),
            "type" | "cc" | "ccVersion" | "pos" | "exclude" | "index" | "pubMode" | "pubDyn"
            | "contentFilter" | "typo" | "align" | "searchEngine" | "accessBar",
        ) => "option key",
        (Some(PRIMITIVE), "shape" | "coords" | "width" | "height" | "weight") => {
            "geometry or number"
        }
        (Some(PRIMITIVE), "themeLicence" | "themeLycee" | "level" | "educationLevel") => {
            "classification code"
        }
        (Some(PRIMITIVE), "option" | "synonym") => "cloze option (kept with its gap, Q4)",
        (Some(CORE), "start" | "end") => "time code",
        (Some(CORE), "value") => "short-answer value (kept by default, Q5)",
        _ => return None,
    };
    Some(reason)
}

/// How an element inside a segment is represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inline {
    /// A paired code whose content is part of the segment.
    Paired,
    /// A standalone code; its content is kept as it is.
    StandaloneKept,
    /// A metadata child (`op:txtM`, `op:urlM`, `op:gapM`…): folded into the opening code of its
    /// parent when it comes first, a standalone code otherwise; its own fields are classified as
    /// anywhere else (the `sp:title` of a `urlM` is a segment of its own).
    Meta,
}

/// Classifies an element met inside a segment (§3.2).
pub(crate) fn inline_kind(ns: Option<&str>, local: &str, role: Option<&str>) -> Inline {
    if ns != Some(CORE) {
        return Inline::Meta;
    }
    match local {
        "inlineStyle" => match role {
            Some("code" | "filePath" | "cmd") => Inline::StandaloneKept,
            _ => Inline::Paired,
        },
        "uLink" | "phrase" => Inline::Paired,
        "textLeaf" => match role {
            Some("exp" | "ind") => Inline::Paired,
            _ => Inline::StandaloneKept,
        },
        "inlineImg" | "objectLeaf" | "code" | "extBlock" => Inline::StandaloneKept,
        _ => Inline::Paired,
    }
}

/// True when a code's whole visible text is a URL or an e-mail link (kept: I4, I5).
pub(crate) fn looks_like_url(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    ["http://", "https://", "ftp://", "mailto:", "www.", "file://"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Finds a template placeholder (`$$title$$`, K7) in `text`: its byte range.
pub(crate) fn find_placeholder(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    // Search for `$` (a fast byte search) rather than `$$` (a substring searcher per call).
    while let Some(pos) = text[from..].find('$') {
        let start = from + pos;
        if text.as_bytes().get(start + 1) != Some(&b'$') {
            from = start + 1;
            continue;
        }
        let body_start = start + 2;
        let body_len = text[body_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
            .count();
        let end = body_start + body_len;
        if body_len > 0 && body_len <= 64 && text[end..].starts_with("$$") {
            return Some((start, end + 2));
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_placeholders() {
        assert!(looks_like_url(" https://example.org/a?b=1 "));
        assert!(!looks_like_url("online guide"));
        assert_eq!(find_placeholder("a $$title$$ b"), Some((2, 11)));
        assert_eq!(find_placeholder("cost $$ 5 $$"), None);
        assert_eq!(find_placeholder("$$$x$$"), Some((1, 6)));
    }
}
