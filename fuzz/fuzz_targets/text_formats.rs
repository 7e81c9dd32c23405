//! Arbitrary bytes as Markdown, plain text, PO, JSON, YAML, SRT and WebVTT: extraction, identity
//! and pseudo merge, re-extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradia_formats::fuzzing_text::text_formats(data);
});
