//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the ordinary test that replays
//! their seed corpora, so that both exercise exactly the same code.
//!
//! Each function takes arbitrary bytes, must never panic on its own account, and asserts the
//! invariants that must hold whatever the input: an input that extracts merges back unchanged
//! (byte-exact identity), a pseudo-translation merges into a document that extracts again, and a
//! rewritten archive keeps its entry names and order.
//!
//! Built only with the `fuzzing` feature (the fuzz crate enables it; so does this crate's
//! dev-dependency on itself, for the seed-replay tests).

// A failed check panics by design: that is how a fuzzer, and the seed-replay tests, report it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};

use crate::{
    ExtractOptions, Format, FormatError, Limits, MergeOptions, SafeZip, detect, extract_as,
};

/// Limits small enough to keep every fuzz iteration fast.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_entries: 1_000,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_copied_entry_bytes: 16 << 20,
        max_copied_total_bytes: 64 << 20,
        max_nesting: 2,
        max_xml_bytes: 4 << 20,
        max_segments: 100_000,
    }
}

fn merge_options() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").expect("valid tag") }
}

/// Arbitrary bytes as a Scenari item: extract, identity merge, pseudo merge, re-extract.
pub fn scenari_xml(data: &[u8]) {
    let _ = detect("fuzz.xml", data);
    let options = ExtractOptions { limits: fuzz_limits(), ..ExtractOptions::default() };
    let Ok(doc) = extract_as(Format::Scenari, "fuzz.xml", data, &options) else {
        return;
    };
    let identity =
        doc.merge_identity(&merge_options()).expect("identity merge of an extracted item");
    assert!(identity == data, "identity merge changed the bytes");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = doc.merge(&pseudo, &merge_options()).expect("pseudo merge of an extracted item");
    if let Err(e) = extract_as(Format::Scenari, "fuzz.xml", &out, &options) {
        panic!("pseudo-translated output no longer extracts: {e}");
    }
}

/// Arbitrary bytes as a zip: open, read every entry, rewrite with and without replacements,
/// and as a Scenari archive: extract, identity merge, pseudo merge.
pub fn archive(data: &[u8]) {
    let limits = fuzz_limits();
    if let Ok(mut zip) = SafeZip::open(data, &limits) {
        for index in 0..zip.len() {
            let _ = zip.read(index);
        }
        assert!(zip.bytes_expanded() <= limits.max_total_bytes + 1, "total limit overrun");
        let same = zip.rewrite(&BTreeMap::new()).expect("rewrite without replacement");
        assert!(same == data, "rewrite without replacement changed the bytes");
        if !zip.is_empty() {
            let mut replacements = BTreeMap::new();
            replacements.insert(0, b"replaced".to_vec());
            if let Ok(out) = zip.rewrite(&replacements) {
                let mut again = SafeZip::open(&out, &limits).expect("rewritten archive opens");
                let names = |z: &SafeZip<'_>| -> Vec<String> {
                    z.entries().iter().map(|e| e.name.clone()).collect()
                };
                assert_eq!(names(&zip), names(&again), "entry names or order changed");
                if !again.entries()[0].is_dir {
                    assert_eq!(again.read(0).expect("replaced entry reads"), b"replaced");
                }
            }
        }
    }
    let options = ExtractOptions { limits, ..ExtractOptions::default() };
    let Ok(doc) = extract_as(Format::ScenariArchive, "fuzz.scar", data, &options) else {
        return;
    };
    let identity = doc.merge_identity(&merge_options()).expect("identity merge of an archive");
    assert!(identity == data, "identity merge changed the archive");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = match doc.merge(&pseudo, &merge_options()) {
        Ok(out) => out,
        // An archive whose raw copy does not read back and that cannot be rebuilt either (a
        // corrupt entry) is refused with a clear error: never written broken.
        Err(FormatError::Archive(_)) => return,
        Err(e) => panic!("pseudo merge of an archive: {e}"),
    };
    if let Err(e) = extract_as(Format::ScenariArchive, "fuzz.scar", &out, &options) {
        panic!("pseudo-translated archive no longer extracts: {e}");
    }
}

