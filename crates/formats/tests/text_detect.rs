//! Format detection by content for the text-based families; the file name only breaks ties.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradia_formats::{ExtractOptions, Format, detect, extract};

#[test]
fn content_decides_and_name_breaks_ties() {
    let md = b"# Title\n\nSome *text* and a [link](http://x).\n\n```\ncode\n```\n";
    assert_eq!(detect("notes.md", md).unwrap(), Format::Markdown);
    assert_eq!(detect("notes.txt", md).unwrap(), Format::PlainText);
    assert_eq!(detect("notes", md).unwrap(), Format::Markdown);
    assert_eq!(detect("a.txt", b"Just words.\n\nMore words.\n").unwrap(), Format::PlainText);
    assert_eq!(detect("x", b"{\"a\": \"b\"}").unwrap(), Format::Json);
    assert_eq!(detect("fr.yml", b"fr:\n  hello: Bonjour\n").unwrap(), Format::Yaml);
    assert_eq!(detect("x", b"fr:\n  a: b\n  c: d\n  e: f\n").unwrap(), Format::Yaml);
    assert_eq!(detect("x", b"1\n00:00:01,000 --> 00:00:02,000\nHi\n").unwrap(), Format::Srt);
    assert_eq!(
        detect("x.txt", b"WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n").unwrap(),
        Format::WebVtt
    );
    assert_eq!(detect("x", b"msgid \"a\"\nmsgstr \"\"\n").unwrap(), Format::Po);
    assert_eq!(detect("x", b"<xliff version=\"1.2\"><file/></xliff>").unwrap(), Format::Xliff);
    assert_eq!(detect("x", b"<!DOCTYPE html><p>Hi</p>").unwrap(), Format::Html);
}

#[test]
fn undecidable_encoding_is_refused_naming_the_file() {
    // Invalid UTF-8, nothing declared, and NUL bytes: neither text nor any known encoding.
    let bytes = b"1\n00:00:01,000 --> 00:00:02,000\n\xff\x00\xfe\x00\xc3\x28\n";
    let err = extract("broken.srt", bytes, &ExtractOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unknown_encoding", "{err}");
    assert!(err.to_string().contains("broken.srt"), "{err}");
}

#[test]
fn malformed_catalogues_are_refused_with_a_position() {
    let err = tradia_formats::extract_as(
        Format::Json,
        "a.json",
        b"{\"a\": \"b\",}",
        &ExtractOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "malformed_document");
    let err = tradia_formats::extract_as(
        Format::Po,
        "a.po",
        b"msgid \"a\nmsgstr \"\"\n",
        &ExtractOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "malformed_document", "{err}");
}

#[test]
fn a_zip_format_name_on_bytes_that_are_not_a_zip_is_a_damaged_document() {
    let error = tradia_formats::detect("rapport.docx", b"not a zip at all").unwrap_err();
    assert_eq!(error.code(), "malformed_document");
    assert!(error.to_string().contains("rapport.docx"), "{error}");
    assert_eq!(
        tradia_formats::detect("notes.txt", b"not a zip at all").unwrap(),
        tradia_formats::Format::PlainText
    );
}
