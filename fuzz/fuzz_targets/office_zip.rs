//! Arbitrary bytes as an office package (DOCX, PPTX, XLSX, ODT, ODP, ODS): extraction, identity
//! and pseudo merges, re-extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tradia_formats::fuzzing::office_zip(data);
});
