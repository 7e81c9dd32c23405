//! Text inside XML elements as the message vocabularies write it: placeholders that become
//! inline codes, whitespace read as XML's default space handling does, Android's escapes.

use crate::placeholders;
use crate::splice::{InlinePart, Markup};

/// Placeholders of message strings (`placeholders::parts`), plus Qt's `%1`, `%L1` and `%n`.
pub(super) fn message_parts(text: &str, qt: bool) -> Vec<InlinePart> {
    let parts = placeholders::parts(text);
    if !qt {
        return parts;
    }
    let mut out = Vec::new();
    for part in parts {
        let InlinePart::Text(t) = part else {
            out.push(part);
            continue;
        };
        let mut from = 0;
        let bytes = t.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let mut j = i + 1;
                if bytes.get(j) == Some(&b'L') {
                    j += 1;
                }
                let digits = bytes[j..].iter().take_while(|b| b.is_ascii_digit()).count();
                let end = if digits > 0 {
                    Some(j + digits)
                } else {
                    (bytes.get(j) == Some(&b'n')).then_some(j + 1)
                };
                if let Some(end) = end {
                    if from < i {
                        out.push(InlinePart::Text(t[from..i].to_string()));
                    }
                    out.push(InlinePart::Standalone(Markup::Literal(t[i..end].to_string())));
                    from = end;
                    i = end;
                    continue;
                }
            }
            i += 1;
        }
        if from < t.len() {
            out.push(InlinePart::Text(t[from..].to_string()));
        }
    }
    out
}

/// Runs of XML whitespace as one space; `space` says whether the text before ended with one
/// (and is updated).
pub(super) fn collapse(s: &str, space: &mut bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            if !*space {
                out.push(' ');
            }
            *space = true;
        } else {
            out.push(c);
            *space = false;
        }
    }
    out
}

/// Android's string escapes read: `\'`, `\"`, `\\`, `\n`, `\t`, `\@`, `\?`, `\uXXXX`.
pub(super) fn android_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => {
                        out.push(ch);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    _ => out.push_str("\\u"),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Text written for Android: backslash, quotes and line breaks escaped, a leading `@` or `?`
/// (a resource reference otherwise) escaped.
pub(super) fn android_escape(s: &str, out: &mut String) {
    if s.starts_with(['@', '?']) {
        out.push('\\');
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
}
