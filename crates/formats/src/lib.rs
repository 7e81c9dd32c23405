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

mod document;
mod error;

pub use document::{
    Document, ExtractOptions, Format, KeptField, Limits, MergeOptions, Report, Skeleton,
};
pub use error::FormatError;

/// Detects the format of `bytes` (by content; `name` only breaks ties, e.g. `.md` vs `.txt`).
pub fn detect(name: &str, bytes: &[u8]) -> Result<Format, FormatError> {
    let _ = (name, bytes);
    Err(FormatError::Unsupported { name: name.to_string() })
}

/// Extracts a document of any supported format.
pub fn extract(
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let format = detect(name, bytes)?;
    let _ = options;
    Err(FormatError::Unsupported { name: format!("{name} ({format:?})") })
}
