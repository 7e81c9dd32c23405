//! Office packages read from and merged into files ([`tradia_formats::extract_path`],
//! [`Document::merge_to_path`]): the same segments and outputs as in memory, identity byte-exact,
//! and large media only copied (issue 13, point 6).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod office_common;

use std::io::{Cursor, Write};
use std::path::Path;

use tradia_core::LanguageTag;
use tradia_core::pseudo::pseudo_content;
use tradia_formats::{
    Document, ExtractOptions, Format, FormatError, Limits, MergeOptions, extract, extract_path,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CT: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="mp4" ContentType="video/mp4"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>La vidéo montre le cycle de l'eau.</w:t></w:r></w:p></w:body></w:document>"#;

fn options() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("en").unwrap() }
}

/// A DOCX with a stored video of `video` bytes.
fn docx_with_video(video: usize) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", deflated).unwrap();
    w.write_all(CT.as_bytes()).unwrap();
    w.start_file("word/document.xml", deflated).unwrap();
    w.write_all(DOCUMENT.as_bytes()).unwrap();
    w.start_file("word/media/video.mp4", deflated.compression_method(CompressionMethod::Stored))
        .unwrap();
    w.write_all(&vec![0x42; video]).unwrap();
    w.finish().unwrap().into_inner()
}

/// Extracts `bytes` both ways and checks that they agree: segments, identity (byte-exact) and a
/// pseudo-translation's output.
fn same_both_ways(name: &str, bytes: &[u8], extract_options: &ExtractOptions) -> Document {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).unwrap();
    let from_file = extract_path(name, &input, extract_options).unwrap();
    let in_memory = extract(name, bytes, extract_options).unwrap();
    assert_eq!(from_file.format, in_memory.format, "{name}");
    assert_eq!(from_file.segments, in_memory.segments, "{name}");
    let output = dir.path().join("identity");
    let sources: Vec<_> = from_file.segments.iter().map(|s| s.content.clone()).collect();
    from_file.merge_to_path(&sources, &options(), &output).unwrap();
    assert!(std::fs::read(&output).unwrap() == bytes, "{name}: identity is byte-exact");
    let pseudo: Vec<_> = sources.iter().map(pseudo_content).collect();
    let output = dir.path().join("pseudo");
    from_file.merge_to_path(&pseudo, &options(), &output).unwrap();
    let expected = in_memory.merge(&pseudo, &options()).unwrap();
    assert!(std::fs::read(&output).unwrap() == expected, "{name}: same output as in memory");
    from_file
}

#[test]
fn a_docx_with_a_video_over_the_parsing_limit_is_translated_and_the_video_copied() {
    let bytes = docx_with_video(3_000_000);
    let limits =
        Limits { max_entry_bytes: 1_000_000, max_total_bytes: 1_000_000, ..Limits::default() };
    let extract_options = ExtractOptions { limits, ..ExtractOptions::default() };
    let doc = same_both_ways("film.docx", &bytes, &extract_options);
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(doc.segments.len(), 1);
    // The copy limit still holds the video.
    let limits = Limits { max_copied_entry_bytes: 2_000_000, ..limits };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("film.docx");
    std::fs::write(&input, &bytes).unwrap();
    let options = ExtractOptions { limits, ..ExtractOptions::default() };
    match extract_path("film.docx", &input, &options).unwrap_err() {
        FormatError::LimitExceeded { what, limit } => {
            assert_eq!((what.as_str(), limit), ("copied entry size", 2_000_000));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn corpus_office_files_read_from_files_agree_with_memory() {
    let Some(files) = office_common::corpus_files("office_files") else { return };
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = file_name(&path);
        same_both_ways(&name, &bytes, &ExtractOptions::default());
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}
