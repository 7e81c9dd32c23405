//! Safe zip reading and faithful zip rewriting, shared by every zip-based format (Scenari `.scar`
//! and `.scwsp`, OOXML, ODF, EPUB).
//!
//! Why a layer of our own over the `zip` crate: the crate reads and writes zips well, but it has
//! no notion of a *budget*. An uploaded archive is hostile until proven otherwise:
//!
//! * **Zip bombs.** Headers declare sizes, but headers lie. Two budgets: entries that are only
//!   copied (media, binaries: never decompressed) are held to `max_copied_entry_bytes` and
//!   `max_copied_total_bytes`, checked on the declared sizes when the archive is opened; entries
//!   that a filter decompresses and parses are held to the much smaller `max_entry_bytes` and
//!   `max_total_bytes`, checked on the declared size before [`SafeZip::read`] starts (cheap early
//!   refusal) *and* while expanding: [`SafeZip::read`] pulls decompressed bytes through a counting reader that never asks the
//!   decompressor for more than one byte past the remaining budget, and fails with
//!   [`FormatError::LimitExceeded`] as soon as an entry expands past `max_entry_bytes` or all reads
//!   together past `max_total_bytes` — or past `max_xml_bytes`, the document's XML budget, when
//!   that is lower (everything [`SafeZip::read`] returns is parsed: office parts, Scenari items,
//!   EPUB chapters), which fails with [`FormatError::XmlTooLarge`].
//!   [`SafeZip::bytes_expanded`] exposes the count so tests can prove the limit fired in time.
//! * **Entry counts.** The count in the end-of-central-directory record is checked before the
//!   central directory is parsed, then the parsed count again.
//! * **Zip slip.** Entry names that are absolute, carry a drive letter, a NUL, or climb out with
//!   `..` are refused with [`FormatError::UnsafeEntryName`], even though nothing here ever writes
//!   an entry to disk by its name. Duplicate names, encrypted entries, symbolic links and
//!   compression methods other than Stored and Deflate are refused too.
//!
//! Writing back ([`SafeZip::rewrite`]) keeps everything a translation does not need to change:
//! the same entries with the same names (raw name bytes) in the same order; untouched entries are
//! copied with their compressed bytes reused (no recompression), replaced entries are compressed
//! with their original method (Stored stays Stored, which ODF needs for its leading `mimetype`
//! entry), with their timestamps and attributes, and the archive comment is kept. When nothing is
//! replaced, the input bytes are returned as they are, so an identity round trip is byte-exact
//! for the whole archive, not only for each entry.
//!
//! Archives of any size: [`mod@file`] opens the same reader over a file and rewrites into a file,
//! streaming untouched entries, so that memory follows the parsed entries, not the archive.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read, Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::{FormatError, Limits};

pub mod file;

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryMethod {
    /// Not compressed.
    Stored,
    /// Deflate.
    Deflated,
}

/// What the central directory says about one entry (declared, not yet verified, sizes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// Position in the archive (0-based, central directory order).
    pub index: usize,
    /// The name, decoded (UTF-8 when flagged, CP437 otherwise).
    pub name: String,
    /// The name's bytes as stored.
    pub name_raw: Vec<u8>,
    /// Declared uncompressed size (a hint: [`SafeZip::read`] enforces the limits itself).
    pub declared_size: u64,
    /// Declared compressed size.
    pub compressed_size: u64,
    /// Compression method.
    pub method: EntryMethod,
    /// True for directory entries (names ending in `/`).
    pub is_dir: bool,
}

/// A zip archive validated against [`Limits`], read with a byte budget: over bytes in memory
/// (the default), or over a file ([`file::open_file`]).
pub struct SafeZip<'a, R: Read + Seek = Cursor<&'a [u8]>> {
    bytes: &'a [u8],
    archive: ZipArchive<R>,
    entries: Vec<EntryInfo>,
    limits: Limits,
    expanded: u64,
}

impl<R: Read + Seek> std::fmt::Debug for SafeZip<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeZip")
            .field("entries", &self.entries.len())
            .field("expanded", &self.expanded)
            .finish_non_exhaustive()
    }
}

