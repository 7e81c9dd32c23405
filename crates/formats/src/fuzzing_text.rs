//! Fuzz entry points for the XML-based (XLIFF, HTML/XHTML, generic XML with ITS rules) and
//! text-based (Markdown, plain text, PO, JSON, YAML, SRT, WebVTT, Java properties, CSV, Apple
//! strings and String Catalogs) filters, shared by the cargo-fuzz targets `xml_formats` and `text_formats` and by
//! the test replaying their seed corpora.
//!
//! Whatever the bytes, for every format of the family: extraction never panics; a document that
//! extracts merges back byte-exactly with unchanged segments; a pseudo-translation merges, and
//! the output extracts again as the same format (for self-describing input: UTF-8, a BOM, or a
//! format that declares its encoding; undeclared legacy text is re-detected statistically).
//!
//! Built only with the `fuzzing` feature (the fuzz crate enables it; so does this crate's
//! dev-dependency on itself, for the seed-replay tests).

// A failed check panics by design: that is how a fuzzer, and the seed-replay tests, report it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};

use crate::fuzzing::fuzz_limits;
use crate::{ExtractOptions, Format, FormatError, MergeOptions, detect, extract_as};

fn round_trip(format: Format, name: &str, data: &[u8], target: &str) {
    let options = ExtractOptions { limits: fuzz_limits(), ..ExtractOptions::default() };
    let Ok(doc) = extract_as(format, name, data, &options) else {
        return;
    };
    let merge = MergeOptions { target: LanguageTag::parse(target).expect("valid tag") };
    let identity = doc.merge_identity(&merge).expect("identity merge of an extracted document");
    assert!(identity == data, "{format:?}: identity merge changed the bytes");
    let pseudo: Vec<Content> = doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = match doc.merge(&pseudo, &merge) {
        Ok(out) => out,
        // A filter may refuse to write a translation it cannot write safely (the YAML check);
        // it must never write a broken file.
        Err(FormatError::Invalid(_)) if format == Format::Yaml => return,
        Err(e) => panic!("{format:?}: pseudo merge of an extracted document failed: {e}"),
    };
    // Undeclared legacy 8-bit text is decoded by statistical detection, which may judge the
    // changed text differently: re-extraction is required only for self-describing input.
    let self_describing = std::str::from_utf8(data).is_ok()
        || encoding_rs::Encoding::for_bom(data).is_some()
        || (matches!(format, Format::Xliff | Format::Html | Format::Xml)
            && crate::encoding::html_declared(data)
                .is_some_and(|l| crate::encoding::for_label(&l).is_some())
            // Known limit: a `<meta charset>` that the translated text pushes past the prescan
            // window is no longer seen on reading the output (legacy encodings only).
            && crate::encoding::html_declared(&out).is_some_and(|l| {
                crate::encoding::for_label(&l).is_some_and(|e| e.is_ascii_compatible())
            }))
        || (format == Format::Po && data.windows(8).any(|w| w == b"charset="));
    if !self_describing {
        return;
    }
    if let Err(e) = extract_as(format, name, &out, &options) {
        panic!("{format:?}: pseudo-translated output no longer extracts: {e}");
    }
}

/// Arbitrary bytes as XLIFF, as HTML/XHTML and as generic XML (ITS rules, built-in vocabularies).
pub fn xml_formats(data: &[u8]) {
    let _ = detect("fuzz.xlf", data);
    let _ = detect("fuzz.svg", data);
    round_trip(Format::Xliff, "fuzz.xlf", data, "fr");
    round_trip(Format::Html, "fuzz.html", data, "ar");
    round_trip(Format::Xml, "fuzz.xml", data, "fr");
}

/// Arbitrary bytes as every text-based format.
pub fn text_formats(data: &[u8]) {
    let _ = detect("fuzz.txt", data);
    for (format, name) in [
        (Format::Markdown, "fuzz.md"),
        (Format::PlainText, "fuzz.txt"),
        (Format::Po, "fuzz.po"),
        (Format::Json, "fuzz.json"),
        (Format::Yaml, "fuzz.yaml"),
        (Format::Srt, "fuzz.srt"),
        (Format::WebVtt, "fuzz.vtt"),
        (Format::JavaProperties, "fuzz.properties"),
        (Format::Csv, "fuzz.csv"),
        (Format::AppleStrings, "fuzz.strings"),
        (Format::XcStrings, "fuzz.xcstrings"),
    ] {
        round_trip(format, name, data, "fr");
    }
}
