//! Placeholder: this format family's filter is being written (see ARCHITECTURE.md).

use crate::{Document, ExtractOptions, Format, FormatError};

/// Recognises this family's formats by content (`name` only breaks ties).
pub(crate) fn sniff(_name: &str, _bytes: &[u8]) -> Option<Format> {
    None
}

/// Extracts a document of `format` (one of this family's).
pub(crate) fn extract(
    format: Format,
    name: &str,
    _bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    Err(FormatError::Unsupported { name: format!("{name} ({})", format.label()) })
}