/// True when `bytes` starts like a zip archive (a local file header, or the end record of an
/// empty archive).
pub fn looks_like_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

impl<'a> SafeZip<'a> {
    /// Opens and validates an archive: entry count, names, duplicates, encryption, methods,
    /// declared sizes (against [`Limits::max_copied_entry_bytes`]: an entry is only held to the
    /// parsing limits when it is read). Nothing is decompressed yet.
    pub fn open(bytes: &'a [u8], limits: &Limits) -> Result<SafeZip<'a>, FormatError> {
        if let Some(count) = eocd_entry_count(bytes)
            && count > limits.max_entries
        {
            return Err(limit("entries", limits.max_entries));
        }
        let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
        let entries = validate(&mut archive, limits)?;
        Ok(SafeZip { bytes, archive, entries, limits: *limits, expanded: 0 })
    }

    /// The archive bytes this reader was opened on.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The error for reads past the total budget: the XML limit when it is the lower one.
fn total_error(limits: &Limits) -> FormatError {
    if limits.max_xml_bytes < limits.max_total_bytes {
        FormatError::XmlTooLarge { limit: limits.max_xml_bytes }
    } else {
        limit("total size", limits.max_total_bytes)
    }
}

/// Checks every entry of the central directory (see [`SafeZip::open`]).
fn validate<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    limits: &Limits,
) -> Result<Vec<EntryInfo>, FormatError> {
    if archive.len() as u64 > limits.max_entries {
        return Err(limit("entries", limits.max_entries));
    }
    let mut entries = Vec::with_capacity(archive.len());
    let mut names = HashSet::with_capacity(archive.len());
    let mut declared_total: u64 = 0;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(zip_error)?;
        let name = file.name().map_err(zip_error)?.into_owned();
        let name_raw = file.name_raw().to_vec();
        if !is_safe_name(&name) || file.enclosed_name().is_none() {
            return Err(FormatError::UnsafeEntryName { name });
        }
        if !names.insert(name.clone()) {
            return Err(FormatError::Archive(format!("duplicate entry name `{name}`")));
        }
        if file.encrypted() {
            return Err(FormatError::Archive(format!(
                "entry `{name}` is encrypted; encrypted archives are not supported"
            )));
        }
        if file.is_symlink() {
            return Err(FormatError::Archive(format!(
                "entry `{name}` is a symbolic link; links are not allowed in documents"
            )));
        }
        let method = match file.compression() {
            CompressionMethod::Stored => EntryMethod::Stored,
            CompressionMethod::Deflated => EntryMethod::Deflated,
            other => {
                return Err(FormatError::Archive(format!(
                    "entry `{name}` uses compression method {other}; only stored and \
                         deflate are supported"
                )));
            }
        };
        let declared_size = file.size();
        if declared_size > limits.max_copied_entry_bytes {
            return Err(limit("copied entry size", limits.max_copied_entry_bytes));
        }
        declared_total = declared_total.saturating_add(declared_size);
        if declared_total > limits.max_copied_total_bytes {
            return Err(limit("copied total size", limits.max_copied_total_bytes));
        }
        entries.push(EntryInfo {
            index,
            is_dir: file.is_dir(),
            name,
            name_raw,
            declared_size,
            compressed_size: file.compressed_size(),
            method,
        });
    }
    Ok(entries)
}

impl<'a, R: Read + Seek> SafeZip<'a, R> {
    /// The entries, in central directory order.
    pub fn entries(&self) -> &[EntryInfo] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the archive has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of the entry called `name`, if any.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// Total bytes expanded (decompressed) by [`SafeZip::read`] so far, across all entries.
    pub fn bytes_expanded(&self) -> u64 {
        self.expanded
    }

