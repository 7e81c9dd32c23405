//! Archives read from and written to files, for archives of any size (zip64 included).
//!
//! Why beside the in-memory [`SafeZip::open`]: an upload held as one `&[u8]` costs its whole size
//! in memory, and a `.scar` or a slide deck with videos is mostly entries that a translation only
//! copies. Here the archive stays on disk: [`open_file`] validates the central directory (the
//! same checks as [`SafeZip::open`]), [`SafeZip::read`] decompresses only the entries a filter
//! parses (held to [`Limits::max_entry_bytes`] and [`Limits::max_total_bytes`]), and
//! [`rewrite_file`] streams every other entry from the input file to the output file, its
//! compressed bytes copied through a small buffer. Memory is bounded by the largest parsed entry,
//! not by the archive; copied entries have their own limits ([`Limits::max_copied_entry_bytes`],
//! [`Limits::max_copied_total_bytes`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{EntryInfo, EntryMethod, SafeZip, eocd_entry_count, limit, validate, zip_error};
use crate::{FormatError, Limits};

/// A [`SafeZip`] over a file.
pub type FileZip = SafeZip<'static, BufReader<File>>;

/// Opens and validates the archive at `path` (see [`SafeZip::open`]); nothing is decompressed
/// and nothing but the central directory is held in memory.
pub fn open_file(path: &Path, limits: &Limits) -> Result<FileZip, FormatError> {
    let mut file = File::open(path).map_err(|e| io_error("cannot open the archive", &e))?;
    let len = file.metadata().map_err(|e| io_error("cannot read the archive", &e))?.len();
    // The end record lies in the last 22 + 65 535 bytes (the longest comment).
    let tail_len = len.min(22 + 65_535);
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.seek(SeekFrom::Start(len - tail_len))
        .and_then(|_| (&mut file).take(tail_len).read_to_end(&mut tail))
        .map_err(|e| io_error("cannot read the archive", &e))?;
    if let Some(count) = eocd_entry_count(&tail)
        && count > limits.max_entries
    {
        return Err(limit("entries", limits.max_entries));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| io_error("cannot read the archive", &e))?;
    let mut archive = ZipArchive::new(BufReader::new(file)).map_err(zip_error)?;
    let entries = validate(&mut archive, limits)?;
    Ok(SafeZip { bytes: &[], archive, entries, limits: *limits, expanded: 0 })
}

/// Writes the archive at `input` to `output` with the same entries, names and order, entry `i`
/// holding `replacements[i]` when present (see [`SafeZip::rewrite`]). Untouched entries are
/// streamed raw from the input; with no replacement the file is copied byte for byte. The output
/// is read back before this returns: names in order, and every copied entry's header and
/// compressed bytes compared (streamed); when a raw copy would not read back the same (odd
/// layouts), the archive is rebuilt with untouched entries decompressed and compressed again,
/// still streamed.
pub fn rewrite_file(
    input: &Path,
    limits: &Limits,
    replacements: &BTreeMap<usize, Vec<u8>>,
    output: &Path,
) -> Result<(), FormatError> {
    let mut zip = open_file(input, limits)?;
    if let Some(index) = replacements.keys().find(|i| **i >= zip.entries.len()) {
        return Err(FormatError::Archive(format!("no entry number {index} to replace")));
    }
    if replacements.is_empty() {
        std::fs::copy(input, output).map_err(|e| io_error("cannot write the output", &e))?;
        return Ok(());
    }
    write(&mut zip, replacements, output, true)?;
    if reads_back(&mut zip, replacements, output, true)? {
        return Ok(());
    }
    write(&mut zip, replacements, output, false)?;
    if reads_back(&mut zip, replacements, output, false)? {
        Ok(())
    } else {
        Err(FormatError::Archive(
            "the rebuilt archive does not read back with the same entries; its layout is not \
             supported"
                .into(),
        ))
    }
}

fn write(
    zip: &mut FileZip,
    replacements: &BTreeMap<usize, Vec<u8>>,
    output: &Path,
    faithful: bool,
) -> Result<(), FormatError> {
    let out = File::create(output).map_err(|e| io_error("cannot write the output", &e))?;
    let mut writer = ZipWriter::new(BufWriter::with_capacity(1 << 16, out));
    if faithful {
        writer.set_raw_comment(zip.archive.comment().into()).map_err(zip_error)?;
    }
    let copy_limit = zip.limits.max_copied_entry_bytes;
    for info in zip.entries.clone() {
        let replacement = replacements.get(&info.index);
        if replacement.is_none() && faithful {
            let file = zip.archive.by_index_raw(info.index).map_err(zip_error)?;
            writer.raw_copy_file(file).map_err(zip_error)?;
            continue;
        }
        if replacement.is_none() && info.is_dir {
            writer
                .add_directory(info.name.clone(), zip::write::SimpleFileOptions::default())
                .map_err(zip_error)?;
            continue;
        }
        let file = zip.archive.by_index_raw(info.index).map_err(zip_error)?;
        let size = replacement.map_or(info.declared_size, |d| d.len() as u64);
        let options = file
            .options()
            .large_file(
                size >= zip::ZIP64_BYTES_THR || info.compressed_size >= zip::ZIP64_BYTES_THR,
            )
            .compression_method(match info.method {
                EntryMethod::Stored => CompressionMethod::Stored,
                EntryMethod::Deflated => CompressionMethod::Deflated,
            });
        drop(file);
        writer.start_file(info.name.clone(), options).map_err(zip_error)?;
        let writing =
            |e: std::io::Error| FormatError::Archive(format!("writing `{}`: {e}", info.name));
        match replacement {
            Some(data) => writer.write_all(data).map_err(writing)?,
            None => {
                // An untouched entry of a rebuilt archive: decompressed through a buffer (the
                // reader checks its checksum at the end), never held whole.
                let file = zip.archive.by_index(info.index).map_err(zip_error)?;
                let copied =
                    std::io::copy(&mut file.take(copy_limit + 1), &mut writer).map_err(|e| {
                        FormatError::Archive(format!(
                            "the archive cannot be rewritten safely: a raw copy would not read \
                             back the same, and entry `{}` does not decompress ({e})",
                            info.name
                        ))
                    })?;
                if copied > copy_limit {
                    return Err(limit("copied entry size", copy_limit));
                }
            }
        }
    }
    let mut out = writer.finish().map_err(zip_error)?;
    out.flush().map_err(|e| io_error("cannot write the output", &e))?;
    Ok(())
}

