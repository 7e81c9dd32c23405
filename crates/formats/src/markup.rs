//! A byte-span tokenizer for HTML and XML-like markup, and character-reference decoding.
//!
//! The HTML and XLIFF filters splice translations into the original bytes, so they need every
//! token's exact range, not a tree: this tokenizer never normalises anything. It follows the
//! WHATWG tokenizer where it matters for spans (quoted and unquoted attributes, comments, raw
//! text elements such as `script` and `style`, bogus comments) and is total: any input yields a
//! token list covering every byte.

use std::ops::Range;

/// An attribute of a start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    /// Name as written.
    pub name: String,
    /// Byte range of the name.
    pub name_range: Range<usize>,
    /// Byte range of the value without quotes, and the quote used (None when unquoted); None
    /// when the attribute has no value.
    pub value: Option<(Range<usize>, Option<char>)>,
}

/// A start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartTag {
    /// Byte range of the whole tag, `<` to `>`.
    pub range: Range<usize>,
    /// Name as written.
    pub name: String,
    /// End of the name (where new attributes can be inserted).
    pub name_end: usize,
    /// Attributes in order.
    pub attrs: Vec<Attr>,
    /// Ends with `/>`.
    pub self_closing: bool,
    /// End of the last attribute (or of the name): where new attributes are appended.
    pub attrs_end: usize,
}

impl StartTag {
    /// Finds an attribute by (ASCII case-insensitive) name.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The raw value of an attribute.
    pub fn value<'a>(&self, source: &'a str, name: &str) -> Option<&'a str> {
        self.attr(name).and_then(|a| a.value.as_ref()).map(|(r, _)| &source[r.clone()])
    }
}

/// A token with its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Character data.
    Text(Range<usize>),
    /// Contents of a raw-text element (`script`, `style`, `title`, `textarea`…), between tags.
    RawText(Range<usize>),
    /// `<!-- … -->`.
    Comment(Range<usize>),
    /// `<![CDATA[ … ]]>`.
    Cdata(Range<usize>),
    /// `<!DOCTYPE …>` or another `<!…>` declaration.
    Declaration(Range<usize>),
    /// `<? … ?>`.
    Pi(Range<usize>),
    /// A start tag.
    Start(StartTag),
    /// An end tag, with its name.
    End(Range<usize>, String),
}

impl Token {
    /// The byte range the token covers.
    pub fn range(&self) -> Range<usize> {
        match self {
            Token::Text(r)
            | Token::RawText(r)
            | Token::Comment(r)
            | Token::Cdata(r)
            | Token::Declaration(r)
            | Token::Pi(r)
            | Token::End(r, _) => r.clone(),
            Token::Start(t) => t.range.clone(),
        }
    }
}

const RAW_TEXT: [&str; 10] = [
    "script",
    "style",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "textarea",
    "title",
    "plaintext",
];

/// Tokenizes `src`. With `xml` set, no element is raw text (XML has CDATA instead) and
/// self-closing tags are honoured.
pub(crate) fn tokenize(src: &str, xml: bool) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut text_start = 0;
    let flush_text = |tokens: &mut Vec<Token>, from: usize, to: usize| {
        if to > from {
            tokens.push(Token::Text(from..to));
        }
    };
    while pos < bytes.len() {
        let Some(off) = memchr_lt(&bytes[pos..]) else {
            break;
        };
        let lt = pos + off;
        let rest = &bytes[lt..];
        let next = rest.get(1).copied().unwrap_or(0);
        if rest.starts_with(b"<!--") {
            flush_text(&mut tokens, text_start, lt);
            let end = if rest[4..].starts_with(b">") {
                lt + 5
            } else if rest[4..].starts_with(b"->") {
                lt + 6
            } else {
                find(bytes, lt + 4, b"-->").map_or(bytes.len(), |e| e + 3)
            };
            tokens.push(Token::Comment(lt..end));
            pos = end;
            text_start = end;
        } else if rest.starts_with(b"<![CDATA[") {
            flush_text(&mut tokens, text_start, lt);
            let end = find(bytes, lt + 9, b"]]>").map_or(bytes.len(), |e| e + 3);
            tokens.push(Token::Cdata(lt..end));
            pos = end;
            text_start = end;
        } else if next == b'!' {
            flush_text(&mut tokens, text_start, lt);
            let end = declaration_end(bytes, lt + 2);
            tokens.push(Token::Declaration(lt..end));
            pos = end;
            text_start = end;
        } else if next == b'?' {
            flush_text(&mut tokens, text_start, lt);
            let end = if xml {
                find(bytes, lt + 2, b"?>").map_or(bytes.len(), |e| e + 2)
            } else {
                find(bytes, lt + 2, b">").map_or(bytes.len(), |e| e + 1)
            };
            tokens.push(Token::Pi(lt..end));
            pos = end;
            text_start = end;
        } else if next == b'/'
            && rest.get(2).is_some_and(|c| c.is_ascii_alphabetic() || (xml && is_name_start(*c)))
        {
            flush_text(&mut tokens, text_start, lt);
            let name_end = name_end(bytes, lt + 2);
            let name = src[lt + 2..name_end].to_string();
            let end = find(bytes, name_end, b">").map_or(bytes.len(), |e| e + 1);
            tokens.push(Token::End(lt..end, name));
            pos = end;
            text_start = end;
        } else if next.is_ascii_alphabetic() || (xml && is_name_start(next)) {
            flush_text(&mut tokens, text_start, lt);
            let tag = start_tag(src, lt);
            let end = tag.range.end;
            let raw = !xml
                && !tag.self_closing
                && RAW_TEXT.iter().any(|n| tag.name.eq_ignore_ascii_case(n));
            let name = tag.name.to_ascii_lowercase();
            tokens.push(Token::Start(tag));
            pos = end;
            text_start = end;
            if raw {
                let close =
                    if name == "plaintext" { None } else { find_end_tag(bytes, end, &name) };
                let raw_end = close.unwrap_or(bytes.len());
                if raw_end > end {
                    tokens.push(Token::RawText(end..raw_end));
                }
                pos = raw_end;
                text_start = raw_end;
            }
        } else {
            pos = lt + 1;
        }
    }
    flush_text(&mut tokens, text_start, bytes.len());
    tokens
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|b| *b == b'<')
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > bytes.len() {
        return None;
    }
    bytes[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn declaration_end(bytes: &[u8], from: usize) -> usize {
    // A DOCTYPE may hold an internal subset in brackets, with `>` inside.
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' if depth > 0 => quote = Some(b),
                b'[' => depth += 1,
                b']' => depth -= 1,
                b'>' if depth <= 0 => return i + 1,
                _ => {}
            },
        }
    }
    bytes.len()
}

