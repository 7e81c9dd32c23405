//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the ordinary test that replays
//! their seed corpora, so that both exercise exactly the same code.
//!
//! Each function takes arbitrary bytes, must never panic on its own account, and asserts the
//! invariants that must hold whatever the input: an input that extracts merges back unchanged
//! (byte-exact identity), a pseudo-translation merges into a document that extracts again, and a
//! rewritten archive keeps its entry names and order.

use std::collections::BTreeMap;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};

use crate::{ExtractOptions, Format, Limits, MergeOptions, SafeZip, detect, extract_as};

/// Limits small enough to keep every fuzz iteration fast.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_entries: 1_000,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_nesting: 2,
    }
}

fn merge_options() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").expect("valid tag") }
}

/// Arbitrary bytes as a Scenari item: extract, identity merge, pseudo merge, re-extract.
pub fn scenari_xml(data: &[u8]) {
    let _ = detect("fuzz.xml", data);
    let options = ExtractOptions { limits: fuzz_limits() };
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
    let options = ExtractOptions { limits };
    let Ok(doc) = extract_as(Format::ScenariArchive, "fuzz.scar", data, &options) else {
        return;
    };
    let identity = doc.merge_identity(&merge_options()).expect("identity merge of an archive");
    assert!(identity == data, "identity merge changed the archive");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = doc.merge(&pseudo, &merge_options()).expect("pseudo merge of an archive");
    if let Err(e) = extract_as(Format::ScenariArchive, "fuzz.scar", &out, &options) {
        panic!("pseudo-translated archive no longer extracts: {e}");
    }
}