    /// Decompresses entry `index` into memory, enforcing the per-entry and cumulative limits
    /// whatever the headers declare. A bad checksum or corrupt data is an error.
    pub fn read(&mut self, index: usize) -> Result<Vec<u8>, FormatError> {
        let info = self.entry(index)?;
        let name = info.name.clone();
        let declared = info.declared_size;
        let entry_limit = self.limits.max_entry_bytes;
        // Everything read here is parsed (XML parts, items, chapters): the document's XML
        // budget holds together with the archive's expansion limit, whichever is lower.
        let total_limit = self.limits.max_total_bytes.min(self.limits.max_xml_bytes);
        // Cheap early refusal on the declared size; the counting below holds whatever it says.
        if declared > entry_limit {
            return Err(limit("entry size", entry_limit));
        }
        if self.expanded.saturating_add(declared) > total_limit {
            return Err(total_error(&self.limits));
        }
        let mut file = self.archive.by_index(index).map_err(zip_error)?;
        let mut out = Vec::with_capacity(declared.min(entry_limit).min(1 << 20) as usize);
        let mut entry_count: u64 = 0;
        let mut buf = [0u8; 16 * 1024];
        loop {
            // Ask for at most one byte past whichever budget is closer, so that the decompressor
            // never expands more than the budget plus one byte into our hands.
            let entry_left = entry_limit.saturating_sub(entry_count);
            let total_left = total_limit.saturating_sub(self.expanded);
            let want = entry_left.min(total_left).saturating_add(1).min(buf.len() as u64) as usize;
            let n = match file.read(&mut buf[..want]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(FormatError::Archive(format!("entry `{name}`: {e}")));
                }
            };
            if n == 0 {
                break;
            }
            entry_count += n as u64;
            self.expanded += n as u64;
            if entry_count > entry_limit {
                return Err(limit("entry size", entry_limit));
            }
            if self.expanded > total_limit {
                return Err(total_error(&self.limits));
            }
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }

    /// Decompresses at most the first `max` bytes of entry `index` (for sniffing its content);
    /// the bytes count toward [`SafeZip::bytes_expanded`] and the total limit.
    pub fn read_head(&mut self, index: usize, max: usize) -> Result<Vec<u8>, FormatError> {
        let name = self.entry(index)?.name.clone();
        let total_left = self
            .limits
            .max_total_bytes
            .min(self.limits.max_xml_bytes)
            .saturating_sub(self.expanded);
        let max = (max as u64).min(self.limits.max_entry_bytes).min(total_left) as usize;
        let file = self.archive.by_index(index).map_err(zip_error)?;
        let mut out = Vec::with_capacity(max);
        file.take(max as u64)
            .read_to_end(&mut out)
            .map_err(|e| FormatError::Archive(format!("entry `{name}`: {e}")))?;
        self.expanded += out.len() as u64;
        Ok(out)
    }

    /// Decompresses the entry called `name` (see [`SafeZip::read`]).
    pub fn read_by_name(&mut self, name: &str) -> Result<Vec<u8>, FormatError> {
        let index = self
            .index_of(name)
            .ok_or_else(|| FormatError::Archive(format!("no entry named `{name}`")))?;
        self.read(index)
    }

    fn entry(&self, index: usize) -> Result<&EntryInfo, FormatError> {
        self.entries
            .get(index)
            .ok_or_else(|| FormatError::Archive(format!("no entry number {index}")))
    }
}

