//! The filter-independent document: segments, report and skeleton.

use std::collections::BTreeMap;

use serde::Serialize;
use tradia_core::{Content, LanguageTag, QuizGroup, Segment};

use crate::FormatError;

/// A supported document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A Scenari item (`.xml`, `.quiz`, `.ref`, … detected by content).
    Scenari,
    /// A Scenari archive (`.scar`, `.scwsp`, or a zip of items).
    ScenariArchive,
    /// Word (Office Open XML).
    Docx,
    /// PowerPoint (Office Open XML).
    Pptx,
    /// Excel (Office Open XML).
    Xlsx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument presentation.
    Odp,
    /// OpenDocument spreadsheet.
    Ods,
    /// HTML or XHTML page.
    Html,
    /// Markdown (CommonMark + tables).
    Markdown,
    /// Plain text.
    PlainText,
    /// XLIFF 1.2 or 2.x.
    Xliff,
    /// gettext PO.
    Po,
    /// JSON message catalogue.
    Json,
    /// YAML message catalogue.
    Yaml,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    WebVtt,
    /// EPUB e-book.
    Epub,
    /// Any other well-formed XML, read with W3C ITS 2.0 rules (built in for SVG, Android
    /// strings, .NET `.resx`, Qt Linguist `.ts`, DocBook and DITA).
    Xml,
    /// Java `.properties` resource bundle.
    JavaProperties,
    /// CSV or TSV table.
    Csv,
    /// Apple `.strings`.
    AppleStrings,
    /// Apple String Catalog (`.xcstrings`).
    XcStrings,
}

impl Format {
    /// Every format, for messages and the interface.
    pub const ALL: [Format; 23] = [
        Format::Scenari,
        Format::ScenariArchive,
        Format::Docx,
        Format::Pptx,
        Format::Xlsx,
        Format::Odt,
        Format::Odp,
        Format::Ods,
        Format::Html,
        Format::Markdown,
        Format::PlainText,
        Format::Xliff,
        Format::Po,
        Format::Json,
        Format::Yaml,
        Format::Srt,
        Format::WebVtt,
        Format::Epub,
        Format::Xml,
        Format::JavaProperties,
        Format::Csv,
        Format::AppleStrings,
        Format::XcStrings,
    ];

