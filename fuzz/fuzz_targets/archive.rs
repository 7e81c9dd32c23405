//! Arbitrary bytes as a zip: SafeZip open/read/rewrite, and Scenari archive extraction and merge.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradia_formats::fuzzing::archive(data);
});
