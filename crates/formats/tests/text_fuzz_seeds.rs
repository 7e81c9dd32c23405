//! Replays the seed corpora of the `xml_formats` and `text_formats` fuzz targets
//! (`fuzz/corpus/<target>/`) through the same entry points the targets call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seed in {}", dir.display());
    files
}

#[test]
fn xml_formats_seeds_replay() {
    let files = seeds("xml_formats");
    for path in &files {
        tradia_formats::fuzzing_text::xml_formats(&std::fs::read(path).unwrap());
    }
    println!("replayed {} xml_formats seeds", files.len());
}

#[test]
fn text_formats_seeds_replay() {
    let files = seeds("text_formats");
    for path in &files {
        tradia_formats::fuzzing_text::text_formats(&std::fs::read(path).unwrap());
    }
    println!("replayed {} text_formats seeds", files.len());
}
