//! Exchange formats of translation resources (not documents): term bases as CSV/TSV
//! ([`term_csv`]) and TBX-Basic ([`tbx`]).
//!
//! Why here: these are file formats like the document filters, read and written on the same XML
//! and CSV libraries, with no knowledge of where the entries are stored. Readers are strict on
//! structure (an error names the line or entry) and bounded by [`MAX_EXCHANGE_ENTRIES`].

pub mod tbx;
pub mod term_csv;

/// Most entries an exchange file may hold (a larger file is refused, not truncated).
pub const MAX_EXCHANGE_ENTRIES: usize = 100_000;

/// Why an exchange file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The file is not well-formed CSV/TSV or XML; the message says where.
    #[error("{format} file is malformed: {message}")]
    Malformed {
        /// `CSV`, `TSV` or `TBX`.
        format: &'static str,
        /// What is wrong, and where.
        message: String,
    },
    /// The file holds more than [`MAX_EXCHANGE_ENTRIES`] entries.
    #[error("the file holds more than {MAX_EXCHANGE_ENTRIES} entries")]
    TooManyEntries,
}
