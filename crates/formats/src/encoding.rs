//! Character encodings of text formats: decided once on reading, reused on writing.
//!
//! Order of evidence: a byte-order mark (UTF-8, UTF-16, UTF-32); then the zero-byte pattern of
//! UTF-16 or UTF-32 text without a mark whose first character is ASCII (as RFC 4627 tells JSON
//! readers to do, and the XML specification's appendix F for `<?xml`); then bytes that are valid UTF-8 with non-ASCII content
//! (a stronger signal than a declaration, which is often stale: pages declaring `gb2312` served as
//! UTF-8 are common); then the declaration the format carries (XML declaration, HTML `meta
//! charset`, PO `Content-Type`), then `chardetng` for undeclared legacy 8-bit text such as
//! Windows-1252 subtitles. A file that stays undecidable is refused with
//! [`FormatError::Encoding`] naming it, never silently decoded with replacement characters.
//!
//! Writing re-encodes in the same encoding and with the same BOM. When the rebuilt text equals the
//! decoded text, the original bytes are returned as they were, so identity is byte-exact even for
//! encodings whose decoding is not perfectly reversible.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::FormatError;

/// A text decoded from bytes, with what is needed to write it back.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The text, without its BOM.
    pub text: String,
    /// The encoding the bytes are in.
    pub encoding: &'static Encoding,
    /// The BOM bytes found at the start (empty when none).
    pub bom: &'static [u8],
    /// The original bytes (returned unchanged by an identity rebuild).
    original: Vec<u8>,
    /// Set for UTF-32 text (which `encoding_rs` does not handle): `encoding` is then UTF-16 of
    /// the same byte order, standing for "any character can be written".
    utf32: Option<Endian>,
    /// Remarks for the report (a declaration contradicted by the bytes…).
    pub warnings: Vec<String>,
}

/// Byte order of a UTF-32 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

/// How characters the encoding cannot represent are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unmappable {
    /// As numeric character references (`&#1234;`), for HTML and XML.
    CharRef,
    /// As `?`, for formats without character references.
    Question,
}

/// Looks up an encoding label (`latin1`, `windows-1252`, `utf8`…); `None` when unknown.
pub(crate) fn for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