impl SafeZip<'_> {
    /// Writes a new archive with the same entries, names and order, where entry `i` holds
    /// `replacements[i]` when present. Untouched entries are copied raw (compressed bytes reused);
    /// replaced ones are compressed with their original method and keep their timestamp and
    /// attributes. With no replacement at all, the input bytes are returned unchanged.
    ///
    /// A replaced entry whose name was stored in CP437 with non-ASCII characters is written with
    /// the same characters encoded as UTF-8 (flagged as such): the name reads the same, its
    /// bytes differ. Untouched entries always keep their name bytes.
    pub fn rewrite(&self, replacements: &BTreeMap<usize, Vec<u8>>) -> Result<Vec<u8>, FormatError> {
        if let Some(index) = replacements.keys().find(|i| **i >= self.entries.len()) {
            return Err(FormatError::Archive(format!("no entry number {index} to replace")));
        }
        if replacements.is_empty() {
            return Ok(self.bytes.to_vec());
        }
        let faithful = self.write(replacements, Rebuild::Faithful)?;
        // Never hand out an archive that does not read back the same way. Odd inputs (a comment
        // holding a fake directory, entries at strange offsets) can make a faithful raw copy that
        // readers parse differently; such archives are rebuilt from their decompressed entries,
        // without the comment, and checked again.
        if self.reads_back(&faithful, replacements, true) {
            return Ok(faithful);
        }
        let rebuilt = self.write(replacements, Rebuild::Normalised)?;
        if self.reads_back(&rebuilt, replacements, false) {
            Ok(rebuilt)
        } else {
            Err(FormatError::Archive(
                "the rebuilt archive does not read back with the same entries; its layout is not \
                 supported"
                    .into(),
            ))
        }
    }

    /// True when `out` opens under the same limits with the same entry names, in order, and,
    /// when entries were copied `raw`, every entry not in `replacements` has the same method,
    /// sizes, checksum and compressed bytes as in the input, so that it reads back the same
    /// (a lying header can make the input read a truncated entry and its raw copy a whole one).
    fn reads_back(&self, out: &[u8], replacements: &BTreeMap<usize, Vec<u8>>, raw: bool) -> bool {
        let Ok(again) = SafeZip::open(out, &self.limits) else {
            return false;
        };
        let same_names = again.entries.len() == self.entries.len()
            && again.entries.iter().zip(&self.entries).all(|(a, b)| a.name_raw == b.name_raw);
        if !same_names || !raw {
            return same_names;
        }
        let (mut before, mut after) = (self.archive.clone(), again.archive.clone());
        self.entries.iter().filter(|e| !replacements.contains_key(&e.index)).all(|info| {
            let raw_entry = |archive: &mut ZipArchive<Cursor<&[u8]>>| {
                let mut file = archive.by_index_raw(info.index).ok()?;
                let header =
                    (file.compression(), file.size(), file.compressed_size(), file.crc32());
                let mut data = Vec::new();
                file.read_to_end(&mut data).ok()?;
                Some((header, data))
            };
            let original = raw_entry(&mut before);
            original.is_some() && original == raw_entry(&mut after)
        })
    }

    fn write(
        &self,
        replacements: &BTreeMap<usize, Vec<u8>>,
        how: Rebuild,
    ) -> Result<Vec<u8>, FormatError> {
        let extra: usize = replacements.values().map(Vec::len).sum();
        let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(self.bytes.len() + extra)));
        let mut archive = self.archive.clone();
        // Reads untouched entries for a normalised rebuild, with the limits of a fresh read.
        let mut reader = (how == Rebuild::Normalised).then(|| SafeZip {
            bytes: self.bytes,
            archive: self.archive.clone(),
            entries: self.entries.clone(),
            limits: self.limits,
            expanded: 0,
        });
        if how == Rebuild::Faithful {
            writer.set_raw_comment(archive.comment().into()).map_err(zip_error)?;
        }
        for info in &self.entries {
            let replacement = replacements.get(&info.index);
            if replacement.is_none() && how == Rebuild::Faithful {
                let file = archive.by_index_raw(info.index).map_err(zip_error)?;
                writer.raw_copy_file(file).map_err(zip_error)?;
                continue;
            }
            let fresh;
            let data = match (replacement, reader.as_mut()) {
                (Some(data), _) => data,
                (None, _) if info.is_dir => {
                    writer
                        .add_directory(info.name.clone(), SimpleFileOptions::default())
                        .map_err(zip_error)?;
                    continue;
                }
                (None, Some(reader)) => {
                    fresh = reader.read(info.index).map_err(|e| match e {
                        FormatError::Archive(why) => FormatError::Archive(format!(
                            "the archive cannot be rewritten safely: a raw copy would not read \
                             back the same, and an untouched entry does not decompress ({why})"
                        )),
                        other => other,
                    })?;
                    &fresh
                }
                // Untouched entries of a faithful rebuild were raw-copied above.
                (None, None) => continue,
            };
            let file = archive.by_index_raw(info.index).map_err(zip_error)?;
            let options = file
                .options()
                .large_file(data.len() as u64 >= zip::ZIP64_BYTES_THR)
                .compression_method(match info.method {
                    EntryMethod::Stored => CompressionMethod::Stored,
                    EntryMethod::Deflated => CompressionMethod::Deflated,
                });
            drop(file);
            writer.start_file(info.name.clone(), options).map_err(zip_error)?;
            writer
                .write_all(data)
                .map_err(|e| FormatError::Archive(format!("writing `{}`: {e}", info.name)))?;
        }
        Ok(writer.finish().map_err(zip_error)?.into_inner())
    }
}