    /// The stable name of the format: the one the API, the store and the job JSON use (the
    /// serde name). [`FromStr`](std::str::FromStr) parses it back.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Scenari => "scenari",
            Format::ScenariArchive => "scenari_archive",
            Format::Docx => "docx",
            Format::Pptx => "pptx",
            Format::Xlsx => "xlsx",
            Format::Odt => "odt",
            Format::Odp => "odp",
            Format::Ods => "ods",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::PlainText => "plain_text",
            Format::Xliff => "xliff",
            Format::Po => "po",
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Srt => "srt",
            Format::WebVtt => "web_vtt",
            Format::Epub => "epub",
            Format::Xml => "xml",
            Format::JavaProperties => "java_properties",
            Format::Csv => "csv",
            Format::AppleStrings => "apple_strings",
            Format::XcStrings => "xc_strings",
        }
    }

    /// Human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            Format::Scenari => "Scenari item",
            Format::ScenariArchive => "Scenari archive (.scar)",
            Format::Docx => "Word (.docx)",
            Format::Pptx => "PowerPoint (.pptx)",
            Format::Xlsx => "Excel (.xlsx)",
            Format::Odt => "OpenDocument text (.odt)",
            Format::Odp => "OpenDocument presentation (.odp)",
            Format::Ods => "OpenDocument spreadsheet (.ods)",
            Format::Html => "HTML",
            Format::Markdown => "Markdown",
            Format::PlainText => "plain text",
            Format::Xliff => "XLIFF",
            Format::Po => "gettext PO",
            Format::Json => "JSON catalogue",
            Format::Yaml => "YAML catalogue",
            Format::Srt => "SubRip (.srt)",
            Format::WebVtt => "WebVTT (.vtt)",
            Format::Epub => "EPUB",
            Format::Xml => "XML (ITS 2.0; SVG, Android strings, .resx, Qt .ts, DocBook, DITA)",
            Format::JavaProperties => "Java properties (.properties)",
            Format::Csv => "CSV/TSV table",
            Format::AppleStrings => "Apple strings (.strings)",
            Format::XcStrings => "Apple String Catalog (.xcstrings)",
        }
    }

    /// The file-name extensions (lower case, without the dot) files of this format usually
    /// have: what an upload form offers in its file picker. Detection goes by content, so a
    /// file with another extension is still read; Scenari items have no fixed extension, and
    /// the list names the ones Opale and the common models use.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Format::Scenari => &[
                "xml",
                "quiz",
                "ref",
                "scen",
                "unit",
                "publi",
                "pub",
                "net",
                "mweb",
                "section",
                "paragraph",
                "gloss",
                "module",
                "ue",
                "uediv",
                "pb",
                "activity",
                "practice",
                "exercise",
                "question",
                "expuc",
                "image",
                "doc",
            ],
            Format::ScenariArchive => &["scar", "scwsp", "zip"],
            Format::Docx => &["docx"],
            Format::Pptx => &["pptx"],
            Format::Xlsx => &["xlsx"],
            Format::Odt => &["odt"],
            Format::Odp => &["odp"],
            Format::Ods => &["ods"],
            Format::Html => &["html", "htm", "xhtml"],
            Format::Markdown => &["md", "markdown"],
            Format::PlainText => &["txt", "text"],
            Format::Xliff => &["xlf", "xliff"],
            Format::Po => &["po", "pot"],
            Format::Json => &["json", "arb"],
            Format::Yaml => &["yaml", "yml"],
            Format::Srt => &["srt"],
            Format::WebVtt => &["vtt"],
            Format::Epub => &["epub"],
            Format::Xml => &["xml", "svg", "resx", "ts", "dita", "ditamap"],
            Format::JavaProperties => &["properties"],
            Format::Csv => &["csv", "tsv"],
            Format::AppleStrings => &["strings"],
            Format::XcStrings => &["xcstrings"],
        }
    }

    /// The media type of a translated file of this format, for downloads (no charset: a file
    /// is written back in its own encoding).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Scenari | Format::Xml | Format::Xliff => "application/xml",
            Format::ScenariArchive => "application/zip",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Odt => "application/vnd.oasis.opendocument.text",
            Format::Odp => "application/vnd.oasis.opendocument.presentation",
            Format::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Format::Html => "text/html",
            Format::Markdown => "text/markdown",
            Format::PlainText | Format::Po | Format::JavaProperties | Format::AppleStrings => {
                "text/plain"
            }
            Format::Json | Format::XcStrings => "application/json",
            Format::Yaml => "application/yaml",
            Format::Srt => "application/x-subrip",
            Format::WebVtt => "text/vtt",
            Format::Epub => "application/epub+zip",
            Format::Csv => "text/csv",
        }
    }

    /// Comma-separated labels of the supported formats.
    pub fn supported_list() -> String {
        Format::ALL.iter().map(|f| f.label()).collect::<Vec<_>>().join(", ")
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format name `{0}`")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Bounds on what reading a document may cost (zip bombs, huge inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Most entries an archive may have.
    pub max_entries: u64,
    /// Most bytes one entry that is decompressed and parsed may expand to.
    pub max_entry_bytes: u64,
    /// Most bytes all decompressed and parsed entries together may expand to.
    pub max_total_bytes: u64,
    /// Most bytes an entry that is only copied (never decompressed: media, binaries) may declare.
    pub max_copied_entry_bytes: u64,
    /// Most bytes all entries of an archive together may declare.
    pub max_copied_total_bytes: u64,
    /// Most levels of archives inside archives. No filter opens an archive stored inside
    /// another (such entries are copied as opaque bytes), so nothing reaches this bound yet; it
    /// is the bound any filter that recurses must honour.
    pub max_nesting: u32,
    /// Most bytes of XML one document may have parsed: the sum over the parts an archive's
    /// filter decompresses (office parts, Scenari items, EPUB chapters), or the size of an XML
    /// file. Checked on the declared sizes first, then while expanding, so an amplifying
    /// package is refused before its XML is parsed.
    pub max_xml_bytes: u64,
    /// Most segments one file may yield. Filters stop as soon as it is crossed (they never
    /// build every segment to count them). A long segment is not refused here: the LLM engine
    /// sends it in parts (`TRADIA_MAX_SEGMENT_CHARS`).
    pub max_segments: usize,
}

