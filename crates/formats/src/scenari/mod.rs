//! Scenari items and archives (`docs/scenari-format.md`).
//!
//! Scenari course material is XML whose root is `sc:item` in the Scenari core namespace (or a
//! `filemeta` root for a resource's `meta.xml`), whatever the file extension (`.xml`, `.quiz`,
//! `.ref`, `.scen`, `.unit`, `.publi`…): items are detected by content. Archives (`.scar`,
//! `.scwsp`, or any zip of items) are zips: only entries that are Scenari items are translated;
//! `.wspmeta`, binaries and everything else come back untouched, with the same names in the same
//! order, untouched entries' compressed bytes reused ([`crate::archive::SafeZip::rewrite`]).
//!
//! What becomes a segment, what is an inline code and what is kept is decided by the lists in
//! [`rules`]; [`item`] does the tokenizing and splicing; [`quiz`] groups the quiz terms (cloze
//! answers, options, synonyms, short-answer values) that are translated together by default
//! (`ExtractOptions::keep_quiz_answers` keeps them). The filter never sets `xml:lang`
//! (Scenari does not use it) and never renames anything (`sc:refUri` values point at names).

mod item;
mod quiz;
pub(crate) mod rules;

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use tradia_core::Content;

use crate::archive::file::Source;
use crate::archive::{SafeZip, looks_like_zip};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, Limits, MergeOptions, Report,
    Skeleton,
};

use item::{ItemSkeleton, extract_item};

/// File-name extensions of archives that are Scenari by definition.
const ARCHIVE_EXTENSIONS: [&str; 2] = [".scar", ".scwsp"];

/// Recognises a Scenari item by its root element, or a zip holding Scenari material.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    if looks_like_zip(bytes) {
        return sniff_archive(name, bytes).then_some(Format::ScenariArchive);
    }
    sniff_item(name, bytes).then_some(Format::Scenari)
}

fn sniff_item(name: &str, bytes: &[u8]) -> bool {
    let Ok(decoded) = item::decode(name, bytes) else {
        return false;
    };
    match item::is_scenari_root(name, &decoded.text) {
        Ok(scenari) => scenari,
        // Not well-formed, but meant as a Scenari item: claim it, so that extraction reports
        // where it is broken instead of an unsupported format.
        Err(_) => {
            let head = &decoded.text[..decoded.text.floor_char_boundary(4096)];
            head.trim_start().starts_with('<')
                && (head.contains(rules::CORE)
                    || head.contains(rules::FILEMETA)
                    || head.contains("<sc:item"))
        }
    }
}

/// True for the file-name extensions of archives that are Scenari by definition.
pub(crate) fn is_archive_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

fn sniff_archive(name: &str, bytes: &[u8]) -> bool {
    if is_archive_name(name) {
        return true;
    }
    let Ok(mut zip) = SafeZip::open(bytes, &Limits::default()) else {
        return false;
    };
    let candidates: Vec<usize> =
        zip.entries().iter().filter(|e| !e.is_dir && !skipped(&e.name)).map(|e| e.index).collect();
    if zip.entries().iter().any(|e| base_name(&e.name) == ".wspmeta") {
        return true;
    }
    for index in candidates.into_iter().take(64) {
        if let Ok(head) = zip.read_head(index, 4096)
            && head_is_scenari(&head)
        {
            return true;
        }
    }
    false
}

/// Cheap look at the start of an entry: a Scenari namespace near an opening tag.
fn head_is_scenari(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    trimmed.starts_with('<')
        && (text.contains(rules::CORE) || text.contains(rules::FILEMETA))
        && (text.contains(":item") || text.contains(rules::FILEMETA))
}

fn base_name(name: &str) -> &str {
    name.trim_end_matches('/').rsplit('/').next().unwrap_or(name)
}

/// Entries never looked into: workshop metadata and generated publications (§7.3).
fn skipped(name: &str) -> bool {
    let base = base_name(name);
    base == ".wspmeta"
        || base == ".wsporigin"
        || name.split('/').any(|part| part == "~gen" || part == "~gens")
}

/// Extracts a Scenari item or archive.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    match format {
        Format::ScenariArchive => extract_archive(name, bytes, options),
        _ => {
            let mut report = Report::default();
            let extracted = extract_item(name, bytes, &mut report, !options.keep_quiz_answers)?;
            let title = std::str::from_utf8(bytes).ok().and_then(crate::title::scenari_item);
            Ok(Document::new(
                Format::Scenari,
                extracted.segments,
                report,
                Box::new(ItemDoc { item: extracted.skeleton }),
            )
            .with_title(title, None)
            .with_quiz(extracted.quiz))
        }
    }
}