/// Decodes `bytes` of file or entry `part`; `declared` is the label the format declares, if any.
pub(crate) fn decode(
    part: &str,
    bytes: &[u8],
    declared: Option<&str>,
) -> Result<Decoded, FormatError> {
    let mut warnings = Vec::new();
    if let Some(decoded) = decode_wide(part, bytes)? {
        return Ok(decoded);
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let bom: &'static [u8] = match bom_len {
            3 => b"\xEF\xBB\xBF",
            _ if encoding == UTF_16LE => b"\xFF\xFE",
            _ => b"\xFE\xFF",
        };
        let body = &bytes[bom_len..];
        let text = decode_strict(encoding, body).ok_or_else(|| FormatError::Encoding {
            part: part.to_string(),
            message: format!(
                "starts with a {} byte-order mark but is not valid {}",
                encoding.name(),
                encoding.name()
            ),
        })?;
        return Ok(Decoded {
            text,
            encoding,
            bom,
            original: bytes.to_vec(),
            warnings,
            utf32: None,
        });
    }
    let declared_encoding = declared.and_then(|label| {
        let found = for_label(label);
        if found.is_none() {
            warnings.push(format!("{part}: unknown declared encoding `{label}` ignored"));
        }
        // A UTF-16 declaration without a BOM in an ASCII-compatible file is ignored, as browsers do.
        found.filter(|e| *e != UTF_16LE && *e != UTF_16BE)
    });
    let ascii = bytes.is_ascii();
    if let Ok(text) = std::str::from_utf8(bytes) {
        match declared_encoding {
            Some(enc) if ascii && enc.is_ascii_compatible() => {
                // Pure ASCII: keep the declared encoding so that translations are written in it.
                check_not_binary(part, text, false)?;
                return Ok(Decoded {
                    text: text.to_string(),
                    encoding: enc,
                    bom: b"",
                    original: bytes.to_vec(),
                    warnings,
                    utf32: None,
                });
            }
            Some(enc) if enc != UTF_8 => warnings.push(format!(
                "{part}: declares {} but its bytes are UTF-8; read and written as UTF-8",
                enc.name()
            )),
            _ => {}
        }
        check_not_binary(part, text, false)?;
        return Ok(Decoded {
            text: text.to_string(),
            encoding: UTF_8,
            bom: b"",
            original: bytes.to_vec(),
            warnings,
            utf32: None,
        });
    }
    if let Some(enc) = declared_encoding {
        let text = decode_strict(enc, bytes).ok_or_else(|| FormatError::Encoding {
            part: part.to_string(),
            message: format!(
                "declares the encoding {} but its bytes are not valid {}",
                enc.name(),
                enc.name()
            ),
        })?;
        check_not_binary(part, &text, false)?;
        return Ok(Decoded {
            text,
            encoding: enc,
            bom: b"",
            original: bytes.to_vec(),
            warnings,
            utf32: None,
        });
    }
    if bytes.contains(&0) {
        return Err(undecidable(
            part,
            "it contains NUL bytes (binary data or UTF-16 without a byte-order mark)",
        ));
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let (guess, confident) = detector.guess_assess(None, false);
    if !confident {
        return Err(undecidable(part, "the character detector is not confident"));
    }
    let text = decode_strict(guess, bytes).ok_or_else(|| {
        undecidable(part, &format!("the detected encoding {} does not decode it", guess.name()))
    })?;
    check_not_binary(part, &text, true)?;
    warnings.push(format!("{part}: no declared encoding; detected {}", guess.name()));
    Ok(Decoded { text, encoding: guess, bom: b"", original: bytes.to_vec(), warnings, utf32: None })
}

/// The wide encodings a text can be in: UTF-16 or UTF-32, with or without a byte-order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wide {
    Utf16(Endian),
    Utf32(Endian),
}

/// Which wide encoding `bytes` are in, and the length of their byte-order mark: a mark, or for
/// text without one, the zero bytes around a first ASCII character (`{\0"\0` is UTF-16LE JSON).
pub(crate) fn sniff_wide(bytes: &[u8]) -> Option<(Wide, usize)> {
    use Endian::{Big, Little};
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some((Wide::Utf32(Little), 4)),
        [0, 0, 0xFE, 0xFF, ..] => Some((Wide::Utf32(Big), 4)),
        [0xFF, 0xFE, ..] => Some((Wide::Utf16(Little), 2)),
        [0xFE, 0xFF, ..] => Some((Wide::Utf16(Big), 2)),
        [a, 0, 0, 0, ..] if a.is_ascii() && *a != 0 => Some((Wide::Utf32(Little), 0)),
        [0, 0, 0, a, ..] if a.is_ascii() && *a != 0 => Some((Wide::Utf32(Big), 0)),
        [a, 0, b, ..] if a.is_ascii() && *a != 0 && *b != 0 => Some((Wide::Utf16(Little), 0)),
        [0, a, 0, ..] if a.is_ascii() && *a != 0 => Some((Wide::Utf16(Big), 0)),
        [a, 0] if a.is_ascii() && *a != 0 => Some((Wide::Utf16(Little), 0)),
        [0, a] if a.is_ascii() && *a != 0 => Some((Wide::Utf16(Big), 0)),
        _ => None,
    }
}

/// `bytes` in a wide encoding decoded to text (without the mark); `None` when they do not decode.
pub(crate) fn decode_wide_text(bytes: &[u8]) -> Option<(String, Wide, usize)> {
    let (wide, bom_len) = sniff_wide(bytes)?;
    let body = &bytes[bom_len..];
    let text = match wide {
        Wide::Utf16(Endian::Little) => decode_strict(UTF_16LE, body)?,
        Wide::Utf16(Endian::Big) => decode_strict(UTF_16BE, body)?,
        Wide::Utf32(endian) => {
            if !body.len().is_multiple_of(4) {
                return None;
            }
            body.chunks_exact(4)
                .map(|c| {
                    let word = [c[0], c[1], c[2], c[3]];
                    let code = match endian {
                        Endian::Little => u32::from_le_bytes(word),
                        Endian::Big => u32::from_be_bytes(word),
                    };
                    char::from_u32(code)
                })
                .collect::<Option<String>>()?
        }
    };
    Some((text, wide, bom_len))
}

