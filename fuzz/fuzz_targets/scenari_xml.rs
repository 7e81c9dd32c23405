//! Arbitrary bytes as a Scenari item: strict XML tokenizer, extraction, identity and pseudo merge.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradia_formats::fuzzing::scenari_xml(data);
});
