//! Scenari archives built here: what is translated, what is copied, and hostile archives refused
//! with their exact error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Write};

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{
    ExtractOptions, Format, FormatError, Limits, MergeOptions, detect, extract, extract_path,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

const ITEM: &str = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:expUc><op:expUcM><sp:title>Clouds</sp:title></op:expUcM><sp:txt><op:txt><sc:para xml:space="preserve">Clouds are made of <sc:inlineStyle role="emp">water</sc:inlineStyle>.</sc:para></op:txt></sp:txt></op:expUc></sc:item>"#;
const QUIZ: &str = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:mcqSur><sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Is it wet?</sc:para></op:txt></sp:txt></op:res></sc:question><sc:solution choice="1"/></op:mcqSur></sc:item>"#;
const WSPMETA: &str = r#"<wspType key="Opale3-5" lang="fr-FR" version="3.5.005"/>"#;

fn opts() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

fn when() -> DateTime {
    DateTime::from_date_and_time(2014, 12, 21, 10, 30, 0).unwrap()
}

/// A small `.scar`: metadata first, a directory, items, a binary, unknown XML.
fn scar() -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let deflate = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(when());
    let stored = deflate.compression_method(CompressionMethod::Stored);
    w.start_file(".wspmeta", deflate).unwrap();
    w.write_all(WSPMETA.as_bytes()).unwrap();
    w.add_directory("&/", deflate).unwrap();
    w.start_file("&/qcu.quiz", stored).unwrap();
    w.write_all(QUIZ.as_bytes()).unwrap();
    w.start_file("grain é.xml", deflate).unwrap();
    w.write_all(ITEM.as_bytes()).unwrap();
    w.start_file("img.png/img.png", stored).unwrap();
    w.write_all(b"\x89PNG\r\n\x1a\n binary").unwrap();
    w.start_file("img.png/props.xml", deflate).unwrap();
    w.write_all(b"<imgProps standardCharSize=\"12\"/>").unwrap();
    w.start_file("~gen/index.html", deflate).unwrap();
    w.write_all(b"<html>generated</html>").unwrap();
    w.finish().unwrap().into_inner()
}

struct Entry {
    name: String,
    method: CompressionMethod,
    data: Vec<u8>,
    raw: Vec<u8>,
    modified: Option<DateTime>,
}

fn entries(bytes: &[u8]) -> Vec<Entry> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut raw = Vec::new();
            zip.by_index_raw(i).unwrap().read_to_end(&mut raw).unwrap();
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            Entry {
                name: f.name().unwrap().to_string(),
                method: f.compression(),
                data,
                raw,
                modified: f.last_modified(),
            }
        })
        .collect()
}

#[test]
fn archive_is_detected_and_only_items_are_translated() {
    let bytes = scar();
    assert_eq!(detect("export.scar", &bytes).unwrap(), Format::ScenariArchive);
    assert_eq!(detect("export.zip", &bytes).unwrap(), Format::ScenariArchive);
    let doc = extract("export.scar", &bytes, &ExtractOptions::default()).unwrap();
    let seen: Vec<(String, String)> =
        doc.segments.iter().map(|s| (s.location.clone(), s.content.render())).collect();
    assert_eq!(
        seen,
        [
            ("&/qcu.quiz › sc:para[1]".to_string(), "Is it wet?".to_string()),
            ("grain é.xml › sp:title[1]".to_string(), "Clouds".to_string()),
            (
                "grain é.xml › sc:para[1]".to_string(),
                "Clouds are made of <g1>water</g1>.".to_string()
            ),
        ]
    );
    assert_eq!(doc.merge_identity(&opts()).unwrap(), bytes, "identity is byte-exact");

    // Translate only the second item: the quiz entry must be copied raw.
    let mut translations: Vec<Content> = doc.segments.iter().map(|s| s.content.clone()).collect();
    translations[1] = pseudo_content(&translations[1]);
    translations[2] = Content::parse("Les nuages sont faits d'<g1>eau</g1>.").unwrap();
    let out = doc.merge(&translations, &opts()).unwrap();
    let before = entries(&bytes);
    let after = entries(&out);
    let names = |v: &[Entry]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&before), names(&after));
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.method, a.method, "{}", b.name);
        assert_eq!(b.modified, a.modified, "{}", b.name);
        if b.name == "grain é.xml" {
            let text = String::from_utf8(a.data.clone()).unwrap();
            assert!(text.contains("<sp:title>⟦Çlóúds⟧</sp:title>"), "{text}");
            assert!(text.contains(
                r#"<sc:para xml:space="preserve">Les nuages sont faits d'<sc:inlineStyle role="emp">eau</sc:inlineStyle>.</sc:para>"#
            ));
        } else {
            assert_eq!(b.data, a.data, "{} unchanged", b.name);
            assert_eq!(b.raw, a.raw, "{} compressed bytes reused", b.name);
        }
    }
}

