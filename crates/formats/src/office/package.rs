//! Package access for the office filters, over the shared safe zip layer
//! ([`crate::archive::SafeZip`]): limit-checked reads by entry name, and rewriting with
//! untouched entries copied raw (same compressed bytes, same order, same names).

use std::collections::BTreeMap;
use std::io::Cursor;

use crate::archive::SafeZip;
use crate::{FormatError, Limits};

/// An open package.
pub(crate) struct Package<'a> {
    /// Entry names in stored order.
    pub names: Vec<String>,
    zip: SafeZip<'a>,
}

impl<'a> Package<'a> {
    /// Opens `bytes` as a zip package, validated against `limits`.
    pub fn open(bytes: &'a [u8], limits: Limits) -> Result<Self, FormatError> {
        let zip = SafeZip::open(bytes, &limits)?;
        let names = zip.entries().iter().map(|e| e.name.clone()).collect();
        Ok(Package { names, zip })
    }

    /// Reads entry `name`, enforcing the size limits while expanding.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, FormatError> {
        self.zip.read_by_name(name)
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

/// Rewrites `original` with the entries named in `changes` replaced; every other entry is
/// copied raw, in the original order, with its original compression method.
pub(crate) fn rewrite(
    original: &[u8],
    limits: Limits,
    changes: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, FormatError> {
    if changes.is_empty() {
        return Ok(original.to_vec());
    }
    let zip = SafeZip::open(original, &limits)?;
    let mut by_index = BTreeMap::new();
    for (name, data) in changes {
        let index = zip
            .index_of(name)
            .ok_or_else(|| FormatError::Archive(format!("no entry named `{name}`")))?;
        by_index.insert(index, data.clone());
    }
    zip.rewrite(&by_index)
}
