//! Format detection: content decides, and structure is never guessed to be prose.
//!
//! Zip-based families are recognised on the raw bytes. Text is then looked at in UTF-8: a
//! UTF-16 or UTF-32 file (with a byte-order mark, or recognised by its zero bytes) is transcoded
//! first, so that a UTF-16 JSON catalogue is JSON. Specific vocabularies come before generic
//! ones (XLIFF and HTML before any XML, XML before the line-based formats), and plain text is
//! the last resort, only for content that is none of the recognised syntaxes: content that
//! starts and ends like JSON, or starts like XML, but does not parse is refused with the
//! parser's message, never translated as one paragraph of prose.
//!
//! A file whose extension names a format its content is not (a `.docx` that is not a zip, a
//! `.json` that does not parse, a `.xlf` whose root is not `xliff`) is refused with both facts in
//! the message. `.xml`, `.txt` and the HTML extensions say too little to disagree with anything.

use std::borrow::Cow;

use crate::{
    Format, FormatError, apple_strings, catalog, csv, encoding, epub, html, its, markdown, office,
    po,
};
use crate::{properties, scenari, subtitles, text, xcstrings, xliff, xml};

/// Extensions of zip-based formats: such a file must be a zip archive.
const ZIP_EXTENSIONS: [&str; 10] =
    ["docx", "pptx", "xlsx", "odt", "odp", "ods", "epub", "scar", "scwsp", "zip"];

type Sniffer = fn(&str, &[u8]) -> Option<Format>;

/// Detects the format of `bytes` by content; `name` (the file name) only breaks ties, such as
/// Markdown versus plain text, and is checked against what the content is.
pub fn detect(name: &str, bytes: &[u8]) -> Result<Format, FormatError> {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let ext = extension.as_deref().unwrap_or("");
    // A file named as a zip-based format that is not a zip is a damaged document, not text to
    // translate as such (a `.docx` holding plain text would come back as a broken `.docx`).
    if ZIP_EXTENSIONS.contains(&ext) && !bytes.starts_with(b"PK") {
        let content = if bytes.is_empty() {
            "it is empty".to_string()
        } else if let Some(format) =
            detect_text(name, bytes).ok().filter(|f| *f != Format::PlainText)
        {
            format!("its content is {}", format.label())
        } else {
            "its content is not a zip archive".to_string()
        };
        return Err(mismatch(name, 0, format!("a .{ext} file is a zip archive, and {content}")));
    }
    let zip_sniffers: [Sniffer; 4] =
        [office::ooxml::sniff, office::odf::sniff, epub::sniff, scenari::sniff];
    if let Some(format) = zip_sniffers.iter().find_map(|sniff| sniff(name, bytes)) {
        return Ok(format);
    }
    let format = detect_text(name, bytes);
    check_extension(name, ext, bytes, &format)?;
    format
}

/// Detects a text format (zip families excluded).
fn detect_text(name: &str, bytes: &[u8]) -> Result<Format, FormatError> {
    let utf8: Cow<'_, [u8]> = match encoding::decode_wide_text(bytes) {
        Some((text, _, _)) => Cow::Owned(text.into_bytes()),
        None => Cow::Borrowed(bytes),
    };
    let sniffers: [Sniffer; 11] = [
        xcstrings::sniff,
        apple_strings::sniff,
        properties::sniff,
        csv::sniff,
        xliff::sniff,
        html::sniff,
        its::sniff,
        subtitles::sniff,
        po::sniff,
        catalog::sniff,
        markdown::sniff,
    ];
    if let Some(format) = sniffers.iter().find_map(|sniff| sniff(name, &utf8)) {
        return Ok(format);
    }
    refuse_broken_structure(name, &utf8)?;
    text::sniff(name, &utf8).ok_or_else(|| FormatError::Unsupported { name: name.to_string() })
}

fn mismatch(name: &str, offset: u64, message: String) -> FormatError {
    FormatError::Malformed { part: name.to_string(), offset, message }
}

