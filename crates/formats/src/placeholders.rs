//! Placeholders and inline markup in message strings (PO, JSON and YAML catalogues).
//!
//! Developers' strings carry variables that must come back exactly: `{name}`, `{{count}}`,
//! `%s`, `%1$d`, `%(name)s`, `%{count}`, `${x}`, ICU messages `{count, plural, one {…} other {…}}`,
//! HTML tags and entities. Each becomes an inline code whose markup is the literal placeholder,
//! so a model sees `<x1/>` and cannot rename or translate it. HTML tags pair up when they match.

use crate::splice::{InlinePart, Markup};

/// Splits a decoded message string into text, placeholders and tags.
pub(crate) fn parts(s: &str) -> Vec<InlinePart> {
    let mut out = Vec::new();
    let mut text_from = 0;
    let mut i = 0;
    let bytes = s.as_bytes();
    while i < bytes.len() {
        let found = match bytes[i] {
            b'{' => brace(s, i),
            b'%' => percent(s, i),
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                brace(s, i + 1).map(|(end, _)| (end, Kind::Code))
            }
            b'<' => tag(s, i),
            b'&' => entity(s, i),
            _ => None,
        };
        match found {
            Some((end, kind)) => {
                if text_from < i {
                    out.push(InlinePart::Text(s[text_from..i].to_string()));
                }
                let literal = Markup::Literal(s[i..end].to_string());
                out.push(match kind {
                    Kind::Code => InlinePart::Standalone(literal),
                    Kind::Open(name) => InlinePart::Open(name, literal),
                    Kind::Close(name) => InlinePart::Close(name, literal),
                });
                i = end;
                text_from = end;
            }
            None => i += s[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if text_from < s.len() {
        out.push(InlinePart::Text(s[text_from..].to_string()));
    }
    out
}

enum Kind {
    Code,
    Open(String),
    Close(String),
}

/// `{name}`, `{0}`, `{{count}}`, `{count, plural, …}` (nested braces balanced).
fn brace(s: &str, start: usize) -> Option<(usize, Kind)> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    for (k, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    let inner = s[start + 1..k].trim_matches(|c| c == '{' || c == '}').trim();
                    let head = inner.split(',').next().unwrap_or_default().trim();
                    let ok = !head.is_empty()
                        && head.chars().all(|c| {
                            c.is_alphanumeric()
                                || matches!(c, '_' | '.' | '-' | '$' | '(' | ')' | ':' | '|')
                        })
                        && (head.len() <= 40);
                    return ok.then_some((k + 1, Kind::Code));
                }
            }
            b'\n' if depth == 1 && !s[start..k].contains(',') => return None,
            _ => {}
        }
    }
    None
}

/// printf-style `%s`, `%1$d`, `%.2f`, `%(name)s`, Ruby `%{name}`, `%%`.
fn percent(s: &str, start: usize) -> Option<(usize, Kind)> {
    let bytes = s.as_bytes();
    let mut i = start + 1;
    match bytes.get(i)? {
        b'%' => return Some((i + 1, Kind::Code)),
        b'{' => {
            let end = s[i..].find('}')? + i;
            let name = &s[i + 1..end];
            return (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then_some((end + 1, Kind::Code));
        }
        b'(' => {
            let end = s[i..].find(')')? + i;
            if !s[i + 1..end].chars().all(|c| c.is_alphanumeric() || c == '_') {
                return None;
            }
            i = end + 1;
        }
        _ => {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && bytes.get(i + digits) == Some(&b'$') {
                i += digits + 1;
            }
        }
    }
    while matches!(bytes.get(i), Some(b'-' | b'+' | b'0' | b'#')) {
        i += 1;
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    while matches!(bytes.get(i), Some(b'h' | b'l' | b'L' | b'q' | b'j' | b'z' | b't')) {
        i += 1;
    }
    match bytes.get(i)? {
        b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'e' | b'E' | b'f' | b'F' | b'g' | b'G'
        | b'a' | b'A' | b'c' | b's' | b'p' | b'r' | b'@' => Some((i + 1, Kind::Code)),
        // strftime directives (`%Y-%m-%d`, `%-d %B`), common in date formats of catalogues.
        c if i == start + 1
            || (i == start + 2 && matches!(bytes[start + 1], b'-' | b'0' | b'#')) =>
        {
            b"bBCDFhHIjklmMnPRSTUVwWyYzZ+".contains(c).then_some((i + 1, Kind::Code))
        }
        _ => None,
    }
}

/// `<b>`, `</b>`, `<br/>`, `<a href="…">`.
fn tag(s: &str, start: usize) -> Option<(usize, Kind)> {
    let rest = &s[start + 1..];
    let closing = rest.starts_with('/');
    let name_part = if closing { &rest[1..] } else { rest };
    if !name_part.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let end = rest.find('>')?;
    let inner = &rest[..end];
    if inner.contains('<') || inner.contains('\n') {
        return None;
    }
    let name: String = name_part
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let stop = start + 1 + end + 1;
    let kind = if closing {
        Kind::Close(name)
    } else if inner.ends_with('/') || matches!(name.as_str(), "br" | "img" | "hr" | "input" | "wbr")
    {
        Kind::Code
    } else {
        Kind::Open(name)
    };
    Some((stop, kind))
}

/// `&nbsp;`, `&#160;`, `&amp;`.
fn entity(s: &str, start: usize) -> Option<(usize, Kind)> {
    let rest = &s[start + 1..];
    let end = rest.char_indices().take(12).find(|(_, c)| *c == ';')?.0;
    let name = &rest[..end];
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '#'))
        .then_some((start + 1 + end + 1, Kind::Code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splice::{SlotBuilder, build_inline};

    fn render(s: &str) -> String {
        let mut b = SlotBuilder::new();
        build_inline(&mut b, parts(s));
        b.finish(0..0).0.render()
    }

    #[test]
    fn placeholders_become_codes() {
        assert_eq!(
            render("Hello {name}, you have {{count}} items"),
            "Hello <x1/>, you have <x2/> items"
        );
        assert_eq!(
            render("%s of %1$d at 50% off, %(user)s and %{count}"),
            "<x1/> of <x2/> at 50% off, <x3/> and <x4/>"
        );
        assert_eq!(
            render("You have {count, plural, one {# file} other {# files}}."),
            "You have <x1/>."
        );
        assert_eq!(
            render("Click <a href=\"/x\">here</a>&nbsp;now<br/>"),
            "Click <g1>here</g1><x2/>now<x3/>"
        );
        assert_eq!(render("a { not a placeholder } b"), "a { not a placeholder } b");
        assert_eq!(render("%-d %B %Y, %H:%M"), "<x1/> <x2/> <x3/>, <x4/>:<x5/>");
    }
}