/// Arbitrary bytes against the office filters. Bytes that start like a zip are taken as a
/// package (DOCX, PPTX, XLSX, ODT, ODP, ODS); anything else is taken as the XML of a part and
/// wrapped into a Word body, a slide, a shared-strings table and an ODF `content.xml` (built
/// here with correct checksums, so that mutations reach the XML logic instead of failing the
/// zip's CRC check). Each package then goes through [`office_package`]. Returns the number of
/// segments of the accepted packages, `None` when none is accepted.
pub fn office_zip(data: &[u8]) -> Option<usize> {
    if data.starts_with(b"PK") {
        return office_package(data);
    }
    let xml = std::str::from_utf8(data).ok()?;
    let mut total = None;
    for package in packages_around(xml) {
        if let Some(n) = office_package(&package) {
            total = Some(total.unwrap_or(0) + n);
        }
    }
    total
}

fn packages_around(xml: &str) -> Vec<Vec<u8>> {
    use std::io::Write;
    let ooxml = |part: &str, content_type: &str| -> String {
        format!(
            "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Override PartName=\"/{part}\" ContentType=\"application/vnd.openxmlformats-officedocument.{content_type}\"/></Types>"
        )
    };
    let layouts: [Vec<(&str, String)>; 4] = [
        vec![
            (
                "[Content_Types].xml",
                ooxml("word/document.xml", "wordprocessingml.document.main+xml"),
            ),
            ("word/document.xml", xml.to_string()),
        ],
        vec![
            ("[Content_Types].xml", ooxml("ppt/slides/slide1.xml", "presentationml.slide+xml")),
            ("ppt/slides/slide1.xml", xml.to_string()),
        ],
        vec![
            (
                "[Content_Types].xml",
                ooxml("xl/sharedStrings.xml", "spreadsheetml.sharedStrings+xml"),
            ),
            ("xl/sharedStrings.xml", xml.to_string()),
        ],
        vec![
            ("mimetype", "application/vnd.oasis.opendocument.text".to_string()),
            ("content.xml", xml.to_string()),
        ],
    ];
    let mut out = Vec::new();
    for entries in layouts {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let mut ok = true;
        for (name, data) in &entries {
            ok &= writer.start_file(*name, options).is_ok()
                && writer.write_all(data.as_bytes()).is_ok();
        }
        if ok && let Ok(cursor) = writer.finish() {
            out.push(cursor.into_inner());
        }
    }
    out
}

/// One office package (DOCX, PPTX, XLSX, ODT, ODP, ODS): detect, extract,
/// identity merge (byte-exact), pseudo merges into a left-to-right and a right-to-left target,
/// re-extraction of both with the same number of segments. Returns the number of segments of
/// an accepted input, `None` for a refused one.
pub fn office_package(data: &[u8]) -> Option<usize> {
    let format = detect("fuzz.bin", data).ok()?;
    if !matches!(
        format,
        Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Odp | Format::Ods
    ) {
        return None;
    }
    let options = ExtractOptions { limits: fuzz_limits(), ..ExtractOptions::default() };
    let doc = extract_as(format, "fuzz.bin", data, &options).ok()?;
    let identity = doc.merge_identity(&merge_options()).expect("identity merge of a package");
    assert!(identity == data, "identity merge changed the package");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let rtl = MergeOptions { target: LanguageTag::parse("ar").expect("valid tag") };
    for target in [merge_options(), rtl] {
        let out = doc.merge(&pseudo, &target).expect("pseudo merge of a package");
        match extract_as(format, "fuzz.bin", &out, &options) {
            Ok(again) => assert_eq!(
                again.segments.len(),
                doc.segments.len(),
                "segment count changed after a pseudo merge"
            ),
            Err(e) => panic!("pseudo-translated package no longer extracts: {e}"),
        }
    }
    Some(doc.segments.len())
}
