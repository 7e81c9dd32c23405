//! Zip access for office packages: listing, limit-checked reads, and rewriting with untouched
//! entries copied raw (same compressed bytes, same order, same names).

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::{FormatError, Limits};

/// The entries of a package, in stored order.
#[derive(Debug)]
pub(crate) struct Package {
    /// Entry names as stored.
    pub names: Vec<String>,
    archive: ZipArchive<Cursor<Vec<u8>>>,
    limits: Limits,
    read_total: u64,
}

fn archive_err(e: impl std::fmt::Display) -> FormatError {
    FormatError::Archive(e.to_string())
}

impl Package {
    /// Opens `bytes` as a zip package, checking entry count and names.
    pub fn open(bytes: &[u8], limits: Limits) -> Result<Self, FormatError> {
        let archive = ZipArchive::new(Cursor::new(bytes.to_vec())).map_err(archive_err)?;
        if archive.len() as u64 > limits.max_entries {
            return Err(FormatError::LimitExceeded {
                what: "entries".into(),
                limit: limits.max_entries,
            });
        }
        let mut names = Vec::with_capacity(archive.len());
        for name in archive.file_names() {
            names.push(name.map_err(archive_err)?.into_owned());
        }
        // file_names() iterates in central-directory order, which is the stored order.
        for name in &names {
            if name.starts_with('/') || name.split(['/', '\\']).any(|c| c == "..") || name.contains('\0')
            {
                return Err(FormatError::UnsafeEntryName { name: name.clone() });
            }
        }
        Ok(Package { names, archive, limits, read_total: 0 })
    }

    /// Reads entry `name` (the first one with that name), enforcing the size limits while reading.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, FormatError> {
        let index = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| FormatError::Archive(format!("entry `{name}` is missing")))?;
        let file = self.archive.by_index(index).map_err(archive_err)?;
        if file.encrypted() {
            return Err(FormatError::Archive(format!("entry `{name}` is encrypted")));
        }
        let limit = self.limits.max_entry_bytes;
        let mut out = Vec::new();
        file.take(limit + 1).read_to_end(&mut out).map_err(archive_err)?;
        if out.len() as u64 > limit {
            return Err(FormatError::LimitExceeded { what: "entry size".into(), limit });
        }
        self.read_total += out.len() as u64;
        if self.read_total > self.limits.max_total_bytes {
            return Err(FormatError::LimitExceeded {
                what: "total size".into(),
                limit: self.limits.max_total_bytes,
            });
        }
        Ok(out)
    }

    /// Whether an entry called `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

/// The entry names of a zip, or `None` when it is not one.
pub(crate) fn entry_names(bytes: &[u8]) -> Option<Vec<String>> {
    let archive = ZipArchive::new(Cursor::new(bytes)).ok()?;
    archive.file_names().map(|n| n.ok().map(|c| c.into_owned())).collect()
}

/// Rewrites `original` with the entries named in `changes` replaced; every other entry is
/// copied raw, in the original order, with its original compression method.
pub(crate) fn rewrite(original: &[u8], changes: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, FormatError> {
    if changes.is_empty() {
        return Ok(original.to_vec());
    }
    let mut archive = ZipArchive::new(Cursor::new(original)).map_err(archive_err)?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(original.len() + 1024)));
    let mut done: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for i in 0..archive.len() {
        let file = archive.by_index_raw(i).map_err(archive_err)?;
        let name = file.name().map_err(archive_err)?.into_owned();
        match changes.get(&name) {
            Some(data) if !done.contains(name.as_str()) => {
                let options = SimpleFileOptions::default()
                    .compression_method(file.compression())
                    .last_modified_time(file.last_modified().unwrap_or_default());
                drop(file);
                writer.start_file(name.clone(), options).map_err(archive_err)?;
                writer.write_all(data).map_err(archive_err)?;
                if let Some((key, _)) = changes.get_key_value(&name) {
                    done.insert(key.as_str());
                }
            }
            _ => writer.raw_copy_file(file).map_err(archive_err)?,
        }
    }
    Ok(writer.finish().map_err(archive_err)?.into_inner())
}
