//! Replays every seed of the fuzz corpora (`fuzz/corpus/<target>/`) through the same entry
//! points the cargo-fuzz targets call, so a crash found by fuzzing and added as a seed stays
//! fixed in ordinary test runs.

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
fn scenari_xml_seeds_replay() {
    let files = seeds("scenari_xml");
    for path in &files {
        let data = std::fs::read(path).unwrap();
        tradia_formats::fuzzing::scenari_xml(&data);
    }
    println!("replayed {} scenari_xml seeds", files.len());
}

#[test]
fn archive_seeds_replay() {
    let files = seeds("archive");
    for path in &files {
        let data = std::fs::read(path).unwrap();
        tradia_formats::fuzzing::archive(&data);
    }
    println!("replayed {} archive seeds", files.len());
}