/// Decodes UTF-16 and UTF-32 text (marked, or recognised by its zero bytes); `Ok(None)` for
/// bytes in no wide encoding. Marked bytes that do not decode are refused.
fn decode_wide(part: &str, bytes: &[u8]) -> Result<Option<Decoded>, FormatError> {
    let Some((wide, bom_len)) = sniff_wide(bytes) else { return Ok(None) };
    let name = match wide {
        Wide::Utf16(Endian::Little) => "UTF-16LE",
        Wide::Utf16(Endian::Big) => "UTF-16BE",
        Wide::Utf32(Endian::Little) => "UTF-32LE",
        Wide::Utf32(Endian::Big) => "UTF-32BE",
    };
    let Some((text, _, _)) = decode_wide_text(bytes) else {
        if bom_len == 0 {
            return Ok(None);
        }
        return Err(FormatError::Encoding {
            part: part.to_string(),
            message: format!("starts with a {name} byte-order mark but is not valid {name}"),
        });
    };
    if bom_len == 0 && text.contains('\0') {
        // Zero bytes that are not the high bytes of ASCII characters: binary data.
        return Ok(None);
    }
    check_not_binary(part, &text, false)?;
    let bom: &'static [u8] = match (wide, bom_len) {
        (_, 0) => b"",
        (Wide::Utf16(Endian::Little), _) => b"\xFF\xFE",
        (Wide::Utf16(Endian::Big), _) => b"\xFE\xFF",
        (Wide::Utf32(Endian::Little), _) => b"\xFF\xFE\0\0",
        (Wide::Utf32(Endian::Big), _) => b"\0\0\xFE\xFF",
    };
    let (encoding, utf32) = match wide {
        Wide::Utf16(Endian::Little) => (UTF_16LE, None),
        Wide::Utf16(Endian::Big) => (UTF_16BE, None),
        Wide::Utf32(endian @ Endian::Little) => (UTF_16LE, Some(endian)),
        Wide::Utf32(endian @ Endian::Big) => (UTF_16BE, Some(endian)),
    };
    Ok(Some(Decoded { text, encoding, bom, original: bytes.to_vec(), warnings: Vec::new(), utf32 }))
}

fn undecidable(part: &str, why: &str) -> FormatError {
    FormatError::Encoding {
        part: part.to_string(),
        message: format!(
            "cannot decide the text encoding: not valid UTF-8, no byte-order mark or declared encoding, and {why}; save the file as UTF-8"
        ),
    }
}

/// Refuses text that is clearly binary: NULs, or (for detected encodings, where any byte decodes
/// to something) a high share of control characters.
fn check_not_binary(part: &str, text: &str, detected: bool) -> Result<(), FormatError> {
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
        .count();
    let total = text.chars().count().max(1);
    if text.contains('\0') || (detected && controls * 20 > total) {
        return Err(FormatError::Encoding {
            part: part.to_string(),
            message: "looks like binary data, not text".to_string(),
        });
    }
    Ok(())
}

fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(std::borrow::Cow::into_owned)
}

impl Decoded {
    /// True when the encoding can represent `c`.
    pub fn can_encode(&self, c: char) -> bool {
        if self.encoding == UTF_8 || self.encoding == UTF_16LE || self.encoding == UTF_16BE {
            return true;
        }
        let mut buf = [0u8; 4];
        !self.encoding.encode(c.encode_utf8(&mut buf)).2
    }