fn name_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/'
    {
        i += 1;
    }
    i
}

fn find_end_tag(bytes: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find(bytes, i, b"</") {
        let after = p + 2 + name.len();
        if after <= bytes.len()
            && bytes[p + 2..after].eq_ignore_ascii_case(name.as_bytes())
            && bytes.get(after).is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/')
        {
            return Some(p);
        }
        i = p + 2;
    }
    None
}

fn start_tag(src: &str, lt: usize) -> StartTag {
    let bytes = src.as_bytes();
    let name_end = name_end(bytes, lt + 1);
    let name = src[lt + 1..name_end].to_string();
    let mut attrs = Vec::new();
    let mut i = name_end;
    let mut attrs_end = name_end;
    let mut self_closing = false;
    loop {
        while i < bytes.len()
            && (bytes[i].is_ascii_whitespace()
                || (bytes[i] == b'/' && bytes.get(i + 1) != Some(&b'>')))
        {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        if bytes[i] == b'>' {
            i += 1;
            break;
        }
        if bytes[i] == b'/' {
            // `/>`
            self_closing = true;
            i += 2;
            break;
        }
        let n_start = i;
        i += 1;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let n_end = i;
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = None;
        if j < bytes.len() && bytes[j] == b'=' {
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                let q = bytes[j];
                let v_start = j + 1;
                let v_end = bytes[v_start..]
                    .iter()
                    .position(|c| *c == q)
                    .map_or(bytes.len(), |p| p + v_start);
                value = Some((v_start..v_end, Some(q as char)));
                i = (v_end + 1).min(bytes.len());
            } else {
                let v_start = j;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                    j += 1;
                }
                value = Some((v_start..j, None));
                i = j;
            }
        }
        attrs.push(Attr {
            name: src[n_start..n_end].to_string(),
            name_range: n_start..n_end,
            value,
        });
        attrs_end = i.min(bytes.len());
    }
    StartTag { range: lt..i.min(bytes.len()), name, name_end, attrs, self_closing, attrs_end }
}

/// A piece of decoded character data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CharData {
    /// Decoded text.
    Text(String),
    /// A reference that could not be decoded (kept as an inline code), with its range.
    Unknown(Range<usize>),
}

/// Decodes character references in `src[range]`. In XML mode only the five predefined entities
/// and numeric references are known.
pub(crate) fn decode_refs(src: &str, range: Range<usize>, xml: bool) -> Vec<CharData> {
    let mut out = Vec::new();
    let mut text = String::new();
    let s = &src[range.clone()];
    let mut i = 0;
    while let Some(p) = s[i..].find('&') {
        let amp = i + p;
        text.push_str(&s[i..amp]);
        let rest = &s[amp + 1..];
        let semi = rest.char_indices().take(40).find(|(_, c)| *c == ';').map(|(k, _)| k);
        let name_ok =
            |n: &str| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '#');
        match semi.map(|k| &rest[..k]) {
            Some(name) if name_ok(name) => {
                let end = amp + 1 + name.len() + 1;
                match decode_entity(name, xml) {
                    Some(c) => text.push(c),
                    None => {
                        if !text.is_empty() {
                            out.push(CharData::Text(std::mem::take(&mut text)));
                        }
                        out.push(CharData::Unknown(range.start + amp..range.start + end));
                    }
                }
                i = end;
            }
            _ => {
                text.push('&');
                i = amp + 1;
            }
        }
    }
    text.push_str(&s[i..]);
    if !text.is_empty() {
        out.push(CharData::Text(text));
    }
    out
}