/// How [`SafeZip::rewrite`] copies the entries it does not replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rebuild {
    /// Raw copy: compressed bytes, headers and comment reused.
    Faithful,
    /// Decompressed and written afresh, without the archive comment.
    Normalised,
}

fn limit(what: &str, limit: u64) -> FormatError {
    FormatError::LimitExceeded { what: what.to_string(), limit }
}

fn zip_error(e: zip::result::ZipError) -> FormatError {
    FormatError::Archive(e.to_string())
}

/// Rejects absolute names, drive letters, NULs, backslash paths and `..` components.
fn is_safe_name(name: &str) -> bool {
    if name.is_empty() || name.contains('\0') || name.starts_with(['/', '\\']) {
        return false;
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return false;
    }
    !name.split(['/', '\\']).any(|part| part == "..")
}

/// Reads the total entry count from the end-of-central-directory record, when it is there and
/// not a zip64 placeholder; `None` leaves the check to the parsed directory.
fn eocd_entry_count(bytes: &[u8]) -> Option<u64> {
    const SIG: &[u8; 4] = b"PK\x05\x06";
    if bytes.len() < 22 {
        return None;
    }
    let earliest = bytes.len().saturating_sub(22 + 65_535);
    let mut pos = bytes.len() - 22;
    loop {
        // A record counts only if its comment ends exactly at the end of the file: signature
        // bytes inside an archive comment (a hostile one can hold a whole fake directory) are
        // not the record.
        let comment_len = usize::from(u16::from_le_bytes([bytes[pos + 20], bytes[pos + 21]]));
        if &bytes[pos..pos + 4] == SIG && pos + 22 + comment_len == bytes.len() {
            let count = u16::from_le_bytes([bytes[pos + 10], bytes[pos + 11]]);
            return (count != u16::MAX).then_some(u64::from(count));
        }
        if pos == earliest {
            return None;
        }
        pos -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn make(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, method) in entries {
            w.start_file(*name, SimpleFileOptions::default().compression_method(*method)).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn names_are_checked() {
        for bad in ["/etc/passwd", "a/../../b", "..", "C:\\x", "a\\..\\b", "\\x"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        for good in ["a/b.xml", "&/qcu.quiz", ".wspmeta", "a..b/c", "dir/"] {
            assert!(is_safe_name(good), "{good}");
        }
    }

    #[test]
    fn rewrite_keeps_order_and_methods() {
        let bytes = make(&[
            ("mimetype", b"application/x", CompressionMethod::Stored),
            ("a.xml", b"<a/>", CompressionMethod::Deflated),
            ("b.bin", b"\x00\x01", CompressionMethod::Deflated),
        ]);
        let zip = SafeZip::open(&bytes, &Limits::default()).unwrap();
        assert_eq!(zip.rewrite(&BTreeMap::new()).unwrap(), bytes);
        let mut rep = BTreeMap::new();
        rep.insert(0, b"application/y".to_vec());
        rep.insert(1, b"<b/>".to_vec());
        let out = zip.rewrite(&rep).unwrap();
        let mut again = SafeZip::open(&out, &Limits::default()).unwrap();
        let names: Vec<_> = again.entries().iter().map(|e| e.name.clone()).collect();
        assert_eq!(names, ["mimetype", "a.xml", "b.bin"]);
        assert_eq!(again.entries()[0].method, EntryMethod::Stored);
        assert_eq!(again.entries()[1].method, EntryMethod::Deflated);
        assert_eq!(again.read(0).unwrap(), b"application/y");
        assert_eq!(again.read(1).unwrap(), b"<b/>");
        assert_eq!(again.read(2).unwrap(), b"\x00\x01");
    }

    #[test]
    fn eocd_count_is_read() {
        let bytes =
            make(&[("a", b"1", CompressionMethod::Stored), ("b", b"2", CompressionMethod::Stored)]);
        assert_eq!(eocd_entry_count(&bytes), Some(2));
        assert_eq!(eocd_entry_count(b"short"), None);
    }
}
