//! Document filters: each format family maps bytes to a [`Document`] (segments plus a skeleton)
//! and back.
//!
//! Two invariants hold for every filter and are tested on real documents:
//! 1. **Identity**: merging the extracted segments unchanged gives back the input bytes exactly
//!    (for archives: every entry's bytes, names and order).
//! 2. **Only text changes**: merging translations changes text and nothing else; markup comes
//!    from the skeleton, never from a model.
//!
//! Filters never build a DOM and re-serialise it: they tokenize with byte offsets and splice
//! translations into the original bytes.

#![forbid(unsafe_code)]

pub mod archive;
#[cfg(feature = "bench")]
pub mod bench;
mod document;
mod encoding;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "fuzzing")]
pub mod fuzzing_text;
mod markup;
mod placeholders;
mod splice;
pub(crate) mod xml;

mod catalog;
mod epub;
mod html;
mod markdown;
mod office;
mod po;
mod scenari;
mod subtitles;
mod text;
mod xliff;

pub use archive::{EntryInfo, EntryMethod, SafeZip};
pub use document::{
    Document, ExtractOptions, Format, KeptField, Limits, MergeOptions, Report, Skeleton,
    UnknownFormat,
};
pub use error::FormatError;

/// Extensions of zip-based formats: such a file must be a zip archive.
const ZIP_EXTENSIONS: [&str; 10] =
    ["docx", "pptx", "xlsx", "odt", "odp", "ods", "epub", "scar", "scwsp", "zip"];

/// Detects the format of `bytes` by content; `name` (the file name) only breaks ties, such as
/// Markdown versus plain text. Zip-based families come first, then XML, then text formats, with
/// plain text as the fallback for anything that decodes as text.
pub fn detect(name: &str, bytes: &[u8]) -> Result<Format, FormatError> {
    // A file named as a zip-based format that is not a zip is a damaged document, not text to
    // translate as such (a `.docx` holding plain text would come back as a broken `.docx`).
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if let Some(ext) = extension.as_deref()
        && ZIP_EXTENSIONS.contains(&ext)
        && !bytes.starts_with(b"PK")
    {
        return Err(FormatError::Malformed {
            part: name.to_string(),
            offset: 0,
            message: format!("a .{ext} file is a zip archive, and this one is not"),
        });
    }
    type Sniffer = fn(&str, &[u8]) -> Option<Format>;
    let sniffers: [Sniffer; 11] = [
        office::ooxml::sniff,
        office::odf::sniff,
        epub::sniff,
        scenari::sniff,
        xliff::sniff,
        html::sniff,
        subtitles::sniff,
        po::sniff,
        catalog::sniff,
        markdown::sniff,
        text::sniff,
    ];
    sniffers
        .iter()
        .find_map(|sniff| sniff(name, bytes))
        .ok_or_else(|| FormatError::Unsupported { name: name.to_string() })
}

/// Extracts a document of any supported format.
pub fn extract(
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let format = detect(name, bytes)?;
    extract_as(format, name, bytes, options)
}

/// Extracts a document whose format is already known.
pub fn extract_as(
    format: Format,
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    match format {
        Format::Scenari | Format::ScenariArchive => scenari::extract(format, name, bytes, options),
        Format::Docx | Format::Pptx | Format::Xlsx => {
            office::ooxml::extract(format, name, bytes, options)
        }
        Format::Odt | Format::Odp | Format::Ods => {
            office::odf::extract(format, name, bytes, options)
        }
        Format::Html => html::extract(format, name, bytes, options),
        Format::Markdown => markdown::extract(format, name, bytes, options),
        Format::PlainText => text::extract(format, name, bytes, options),
        Format::Xliff => xliff::extract(format, name, bytes, options),
        Format::Po => po::extract(format, name, bytes, options),
        Format::Json | Format::Yaml => catalog::extract(format, name, bytes, options),
        Format::Srt | Format::WebVtt => subtitles::extract(format, name, bytes, options),
        Format::Epub => epub::extract(format, name, bytes, options),
    }
}
