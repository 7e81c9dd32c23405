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

/// The namespaces the rules distinguish: classifying an element compares a small enum, not
/// URIs (the known URIs share a 33-byte prefix, and this runs on every element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace.
    None,
    /// [`CORE`].
    Core,
    /// [`PRIMITIVE`].
    Primitive,
    /// [`FILEMETA`].
    Filemeta,
    /// Any namespace the rules do not name.
    Other,
}

impl Ns {
    /// The kind of namespace `uri` (`None`: no namespace).
    pub(crate) fn of(uri: Option<&str>) -> Ns {
        match uri {
            None => Ns::None,
            Some(CORE) => Ns::Core,
            Some(PRIMITIVE) => Ns::Primitive,
            Some(FILEMETA) => Ns::Filemeta,
            Some(_) => Ns::Other,
        }
    }
}

/// Core elements whose content is one segment of rich text (B1, B3, B4, B5).
pub(crate) fn is_segment_root(ns: Ns, local: &str) -> bool {
    ns == Ns::Core && matches!(local, "para" | "caption" | "member" | "fullTitle")
}

/// Containers kept byte for byte with everything inside them, and why.
pub(crate) fn keep_container(ns: Ns, local: &str) -> Option<&'static str> {
    match (ns, local) {
        (Ns::Core, "code") => Some("code (sc:code is never translated)"),
        (Ns::Core, "SFSolution") => Some("short-answer solution (kept on request, Q5)"),
        (Ns::Core, "location") => Some("URL"),
        (Ns::Primitive, "settings") => Some("publication settings (option keys)"),
        (Ns::Primitive, "asw") => Some("short-answer solution (kept on request, Q5)"),
        (Ns::Primitive, "frag") => Some("markup fragment"),
        (Ns::Primitive, "lang") => Some("language code or option key"),
        (Ns::Primitive, "url") => Some("URL"),
        (_, "listingTxt") => Some("code listing (listingTxt paragraphs are code, K2)"),
        (_, "mathTex") => Some("LaTeX source"),
        _ => None,
    }
}

/// Primitive fields that are plain-text segments when they hold text and no element (§3.3 T).
pub(crate) fn is_text_field(ns: Ns, local: &str) -> bool {
    ns == Ns::Primitive
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
pub(crate) fn kept_field_reason(ns: Ns, local: &str) -> Option<&'static str> {
    let reason = match (ns, local) {
        (Ns::Primitive, "acr") => "acronym (kept by default)",
        (Ns::Primitive, "id") => "identifier",
        (
            Ns::Primitive,
            "auth" | "author" | "cont" | "publisher" | "copyright" | "coll" | "cpyrgt",
        ) => "person or organisation name",
        (Ns::Primitive, "version" | "date") => "version or date",
        (Ns::Primitive, "code") => "language code",
        (
            Ns::Primitive,
            "type" | "cc" | "ccVersion" | "pos" | "exclude" | "index" | "pubMode" | "pubDyn"
            | "contentFilter" | "typo" | "align" | "searchEngine" | "accessBar",
        ) => "option key",
        (Ns::Primitive, "shape" | "coords" | "width" | "height" | "weight") => "geometry or number",
        (Ns::Primitive, "themeLicence" | "themeLycee" | "level" | "educationLevel") => {
            "classification code"
        }
        (Ns::Primitive, "option" | "synonym") => "cloze option (kept with its gap, Q4)",
        (Ns::Core, "start" | "end") => "time code",
        (Ns::Core, "value") => "short-answer value (kept on request, Q5)",
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
pub(crate) fn inline_kind(ns: Ns, local: &str, role: Option<&str>) -> Inline {
    if ns != Ns::Core {
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
