//! Arbitrary bytes as XLIFF and HTML/XHTML: extraction, identity and pseudo merge, re-extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradia_formats::fuzzing_text::xml_formats(data);
});