    /// Writes `text` back in the original encoding and BOM; returns the original bytes when
    /// `text` is the decoded text itself.
    pub fn encode(&self, text: &str, unmappable: Unmappable) -> Vec<u8> {
        if text == self.text {
            return self.original.clone();
        }
        self.encode_in(self.encoding, text, unmappable)
    }

    /// `text` in `encoding`, after this text's BOM.
    fn encode_in(
        &self,
        encoding: &'static Encoding,
        text: &str,
        unmappable: Unmappable,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 4);
        out.extend_from_slice(self.bom);
        if let Some(endian) = self.utf32 {
            for c in text.chars() {
                let code = u32::from(c);
                out.extend_from_slice(&match endian {
                    Endian::Little => code.to_le_bytes(),
                    Endian::Big => code.to_be_bytes(),
                });
            }
        } else if encoding == UTF_8 {
            out.extend_from_slice(text.as_bytes());
        } else if encoding == UTF_16LE {
            text.encode_utf16().for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
        } else if encoding == UTF_16BE {
            text.encode_utf16().for_each(|u| out.extend_from_slice(&u.to_be_bytes()));
        } else {
            encode_legacy(encoding, text, unmappable, &mut out);
        }
        out
    }

    /// Writes `text` like [`Decoded::encode`], unless the rebuilt text now declares another
    /// encoding than the source did (`source_declared`): a page whose first charset
    /// declaration sat in translated text (a `<meta>` quoted in a title) loses it, and the next
    /// one becomes the page's. The bytes are then written in the encoding the output declares,
    /// so that it reads back; a byte-order mark, which overrides any declaration, keeps the
    /// original encoding.
    pub fn encode_as_declared(
        &self,
        text: &str,
        source_declared: Option<&str>,
        output_declared: Option<&str>,
        unmappable: Unmappable,
    ) -> Vec<u8> {
        let redeclared = output_declared
            .filter(|_| {
                self.bom.is_empty()
                    && self.encoding.is_ascii_compatible()
                    && output_declared != source_declared
            })
            .and_then(for_label)
            .filter(|e| *e != self.encoding && e.is_ascii_compatible());
        match redeclared {
            Some(encoding) => self.encode_in(encoding, text, unmappable),
            None => self.encode(text, unmappable),
        }
    }
}

fn encode_legacy(
    encoding: &'static Encoding,
    text: &str,
    unmappable: Unmappable,
    out: &mut Vec<u8>,
) {
    let mut encoder = encoding.new_encoder();
    let mut rest = text;
    let mut buf = vec![0u8; text.len() * 2 + 16];
    loop {
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(rest, &mut buf, true);
        out.extend_from_slice(&buf[..written]);
        rest = &rest[read..];
        match result {
            encoding_rs::EncoderResult::InputEmpty => break,
            encoding_rs::EncoderResult::OutputFull => {
                let len = buf.len();
                buf.resize(len * 2, 0);
            }
            encoding_rs::EncoderResult::Unmappable(c) => match unmappable {
                Unmappable::CharRef => {
                    out.extend_from_slice(format!("&#{};", u32::from(c)).as_bytes())
                }
                Unmappable::Question => out.push(b'?'),
            },
        }
    }
}

