//! Replays the committed seed corpus of the `office_zip` fuzz target (`fuzz/corpus/office_zip`)
//! through the same checks as the target, so that the seeds stay meaningful and any crash they
//! once found stays fixed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// The target's own entry point.
fn check(data: &[u8]) -> Option<usize> {
    tradia_formats::fuzzing::office_zip(data)
}

#[test]
fn office_zip_seeds_replay() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/office_zip");
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("seed corpus").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    let mut accepted = 0;
    for path in &entries {
        let data = std::fs::read(path).expect("seed");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let result = check(&data);
        if name.starts_with("seed.") || name.starts_with("part_") {
            let n = result.unwrap_or_else(|| panic!("{name}: seed not accepted"));
            assert!(n > 0, "{name}: no segments");
            accepted += 1;
        } else if name.starts_with("truncated") || name.starts_with("malformed") {
            assert!(result.is_none(), "{name}: broken seed accepted");
        }
    }
    println!("office_zip seeds: {} replayed, {accepted} accepted", entries.len());
    assert!(accepted >= 10);
}