impl Limits {
    /// The error for a file past [`Limits::max_segments`].
    pub fn too_many_segments(&self) -> FormatError {
        FormatError::TooManySegments { limit: self.max_segments as u64 }
    }

    /// Fails when `count` segments are more than [`Limits::max_segments`].
    pub fn check_segments(&self, count: usize) -> Result<(), FormatError> {
        if count > self.max_segments { Err(self.too_many_segments()) } else { Ok(()) }
    }

    /// Fails when `bytes` of XML are more than [`Limits::max_xml_bytes`].
    pub fn check_xml(&self, bytes: u64) -> Result<(), FormatError> {
        if bytes > self.max_xml_bytes {
            Err(FormatError::XmlTooLarge { limit: self.max_xml_bytes })
        } else {
            Ok(())
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_entry_bytes: 256 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_copied_entry_bytes: 64 << 30,
            max_copied_total_bytes: 256 << 30,
            max_nesting: 2,
            max_xml_bytes: 64 << 20,
            max_segments: 100_000,
        }
    }
}

/// Options for extraction.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Resource limits.
    pub limits: Limits,
    /// How CSV/TSV tables are read (header row, chosen columns).
    pub csv: crate::CsvOptions,
    /// Keep quiz answers as they are (Scenari cloze gap answers with their options and
    /// synonyms, short-answer values), as before quizzes were translated: by default they are
    /// segments translated together ([`Document::quiz`]).
    pub keep_quiz_answers: bool,
}

/// Options for merging.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The language translated into (formats that record it, like HTML `lang`, update it).
    pub target: LanguageTag,
}

/// A field the filter saw and deliberately did not translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptField {
    /// Where (same form as [`Segment::location`]).
    pub location: String,
    /// The element or field name.
    pub field: String,
    /// Why it is kept (`code`, `url`, `option key`, `unknown field`…).
    pub reason: String,
}

/// What extraction saw besides segments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Fields kept as they are, and why.
    pub kept: Vec<KeptField>,
    /// Unknown text fields (kept), counted by element name, so the rules can grow.
    pub unknown_fields: BTreeMap<String, u64>,
    /// Non-fatal remarks.
    pub warnings: Vec<String>,
    /// Notes for translators by segment id (ITS localization notes, `.resx` comments, Qt
    /// `extracomment`s): context to give the model with the segment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<u32, String>,
}

/// The untranslated rest of a document, able to rebuild it around translations.
pub trait Skeleton: Send + Sync {
    /// Rebuilds the document with `translations[i]` in place of segment `i`.
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError>;

    /// Rebuilds the document into the file at `output`. Archive skeletons read from a file
    /// ([`crate::extract_path`]) stream their untouched entries; others write what
    /// [`Skeleton::merge`] returns.
    fn merge_to_path(
        &self,
        translations: &[Content],
        options: &MergeOptions,
        output: &std::path::Path,
    ) -> Result<(), FormatError> {
        let bytes = self.merge(translations, options)?;
        std::fs::write(output, bytes)
            .map_err(|e| FormatError::Archive(format!("cannot write the output: {e}")))
    }
}