#[test]
fn archive_read_from_a_file_merges_into_a_file_like_in_memory() {
    let bytes = scar();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.scar");
    std::fs::write(&input, &bytes).unwrap();
    let options = ExtractOptions::default();
    let doc = extract_path("export.scar", &input, &options).unwrap();
    let in_memory = extract("export.scar", &bytes, &options).unwrap();
    assert_eq!(doc.format, Format::ScenariArchive);
    assert_eq!(doc.segments, in_memory.segments);

    // Identity: the file comes back byte for byte.
    let output = dir.path().join("identity.scar");
    let sources: Vec<Content> = doc.segments.iter().map(|s| s.content.clone()).collect();
    doc.merge_to_path(&sources, &opts(), &output).unwrap();
    assert_eq!(std::fs::read(&output).unwrap(), bytes);

    // A translation streams the untouched entries and writes what the in-memory merge writes.
    let mut translations = sources.clone();
    translations[1] = pseudo_content(&translations[1]);
    let output = dir.path().join("translated.scar");
    doc.merge_to_path(&translations, &opts(), &output).unwrap();
    let streamed = std::fs::read(&output).unwrap();
    assert_eq!(streamed, in_memory.merge(&translations, &opts()).unwrap());
    assert_eq!(doc.merge(&translations, &opts()).unwrap(), streamed);
    let text = String::from_utf8(entries(&streamed)[3].data.clone()).unwrap();
    assert!(text.contains("<sp:title>⟦Çlóúds⟧</sp:title>"), "{text}");

    // A bad translation is refused before anything is written.
    let missing = dir.path().join("missing.scar");
    assert!(doc.merge_to_path(&translations[..1], &opts(), &missing).is_err());
    assert!(!missing.exists());
}

#[test]
fn archive_read_from_a_file_holds_parsed_entries_to_the_parsing_limits_only() {
    let mut padded = ITEM.to_string();
    padded.push_str(&" ".repeat(200_000));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.scar");
    std::fs::write(&input, zip_with("big.xml", padded.as_bytes())).unwrap();
    let limits = Limits { max_entry_bytes: 100_000, ..Limits::default() };
    let options = ExtractOptions { limits, ..ExtractOptions::default() };
    match extract_path("big.scar", &input, &options).unwrap_err() {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("entry size", 100_000));
        }
        other => panic!("{other:?}"),
    }
    // The same size in an entry that is only copied is within the (larger) copy limit…
    let video = vec![0x5a_u8; padded.len()];
    std::fs::write(&input, zip_with("video.mp4", &video)).unwrap();
    let doc = extract_path("big.scar", &input, &options).unwrap();
    assert!(doc.segments.is_empty());
    // …which is configurable too.
    let limits = Limits { max_copied_entry_bytes: 100_000, ..limits };
    let options = ExtractOptions { limits, ..ExtractOptions::default() };
    match extract_path("big.scar", &input, &options).unwrap_err() {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("copied entry size", 100_000));
        }
        other => panic!("{other:?}"),
    }
}

fn zip_with(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file(".wspmeta", SimpleFileOptions::default()).unwrap();
    w.write_all(WSPMETA.as_bytes()).unwrap();
    w.start_file(name, SimpleFileOptions::default()).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

fn extract_err(bytes: &[u8], limits: Limits) -> FormatError {
    extract("hostile.scar", bytes, &ExtractOptions { limits, ..ExtractOptions::default() })
        .unwrap_err()
}

#[test]
fn entry_names_climbing_out_are_refused() {
    for name in ["../../etc/cron.d/x.xml", "/abs/item.xml", "a/../../b.quiz"] {
        match extract_err(&zip_with(name, ITEM.as_bytes()), Limits::default()) {
            FormatError::UnsafeEntryName { name: got } => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn malformed_entry_fails_the_document_naming_entry_and_offset() {
    let broken = ITEM.replace("</sc:inlineStyle>", "</sc:phrase>");
    let at = broken.find("</sc:phrase>").unwrap() as u64;
    match extract_err(&zip_with("&/broken.xml", broken.as_bytes()), Limits::default()) {
        FormatError::Malformed { part, offset, message } => {
            assert_eq!(part, "&/broken.xml");
            assert_eq!(offset, at);
            assert!(message.contains("expected </sc:inlineStyle>"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn doctype_in_an_entry_is_refused() {
    let evil = ITEM.replace(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE sc:item [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
    );
    match extract_err(&zip_with("evil.xml", evil.as_bytes()), Limits::default()) {
        FormatError::Doctype { part } => assert_eq!(part, "evil.xml"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bombs_and_entry_counts_hit_the_configured_limits() {
    let mut padded = ITEM.to_string();
    padded.push_str(&" ".repeat(200_000));
    let limits = Limits { max_entry_bytes: 100_000, ..Limits::default() };
    match extract_err(&zip_with("big.xml", padded.as_bytes()), limits) {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("entry size", 100_000));
        }
        other => panic!("{other:?}"),
    }
    let limits = Limits { max_total_bytes: 150_000, ..Limits::default() };
    match extract_err(&zip_with("big.xml", padded.as_bytes()), limits) {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("total size", 150_000));
        }
        other => panic!("{other:?}"),
    }
    let limits = Limits { max_entries: 1, ..Limits::default() };
    match extract_err(&zip_with("a.xml", ITEM.as_bytes()), limits) {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("entries", 1))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_files_name_the_supported_formats() {
    let err =
        extract("photo.bin", b"\x89PNG\r\n\x1a\n\x00\x00", &ExtractOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_format");
    let message = err.to_string();
    assert!(message.starts_with("photo.bin: unsupported format; supported: "), "{message}");
    assert!(message.contains("Scenari archive (.scar)"), "{message}");
}
