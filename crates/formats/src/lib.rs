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

mod apple_strings;
pub mod archive;
#[cfg(feature = "bench")]
pub mod bench;
mod detect;
mod document;
mod encoding;
mod error;
pub mod exchange;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "fuzzing")]
pub mod fuzzing_text;
mod markup;
mod placeholders;
mod splice;
pub(crate) mod xml;

mod catalog;
mod csv;
mod epub;
mod html;
mod its;
mod markdown;
mod office;
mod po;
mod properties;
mod scenari;
mod subtitles;
mod text;
mod title;
mod xcstrings;
mod xliff;

pub use archive::{EntryInfo, EntryMethod, SafeZip};
pub use csv::CsvOptions;
pub use detect::detect;
pub use document::{
    Document, ExtractOptions, Format, KeptField, Limits, MergeOptions, Report, Skeleton,
    UnknownFormat,
};
pub use error::FormatError;
pub use title::MAX_TITLE_CHARS;

/// Extracts a document of any supported format.
pub fn extract(
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let format = detect(name, bytes)?;
    extract_as(format, name, bytes, options)
}

/// Extracts the document in the file at `path` (`name` is what detection and locations call it).
///
/// Scenari archives (`.scar`, `.scwsp`) and OOXML/ODF packages are read from the file itself:
/// only their items or text parts are decompressed, and [`Document::merge_to_path`] streams
/// every other entry (media) from the input file,
/// so an archive of any size (zip64 included) costs memory in proportion to its largest parsed
/// entry. Other files are read into memory and handled by [`extract`]. A caller that has a file
/// (the command line, an upload spooled to disk) should use this and
/// [`Document::merge_to_path`] rather than [`extract_as`] and [`Document::merge`].
pub fn extract_path(
    name: &str,
    path: &std::path::Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let document = extract_path_unchecked(name, path, options)?;
    options.limits.check_segments(document.segments.len())?;
    Ok(document)
}

fn extract_path_unchecked(
    name: &str,
    path: &std::path::Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    if file_looks_like_zip(path) {
        match zip_file_format(name, path) {
            Some(format @ (Format::Docx | Format::Pptx | Format::Xlsx)) => {
                return office::ooxml::extract_file(format, path, options);
            }
            Some(format @ (Format::Odt | Format::Odp | Format::Ods)) => {
                return office::odf::extract_file(format, path, options);
            }
            Some(Format::ScenariArchive) => {
                return scenari::extract_archive_file(name, path, options);
            }
            // EPUB, zips of Scenari items without the extension, and broken archives are read
            // in memory, where detection and its messages are those of `extract`.
            _ => {}
        }
    }
    let bytes = std::fs::read(path)
        .map_err(|e| FormatError::Invalid(format!("cannot read the file: {e}")))?;
    extract(name, &bytes, options)
}

/// Extracts the document in the file at `path` whose format is already known (detected at
/// upload): like [`extract_path`], archives and office packages are read from the file and
/// stream their untouched entries on [`Document::merge_to_path`]; other formats are read into
/// memory and handled by [`extract_as`].
pub fn extract_path_as(
    format: Format,
    name: &str,
    path: &std::path::Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let document = match format {
        Format::Docx | Format::Pptx | Format::Xlsx if file_looks_like_zip(path) => {
            office::ooxml::extract_file(format, path, options)?
        }
        Format::Odt | Format::Odp | Format::Ods if file_looks_like_zip(path) => {
            office::odf::extract_file(format, path, options)?
        }
        Format::ScenariArchive if file_looks_like_zip(path) => {
            scenari::extract_archive_file(name, path, options)?
        }
        _ => {
            let bytes = std::fs::read(path)
                .map_err(|e| FormatError::Invalid(format!("cannot read the file: {e}")))?;
            return extract_as(format, name, &bytes, options);
        }
    };
    options.limits.check_segments(document.segments.len())?;
    Ok(document)
}

/// The format of a zip file, by the same rules and in the same order as [`detect`] (office
/// packages by their entries, then Scenari archives by their extension), read from the file's
/// central directory; `None` leaves the file to in-memory detection.
fn zip_file_format(name: &str, path: &std::path::Path) -> Option<Format> {
    let zip = archive::file::open_file(path, &Limits::default()).ok()?;
    let names: Vec<String> = zip.entries().iter().map(|e| e.name.clone()).collect();
    if let Some(format) = office::ooxml::sniff_names(&names) {
        return Some(format);
    }
    if let Some(format) = office::odf::sniff_package(&mut office::package::Package::of(zip)) {
        return Some(format);
    }
    scenari::is_archive_name(name).then_some(Format::ScenariArchive)
}

/// True when the file starts like a zip archive.
fn file_looks_like_zip(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && archive::looks_like_zip(&head)
}

/// The format of the file at `path`, by the same rules as [`detect`]: office packages and
/// Scenari archives from their central directory (never read into memory), other files from
/// their bytes.
pub fn detect_path(name: &str, path: &std::path::Path) -> Result<Format, FormatError> {
    if file_looks_like_zip(path)
        && let Some(
            format @ (Format::Docx
            | Format::Pptx
            | Format::Xlsx
            | Format::Odt
            | Format::Odp
            | Format::Ods
            | Format::ScenariArchive),
        ) = zip_file_format(name, path)
    {
        return Ok(format);
    }
    let bytes = std::fs::read(path)
        .map_err(|e| FormatError::Invalid(format!("cannot read the file: {e}")))?;
    detect(name, &bytes)
}

/// The limits a file of `format` at `path` can be checked against before extraction, cheaply
/// (what an upload is told at once): the XML an office package's text parts declare, the size
/// of an XML file, against [`Limits::max_xml_bytes`]. Extraction checks every limit again,
/// whatever headers declare.
pub fn precheck_path(
    format: Format,
    path: &std::path::Path,
    limits: &Limits,
) -> Result<(), FormatError> {
    match format {
        Format::Docx | Format::Pptx | Format::Xlsx => office::ooxml::precheck_file(path, limits),
        f if is_xml_file(f) => {
            let size = std::fs::metadata(path)
                .map_err(|e| FormatError::Invalid(format!("cannot read the file: {e}")))?
                .len();
            limits.check_xml(size)
        }
        _ => Ok(()),
    }
}

/// Formats whose file is one XML document (held to [`Limits::max_xml_bytes`] as a whole).
fn is_xml_file(format: Format) -> bool {
    matches!(format, Format::Scenari | Format::Xml | Format::Xliff)
}

/// Extracts a document whose format is already known.
///
/// Every filter holds [`Limits::max_segments`]; the archive filters, where a small file can
/// expand to millions of segments, stop as soon as it is crossed, the others (whose segments
/// are bounded by the file's own size) are checked once they are done.
pub fn extract_as(
    format: Format,
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    if is_xml_file(format) {
        options.limits.check_xml(bytes.len() as u64)?;
    }
    let document = extract_unchecked(format, name, bytes, options)?;
    options.limits.check_segments(document.segments.len())?;
    Ok(document)
}

fn extract_unchecked(
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
        Format::Xml => its::extract(format, name, bytes, options),
        Format::JavaProperties => properties::extract(format, name, bytes, options),
        Format::Csv => csv::extract(format, name, bytes, options),
        Format::AppleStrings => apple_strings::extract(format, name, bytes, options),
        Format::XcStrings => xcstrings::extract(format, name, bytes, options),
    }
}