/// True when `output` opens under the same limits with the same entry names in order and, for a
/// `raw` copy, every untouched entry has the input's method, sizes, checksum and compressed bytes.
fn reads_back(
    zip: &mut FileZip,
    replacements: &BTreeMap<usize, Vec<u8>>,
    output: &Path,
    raw: bool,
) -> Result<bool, FormatError> {
    let Ok(mut again) = open_file(output, &zip.limits) else {
        return Ok(false);
    };
    let same_names = again.entries.len() == zip.entries.len()
        && again.entries.iter().zip(&zip.entries).all(|(a, b)| a.name_raw == b.name_raw);
    if !same_names || !raw {
        return Ok(same_names);
    }
    let untouched: Vec<EntryInfo> =
        zip.entries.iter().filter(|e| !replacements.contains_key(&e.index)).cloned().collect();
    for info in untouched {
        let (Ok(before), Ok(after)) =
            (zip.archive.by_index_raw(info.index), again.archive.by_index_raw(info.index))
        else {
            return Ok(false);
        };
        let header = |f: &zip::read::ZipFile<'_, BufReader<File>>| {
            (f.compression(), f.size(), f.compressed_size(), f.crc32())
        };
        if header(&before) != header(&after) {
            return Ok(false);
        }
        if !same_stream(before, after).map_err(|e| io_error("cannot read the output back", &e))? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Compares two readers chunk by chunk.
fn same_stream(mut a: impl Read, mut b: impl Read) -> std::io::Result<bool> {
    let (mut x, mut y) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = read_full(&mut a, &mut x)?;
        let m = read_full(&mut b, &mut y)?;
        if n != m || x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Fills `buf` as far as the reader goes; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn io_error(what: &str, e: &std::io::Error) -> FormatError {
    FormatError::Archive(format!("{what}: {e}"))
}

/// Where an archive skeleton's untouched entries come from on merge: the input bytes, or the
/// file the archive was read from (then merging into a file streams them).
pub(crate) enum Source {
    /// The archive, in memory.
    Bytes(Vec<u8>),
    /// The archive's file.
    File(std::path::PathBuf),
}

impl Source {
    /// The entry indices of the entries called by `changes`' names.
    pub(crate) fn by_index(
        &self,
        limits: &Limits,
        changes: &BTreeMap<String, Vec<u8>>,
    ) -> Result<BTreeMap<usize, Vec<u8>>, FormatError> {
        if changes.is_empty() {
            return Ok(BTreeMap::new());
        }
        let index_of = |entries: &[EntryInfo], name: &str| {
            entries
                .iter()
                .position(|e| e.name == name)
                .ok_or_else(|| FormatError::Archive(format!("no entry named `{name}`")))
        };
        let entries = match self {
            Source::Bytes(bytes) => SafeZip::open(bytes, limits)?.entries,
            Source::File(path) => open_file(path, limits)?.entries,
        };
        changes.iter().map(|(name, data)| Ok((index_of(&entries, name)?, data.clone()))).collect()
    }

    /// The rewritten archive, in memory (see [`SafeZip::rewrite`]).
    pub(crate) fn rewrite(
        &self,
        limits: &Limits,
        replacements: &BTreeMap<usize, Vec<u8>>,
    ) -> Result<Vec<u8>, FormatError> {
        match self {
            Source::Bytes(bytes) => SafeZip::open(bytes, limits)?.rewrite(replacements),
            Source::File(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| io_error("cannot read the archive again", &e))?;
                SafeZip::open(&bytes, limits)?.rewrite(replacements)
            }
        }
    }

    /// The rewritten archive, into the file at `output`; streamed from a file source.
    pub(crate) fn rewrite_to_path(
        &self,
        limits: &Limits,
        replacements: &BTreeMap<usize, Vec<u8>>,
        output: &Path,
    ) -> Result<(), FormatError> {
        match self {
            Source::File(path) => rewrite_file(path, limits, replacements, output),
            Source::Bytes(_) => {
                let bytes = self.rewrite(limits, replacements)?;
                std::fs::write(output, bytes).map_err(|e| io_error("cannot write the output", &e))
            }
        }
    }
}
