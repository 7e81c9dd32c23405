//! Package access for the office filters, over the shared safe zip layer
//! ([`crate::archive::SafeZip`]): limit-checked reads by entry name, and rewriting with
//! untouched entries copied raw (same compressed bytes, same order, same names) by
//! [`crate::archive::file::Source`].

use std::io::{Cursor, Read, Seek};

use crate::archive::SafeZip;
use crate::{FormatError, Limits};

/// An open package, in memory or read from a file.
pub(crate) struct Package<'a, R: Read + Seek = Cursor<&'a [u8]>> {
    /// Entry names in stored order.
    pub names: Vec<String>,
    zip: SafeZip<'a, R>,
}

impl<'a> Package<'a> {
    /// Opens `bytes` as a zip package, validated against `limits`.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, FormatError> {
        Ok(Package::of(SafeZip::open(bytes, &limits)?))
    }
}

impl<'a, R: Read + Seek> Package<'a, R> {
    /// The package of an open archive.
    pub fn of(zip: SafeZip<'a, R>) -> Self {
        let names = zip.entries().iter().map(|e| e.name.clone()).collect();
        Package { names, zip }
    }

    /// Reads entry `name`, enforcing the size limits while expanding.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, FormatError> {
        self.zip.read_by_name(name)
    }

    /// The uncompressed size entry `name` declares (0 when there is none).
    pub fn declared_size(&self, name: &str) -> u64 {
        self.zip.index_of(name).map_or(0, |i| self.zip.entries()[i].declared_size)
    }

    /// Whether an entry called `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.zip.index_of(name).is_some()
    }
}

/// The entry names of a zip, or `None` when it is not one (lenient: for sniffing only, so that
/// a hostile package is recognised and then refused with a precise error by extraction).
pub(crate) fn entry_names(bytes: &[u8]) -> Option<Vec<String>> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    archive.file_names().map(|n| n.ok().map(|c| c.into_owned())).collect()
}