/// Text that starts like XML, or starts and ends like JSON, but does not parse is refused: it
/// is structure, and would come back broken if translated as prose.
fn refuse_broken_structure(name: &str, bytes: &[u8]) -> Result<(), FormatError> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(()) };
    let body = text.trim_start_matches('\u{feff}');
    let trimmed = body.trim();
    if let Some(root) = xml::root_name(body).filter(|_| trimmed.ends_with('>')) {
        if html::HTML_ROOTS.contains(&root.to_ascii_lowercase().as_str())
            || !root.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        {
            return Ok(());
        }
        if let Err(error) = xml::check_well_formed(name, body) {
            return Err(match error {
                FormatError::Malformed { part, offset, message } => FormatError::Malformed {
                    part,
                    offset,
                    message: format!(
                        "the content starts like XML (<{root}>) but is not well-formed: {message}"
                    ),
                },
                other => other,
            });
        }
    } else if body.trim_start().starts_with("<!DOCTYPE") || body.trim_start().starts_with("<?xml") {
        xml::check_well_formed(name, body)?;
    }
    let json_like = (trimmed.starts_with('{') && trimmed.ends_with('}'))
        || (trimmed.starts_with('[')
            && trimmed.ends_with(']')
            && trimmed[1..].trim_start().starts_with(['{', '[', '"']));
    if json_like && let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
        return Err(mismatch(
            name,
            catalog::json_offset(body, e.line(), e.column()),
            format!("the content starts and ends like JSON but does not parse: {e}"),
        ));
    }
    Ok(())
}

/// Refuses a recognised extension whose content is another format.
fn check_extension(
    name: &str,
    ext: &str,
    bytes: &[u8],
    detected: &Result<Format, FormatError>,
) -> Result<(), FormatError> {
    let format = detected.as_ref().ok().copied();
    let expected: &[Format] = match ext {
        "json" | "arb" => &[Format::Json],
        "yaml" | "yml" => &[Format::Yaml, Format::Json],
        "po" | "pot" => &[Format::Po],
        "xlf" | "xliff" => &[Format::Xliff],
        "srt" => &[Format::Srt],
        "vtt" => &[Format::WebVtt],
        "svg" | "resx" => &[Format::Xml],
        _ => return Ok(()),
    };
    if format.is_some_and(|f| expected.contains(&f)) {
        return Ok(());
    }
    let text: Cow<'_, str> = match encoding::decode_wide_text(bytes) {
        Some((text, _, _)) => Cow::Owned(text),
        None => String::from_utf8_lossy(bytes),
    };
    let text = text.trim_start_matches('\u{feff}');
    let found = match format {
        Some(format) => format!("its content is {}", format.label()),
        None => match detected {
            Err(FormatError::Malformed { message, .. }) => message.clone(),
            Err(other) => other.to_string(),
            Ok(_) => String::new(),
        },
    };
    let (offset, why) = match ext {
        "json" | "arb" => match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => (
                catalog::json_offset(text, e.line(), e.column()),
                format!("its content does not parse as JSON: {e}"),
            ),
            Ok(_) => (0, "its content is JSON but not an object or array of messages".into()),
        },
        "yaml" | "yml" => match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
            Err(e) => (
                e.location().map_or(0, |l| l.index() as u64),
                format!("its content does not parse as YAML: {e}"),
            ),
            Ok(_) => (0, "its content is YAML but not a mapping of messages".into()),
        },
        "po" | "pot" => (0, format!("it has no msgid/msgstr entry ({found})")),
        "xlf" | "xliff" | "svg" | "resx" => match xml::check_well_formed(name, text) {
            Err(FormatError::Malformed { offset, message, .. }) => {
                (offset, format!("its content is not well-formed XML: {message}"))
            }
            Err(other) => return Err(other),
            Ok(()) => match xml::root_name(text) {
                Some(root) => (0, format!("its root element is <{root}>")),
                None => (0, found),
            },
        },
        _ => (0, found),
    };
    let what = match ext {
        "json" | "arb" => "JSON",
        "yaml" | "yml" => "YAML",
        "po" | "pot" => "a gettext catalogue",
        "xlf" | "xliff" => "XLIFF (root element <xliff>)",
        "srt" => "SubRip subtitles",
        "vtt" => "WebVTT subtitles (starting with WEBVTT)",
        "svg" => "SVG (XML)",
        _ => "XML",
    };
    Err(mismatch(name, offset, format!("a .{ext} file holds {what}, and {why}")))
}