/// Skeleton of a single item.
struct ItemDoc {
    item: ItemSkeleton,
}

impl Skeleton for ItemDoc {
    fn merge(&self, translations: &[Content], _: &MergeOptions) -> Result<Vec<u8>, FormatError> {
        self.item.merge(translations)
    }
}

/// Skeleton of an archive: the original archive (bytes, or the file it is read from) and, per
/// translated entry, its item skeleton and its slice of the document's segments.
struct ArchiveDoc {
    source: Source,
    limits: Limits,
    items: Vec<ArchiveItem>,
}

struct ArchiveItem {
    index: usize,
    first: usize,
    count: usize,
    skeleton: ItemSkeleton,
}

fn extract_archive(
    name: &str,
    bytes: &[u8],
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let mut zip = SafeZip::open(bytes, &options.limits)?;
    archive_document(name, &mut zip, Source::Bytes(bytes.to_vec()), options)
}

/// Extracts a Scenari archive read from the file at `path`: only the items are decompressed,
/// and merging streams every other entry from that file ([`crate::archive::file`]).
pub(crate) fn extract_archive_file(
    name: &str,
    path: &Path,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let mut zip = crate::archive::file::open_file(path, &options.limits)?;
    archive_document(name, &mut zip, Source::File(path.to_path_buf()), options)
}

fn archive_document<R: Read + Seek>(
    name: &str,
    zip: &mut SafeZip<'_, R>,
    source: Source,
    options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let limits = options.limits;
    let mut report = Report::default();
    let mut segments = Vec::new();
    let mut quiz = Vec::new();
    let mut items = Vec::new();
    // The archive's title: the first item (in archive order) that has one.
    let mut title = None;
    let entries = zip.entries().to_vec();
    for entry in &entries {
        if entry.is_dir {
            continue;
        }
        if skipped(&entry.name) {
            report.kept.push(KeptField {
                location: format!("{name} › {}", entry.name),
                field: "archive entry".to_string(),
                reason: if base_name(&entry.name).starts_with(".wsp") {
                    "workshop metadata (copied unchanged)".to_string()
                } else {
                    "generated publication (copied unchanged)".to_string()
                },
            });
            continue;
        }
        let head = zip.read_head(entry.index, 4096)?;
        if !head_is_scenari(&head) {
            continue;
        }
        let data = zip.read(entry.index)?;
        // An entry that claims the Scenari namespace but is malformed fails the document with
        // the parse error; a well-formed entry of another vocabulary is left untouched.
        let decoded = item::decode(&entry.name, &data)?;
        if !item::is_scenari_root(&entry.name, &decoded.text)? {
            continue;
        }
        if title.is_none() {
            title = crate::title::scenari_item(&decoded.text);
        }
        drop(decoded);
        let mut extracted =
            extract_item(&entry.name, &data, &mut report, !options.keep_quiz_answers)?;
        let first = segments.len();
        let count = extracted.segments.len();
        for segment in &mut extracted.segments {
            segment.id += first as u32;
        }
        quiz.extend(extracted.quiz.into_iter().map(|g| g.shifted(first as u32)));
        segments.append(&mut extracted.segments);
        limits.check_segments(segments.len())?;
        items.push(ArchiveItem { index: entry.index, first, count, skeleton: extracted.skeleton });
    }
    Ok(Document::new(
        Format::ScenariArchive,
        segments,
        report,
        Box::new(ArchiveDoc { source, limits, items }),
    )
    .with_title(title, None)
    .with_quiz(quiz))
}

impl ArchiveDoc {
    /// The merged items, by entry index; items that come out unchanged are not replaced.
    fn replacements(
        &self,
        translations: &[Content],
    ) -> Result<BTreeMap<usize, Vec<u8>>, FormatError> {
        let mut replacements = BTreeMap::new();
        for item in &self.items {
            let slice = translations.get(item.first..item.first + item.count).ok_or(
                FormatError::TranslationCount {
                    expected: item.first + item.count,
                    got: translations.len(),
                },
            )?;
            let out = item.skeleton.merge(slice)?;
            if out != item.skeleton.original() {
                replacements.insert(item.index, out);
            }
        }
        Ok(replacements)
    }
}

impl Skeleton for ArchiveDoc {
    fn merge(&self, translations: &[Content], _: &MergeOptions) -> Result<Vec<u8>, FormatError> {
        self.source.rewrite(&self.limits, &self.replacements(translations)?)
    }

    fn merge_to_path(
        &self,
        translations: &[Content],
        _: &MergeOptions,
        output: &Path,
    ) -> Result<(), FormatError> {
        self.source.rewrite_to_path(&self.limits, &self.replacements(translations)?, output)
    }
}
