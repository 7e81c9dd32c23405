//! Filter errors: one variant per way a document can be refused, each with a stable code.

use tradia_core::MarkupError;

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The format is not one Tradia handles.
    #[error("{name}: unsupported format; supported: {}", crate::Format::supported_list())]
    Unsupported {
        /// File name.
        name: String,
    },
    /// Not well-formed (XML, JSON…); `offset` is a byte offset in the file or entry.
    #[error("{part}: not well-formed at byte {offset}: {message}")]
    Malformed {
        /// File or archive entry.
        part: String,
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// DTDs and entity declarations are refused (XXE, entity expansion bombs).
    #[error("{part}: documents with a DOCTYPE or entity declarations are refused (security)")]
    Doctype {
        /// File or archive entry.
        part: String,
    },
    /// An archive entry name is absolute or climbs out with `..`.
    #[error("archive entry `{name}` has an unsafe name (absolute or containing `..`)")]
    UnsafeEntryName {
        /// The entry name as stored.
        name: String,
    },
    /// An archive exceeds a configured limit (entries, sizes, nesting).
    #[error("archive limit exceeded: {what} (limit {limit})")]
    LimitExceeded {
        /// Which limit (`entries`, `entry size`, `total size`, `nesting`, `compression ratio`).
        what: String,
        /// The configured limit.
        limit: u64,
    },
    /// A document holds more XML than [`crate::Limits::max_xml_bytes`] (sum over its parsed
    /// parts).
    #[error(
        "the document expands to more than {} of XML (limit TRADIA_MAX_XML_MB); split it or \
         raise the limit",
        size_text(*limit)
    )]
    XmlTooLarge {
        /// The configured limit in bytes.
        limit: u64,
    },
    /// A file yields more segments than [`crate::Limits::max_segments`].
    #[error(
        "the document has more than {limit} segments (limit TRADIA_MAX_SEGMENTS_PER_FILE); \
         split it or raise the limit"
    )]
    TooManySegments {
        /// The configured limit.
        limit: u64,
    },
    /// The archive itself is unreadable, encrypted or uses an unsupported compression.
    #[error("archive: {0}")]
    Archive(String),
    /// The text encoding is unknown or could not be decided.
    #[error("{part}: {message}")]
    Encoding {
        /// File or archive entry.
        part: String,
        /// What is wrong.
        message: String,
    },
    /// Merge was given the wrong number of translations.
    #[error("merge expected {expected} translations, got {got}")]
    TranslationCount {
        /// Segments in the document.
        expected: usize,
        /// Translations given.
        got: usize,
    },
    /// A translation's inline codes do not match its source segment.
    #[error("translation of segment {segment} has invalid inline codes: {error}")]
    InvalidTranslation {
        /// Segment id.
        segment: u32,
        /// The mismatch.
        error: MarkupError,
    },
    /// Anything else wrong with the document's content.
    #[error("{0}")]
    Invalid(String),
}

/// `bytes` for people: whole MiB when it is a multiple of one, else bytes.
fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

impl FormatError {
    /// Stable snake_case code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            FormatError::Unsupported { .. } => "unsupported_format",
            FormatError::Malformed { .. } => "malformed_document",
            FormatError::Doctype { .. } => "doctype_refused",
            FormatError::UnsafeEntryName { .. } => "unsafe_archive_entry",
            FormatError::LimitExceeded { .. } => "archive_limit_exceeded",
            FormatError::XmlTooLarge { .. } => "xml_limit_exceeded",
            FormatError::TooManySegments { .. } => "segment_limit_exceeded",
            FormatError::Archive(_) => "invalid_archive",
            FormatError::Encoding { .. } => "unknown_encoding",
            FormatError::TranslationCount { .. } => "translation_count_mismatch",
            FormatError::InvalidTranslation { .. } => "invalid_translation",
            FormatError::Invalid(_) => "invalid_document",
        }
    }
}