/// The `encoding="…"` of an XML declaration at the start of `bytes`, if any.
pub(crate) fn xml_declared(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &head[..head.len().min(512)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    // A real declaration is `<?xml` + space + pseudo-attributes, nothing that looks like markup.
    if !decl[5..].starts_with([' ', '\t', '\r', '\n']) || decl[5..].contains(['<', '>']) {
        return None;
    }
    attribute_in(decl, "encoding")
}

/// The charset an HTML page declares near its start (`<meta charset>` or
/// `http-equiv="Content-Type"`), or its XML declaration.
pub(crate) fn html_declared(bytes: &[u8]) -> Option<String> {
    if let Some(xml) = xml_declared(bytes) {
        return Some(xml);
    }
    // Browsers look at the first 1024 bytes; a translated title can push a `meta` further, so
    // a wider window keeps a translated page readable with the same encoding.
    let head = &bytes[..bytes.len().min(8192)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let lower = String::from_utf8_lossy(&lower);
    let mut from = 0;
    while let Some(pos) = lower[from..].find("<meta") {
        let start = from + pos;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(cs) = attribute_in(tag, "charset") {
            return Some(cs);
        }
        if tag.contains("http-equiv")
            && let Some(content) = attribute_in(tag, "content")
            && let Some(idx) = content.find("charset=")
        {
            let value = &content[idx + 8..];
            let value: String = value
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !matches!(c, ';' | '"' | '\'' | ' '))
                .collect();
            return Some(value);
        }
        from = end;
    }
    None
}

/// Reads attribute `name` (quoted or not) out of the text of a tag or declaration.
fn attribute_in(tag: &str, name: &str) -> Option<String> {
    let mut search = 0;
    while let Some(pos) = tag[search..].find(name) {
        let start = search + pos;
        search = start + name.len();
        let before_ok = start == 0 || tag.as_bytes()[start - 1].is_ascii_whitespace();
        let rest = tag[search..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        let (quote, body) = match value.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
            _ => (None, value),
        };
        let end = match quote {
            Some(q) => body.find(q).unwrap_or(body.len()),
            None => body
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | '/' | '"' | '\'' | ';'))
                .unwrap_or(body.len()),
        };
        return Some(body[..end].to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_is_detected_and_written_back() {
        let text = "1\r\n00:00:01,000 --> 00:00:02,000\r\nÇa été déjà très \u{2019}amusant\u{2019} à Noël, mémé.\r\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let decoded = decode("x.srt", &bytes, None).unwrap();
        assert_eq!(decoded.encoding, encoding_rs::WINDOWS_1252);
        assert_eq!(decoded.text, text);
        let changed = decoded.text.replace("amusant", "drôle");
        let out = decoded.encode(&changed, Unmappable::Question);
        assert_eq!(encoding_rs::WINDOWS_1252.decode(&out).0, changed);
        assert_eq!(decoded.encode(&decoded.text, Unmappable::Question), bytes.to_vec());
        let arabic = decoded.encode("نعم", Unmappable::Question);
        assert_eq!(arabic, b"???");
        assert_eq!(decoded.encode("نعم", Unmappable::CharRef), b"&#1606;&#1593;&#1605;");
    }

    #[test]
    fn bom_and_utf16_are_kept() {
        let mut bytes = vec![0xFF, 0xFE];
        "hé".encode_utf16().for_each(|u| bytes.extend_from_slice(&u.to_le_bytes()));
        let decoded = decode("a.srt", &bytes, None).unwrap();
        assert_eq!(decoded.text, "hé");
        let out = decoded.encode("hà", Unmappable::Question);
        assert_eq!(&out[..2], &[0xFF, 0xFE]);
        assert_eq!(out.len(), 6);
    }

    #[test]
    fn declarations_are_read() {
        assert_eq!(
            xml_declared(b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(html_declared(b"<html><head><META CHARSET=gb2312>").as_deref(), Some("gb2312"));
        assert_eq!(
            html_declared(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
            )
            .as_deref(),
            Some("windows-1251")
        );
    }

    #[test]
    fn utf8_beats_a_stale_declaration_and_ascii_keeps_it() {
        let d = decode("p.html", "<p>中文</p>".as_bytes(), Some("gb2312")).unwrap();
        assert_eq!(d.encoding, UTF_8);
        assert!(!d.warnings.is_empty());
        let d = decode("p.po", b"msgid \"a\"", Some("ISO-8859-15")).unwrap();
        assert_eq!(d.encoding, encoding_rs::ISO_8859_15);
    }

    #[test]
    fn undecidable_bytes_are_refused_with_the_file_name() {
        let err = decode("bad.txt", &[0x00, 0xC3, 0x28, 0x00, 0xFF], None).unwrap_err();
        assert_eq!(err.code(), "unknown_encoding");
        assert!(err.to_string().contains("bad.txt"));
    }
}
