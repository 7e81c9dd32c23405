//! Replays the committed seed corpus of the `office_zip` fuzz target (`fuzz/corpus/office_zip`)
//! through the same checks as the target, so that the seeds stay meaningful and any crash they
//! once found stays fixed.

use std::path::PathBuf;

use tradia_core::{Content, LanguageTag, pseudo::pseudo_content};
use tradia_formats::{ExtractOptions, Format, MergeOptions, detect, extract_as};

/// The body of the `office_zip` fuzz target: whatever the input, no panic; and for any input
/// the office filters accept, identity is byte-exact, and pseudo and right-to-left merges
/// succeed and re-extract with as many segments. Returns the number of segments, if accepted.
fn check(data: &[u8]) -> Option<usize> {
    let format = detect("input", data).ok()?;
    if !matches!(
        format,
        Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Odp | Format::Ods
    ) {
        return None;
    }
    let doc = extract_as(format, "input", data, &ExtractOptions::default()).ok()?;
    let fr = MergeOptions { target: LanguageTag::parse("fr").expect("tag") };
    let ar = MergeOptions { target: LanguageTag::parse("ar").expect("tag") };
    let same = doc.merge_identity(&fr).expect("identity merge of an accepted document");
    assert!(same == data, "identity round trip is not byte-exact");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    for options in [&fr, &ar] {
        let out = doc.merge(&pseudo, options).expect("pseudo merge of an accepted document");
        let again = extract_as(format, "output", &out, &ExtractOptions::default())
            .expect("a merged document extracts again");
        assert_eq!(again.segments.len(), doc.segments.len(), "segment count changed");
    }
    Some(doc.segments.len())
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
        if name.starts_with("seed.") {
            let n = result.unwrap_or_else(|| panic!("{name}: seed not accepted"));
            assert!(n > 0, "{name}: no segments");
            accepted += 1;
        } else if name.starts_with("truncated") || name.starts_with("malformed") {
            assert!(result.is_none(), "{name}: broken seed accepted");
        }
    }
    println!("office_zip seeds: {} replayed, {accepted} accepted", entries.len());
    assert!(accepted >= 6);
}