/// Decodes entity `name` (without `&` and `;`); numeric references too.
fn decode_entity(name: &str, xml: bool) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        // References to control characters (NUL…) stay references: written out as text they
        // would make the file binary.
        return char::from_u32(code).filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    }
    let basic = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    if basic.is_some() || xml {
        return basic;
    }
    if let Some(idx) = LATIN1.iter().position(|n| *n == name) {
        return char::from_u32(160 + idx as u32);
    }
    OTHER.iter().find(|(n, _)| *n == name).and_then(|(_, c)| char::from_u32(*c))
}

const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

const OTHER: [(&str, u32); 51] = [
    ("OElig", 338),
    ("oelig", 339),
    ("Scaron", 352),
    ("scaron", 353),
    ("Yuml", 376),
    ("fnof", 402),
    ("circ", 710),
    ("tilde", 732),
    ("ensp", 8194),
    ("emsp", 8195),
    ("thinsp", 8201),
    ("zwnj", 8204),
    ("zwj", 8205),
    ("lrm", 8206),
    ("rlm", 8207),
    ("ndash", 8211),
    ("mdash", 8212),
    ("lsquo", 8216),
    ("rsquo", 8217),
    ("sbquo", 8218),
    ("ldquo", 8220),
    ("rdquo", 8221),
    ("bdquo", 8222),
    ("dagger", 8224),
    ("Dagger", 8225),
    ("bull", 8226),
    ("hellip", 8230),
    ("permil", 8240),
    ("prime", 8242),
    ("Prime", 8243),
    ("lsaquo", 8249),
    ("rsaquo", 8250),
    ("euro", 8364),
    ("trade", 8482),
    ("larr", 8592),
    ("uarr", 8593),
    ("rarr", 8594),
    ("darr", 8595),
    ("harr", 8596),
    ("lArr", 8656),
    ("rArr", 8658),
    ("hArr", 8660),
    ("minus", 8722),
    ("infin", 8734),
    ("asymp", 8776),
    ("ne", 8800),
    ("le", 8804),
    ("ge", 8805),
    ("hearts", 9829),
    ("NewLine", 10),
    ("Tab", 9),
];

/// Builds the text of a start tag with attribute `name` set to `value` (escaped for `"`):
/// returns an edit (range, replacement) on the source.
pub(crate) fn set_attr_edit(tag: &StartTag, name: &str, value: &str) -> (Range<usize>, String) {
    let mut escaped = String::new();
    crate::splice::escape_attr_dq(value, &mut escaped);
    match tag.attr(name).and_then(|a| a.value.clone().map(|v| (a, v))) {
        Some((_, (range, Some(_)))) => (range, escaped),
        Some((_, (range, None))) => (range, format!("\"{escaped}\"")),
        None => match tag.attr(name) {
            Some(a) => (a.name_range.end..a.name_range.end, format!("=\"{escaped}\"")),
            None => (tag.attrs_end..tag.attrs_end, format!(" {name}=\"{escaped}\"")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_exact_bytes() {
        let src = "<!DOCTYPE html><P CLASS='x'>A&eacute; <img src=a.png alt=\"A picture\"><script>if (a<b && c) {}</script><!-- c --></p>";
        let tokens = tokenize(src, false);
        let texts: Vec<&str> = tokens.iter().map(|t| &src[t.range()]).collect();
        assert_eq!(
            texts,
            vec![
                "<!DOCTYPE html>",
                "<P CLASS='x'>",
                "A&eacute; ",
                "<img src=a.png alt=\"A picture\">",
                "<script>",
                "if (a<b && c) {}",
                "</script>",
                "<!-- c -->",
                "</p>"
            ]
        );
        let Token::Start(img) = &tokens[3] else { panic!("img") };
        assert_eq!(img.value(src, "alt"), Some("A picture"));
        assert_eq!(img.value(src, "src"), Some("a.png"));
        assert_eq!(decode_refs(src, 28..38, false), vec![CharData::Text("Aé ".into())]);
    }

    #[test]
    fn unknown_entities_are_kept_apart() {
        let src = "a &foo; b &amp; c & d &#233;";
        let parts = decode_refs(src, 0..src.len(), false);
        assert_eq!(
            parts,
            vec![
                CharData::Text("a ".into()),
                CharData::Unknown(2..7),
                CharData::Text(" b & c & d é".into())
            ]
        );
    }
}