/// A document split into segments and skeleton.
pub struct Document {
    /// Its format.
    pub format: Format,
    /// Translatable segments, ids `0..n` in document order.
    pub segments: Vec<Segment>,
    /// What was kept and why.
    pub report: Report,
    /// The document's own title, when its format records one (see `title.rs`): at most
    /// [`crate::MAX_TITLE_CHARS`] characters, whitespace collapsed.
    pub title: Option<String>,
    /// What the document is about, when its format records it (office subject or keywords).
    pub domain: Option<String>,
    /// Quiz terms among the segments that must be translated together and consistently
    /// (`tradia_core::quiz`); the engine receives them in `Guidance::quiz`.
    pub quiz: Vec<QuizGroup>,
    skeleton: Box<dyn Skeleton>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("format", &self.format)
            .field("segments", &self.segments.len())
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Assembles a document (filters call this).
    pub fn new(
        format: Format,
        segments: Vec<Segment>,
        report: Report,
        skeleton: Box<dyn Skeleton>,
    ) -> Self {
        Document { format, segments, report, title: None, domain: None, quiz: Vec::new(), skeleton }
    }

    /// The document with its own title and domain (filters that find them call this).
    pub fn with_title(mut self, title: Option<String>, domain: Option<String>) -> Self {
        self.title = title;
        self.domain = domain.filter(|d| Some(d) != self.title.as_ref());
        self
    }

    /// What the document says it is, for an engine's brief: its title, and its domain after a
    /// dash; `None` when it records neither.
    pub fn brief(&self) -> Option<String> {
        match (&self.title, &self.domain) {
            (Some(t), Some(d)) => Some(format!("{t} — {d}")),
            (Some(t), None) => Some(t.clone()),
            (None, Some(d)) => Some(d.clone()),
            (None, None) => None,
        }
    }

    /// The same document with its quiz groups (filters that find quizzes call this).
    pub fn with_quiz(mut self, quiz: Vec<QuizGroup>) -> Self {
        self.quiz = quiz;
        self
    }

    /// Rebuilds the document with one translation per segment, checking each translation's
    /// inline codes against its source first: a bad translation is an error, never a corrupt file.
    pub fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        self.check(translations)?;
        self.skeleton.merge(translations, options)
    }

    /// Like [`Document::merge`], into the file at `output`: for an archive extracted from a file
    /// ([`crate::extract_path`]), untouched entries are streamed from the input file, so memory
    /// stays bounded by the parsed entries whatever the archive's size.
    pub fn merge_to_path(
        &self,
        translations: &[Content],
        options: &MergeOptions,
        output: &std::path::Path,
    ) -> Result<(), FormatError> {
        self.check(translations)?;
        self.skeleton.merge_to_path(translations, options, output)
    }

    fn check(&self, translations: &[Content]) -> Result<(), FormatError> {
        if translations.len() != self.segments.len() {
            return Err(FormatError::TranslationCount {
                expected: self.segments.len(),
                got: translations.len(),
            });
        }
        for (segment, translation) in self.segments.iter().zip(translations) {
            translation
                .check_codes_against(&segment.content)
                .map_err(|error| FormatError::InvalidTranslation { segment: segment.id, error })?;
        }
        Ok(())
    }

    /// Rebuilds the document unchanged (identity merge).
    pub fn merge_identity(&self, options: &MergeOptions) -> Result<Vec<u8>, FormatError> {
        let sources: Vec<Content> = self.segments.iter().map(|s| s.content.clone()).collect();
        self.merge(&sources, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_are_the_serde_names_and_parse_back() {
        for format in Format::ALL {
            let serde_json = serde_json::to_string(&format).unwrap();
            assert_eq!(serde_json, format!("\"{}\"", format.as_str()), "{format:?}");
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert_eq!("docxx".parse::<Format>(), Err(UnknownFormat("docxx".into())));
    }
}
